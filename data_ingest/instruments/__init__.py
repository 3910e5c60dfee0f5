"""Instrument profiles: what an instrument's header values mean physically (filters → wavelengths)."""

from __future__ import annotations

from data_ingest.instruments.base import Filter, InstrumentProfile, instrument_key
from data_ingest.instruments.suprimecam import SUPRIMECAM

PROFILES: dict[str, InstrumentProfile] = {instrument_key(p.instrume): p for p in (SUPRIMECAM,)}
# Where a header names its filter when no profile says: the keywords instruments commonly use.
FILTER_KEYWORDS = ("FILTER", "FILTER01", "FILTNAME")


def profile_for(instrume: object) -> InstrumentProfile | None:
    """The profile for a FITS INSTRUME value (in any of its spellings), or None when unknown."""
    if not instrume or not isinstance(instrume, str):
        return None
    return PROFILES.get(instrument_key(instrume))


__all__ = ["FILTER_KEYWORDS", "Filter", "InstrumentProfile", "PROFILES", "instrument_key", "profile_for"]
