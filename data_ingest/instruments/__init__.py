"""Instrument profiles: what an instrument's header values mean physically (filters → wavelengths)."""

from __future__ import annotations

from data_ingest.instruments.base import Filter, InstrumentProfile
from data_ingest.instruments.suprimecam import SUPRIMECAM

PROFILES: dict[str, InstrumentProfile] = {SUPRIMECAM.instrume.upper(): SUPRIMECAM}


def profile_for(instrume: str | None) -> InstrumentProfile | None:
    """The profile for a FITS INSTRUME value, or None when the instrument is unknown."""
    if not instrume:
        return None
    return PROFILES.get(instrume.strip().upper())


__all__ = ["Filter", "InstrumentProfile", "PROFILES", "profile_for"]
