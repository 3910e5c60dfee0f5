"""The shape of an instrument profile: what an instrument's header values mean for ObsCore."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from data_ingest.release_policy import ReleasePolicy

# Where a header names its filter when its profile does not say: the keywords instruments commonly use.
FILTER_KEYWORDS = ("FILTER", "FILTER01", "FILTNAME")


@dataclass(frozen=True)
class Filter:
    name: str
    em_min: float  # metres, vacuum wavelength at the blue half-maximum
    em_max: float  # metres, at the red half-maximum

    @property
    def centre(self) -> float:
        return (self.em_min + self.em_max) / 2

    @property
    def resolving_power(self) -> float:
        return self.centre / (self.em_max - self.em_min)


def instrument_key(instrume: str) -> str:
    """An INSTRUME value with case, blanks, hyphens and underscores taken out: the spellings one
    instrument's headers really carry (Subaru writes 'SuprimeCam', others 'Suprime-Cam') meet."""
    return "".join(ch for ch in instrume.upper() if ch.isalnum())


@dataclass(frozen=True)
class InstrumentProfile:
    instrument_name: str  # ObsCore instrument_name, as published
    facility_name: str  # ObsCore facility_name, as published
    collection: str  # ObsCore obs_collection
    filters: dict[str, Filter] = field(default_factory=dict)  # keyed by the name in upper case
    filter_keywords: tuple[str, ...] = FILTER_KEYWORDS  # the first one set names the filter
    # Other spellings of the names, as headers write them; users may search SIA by them.
    instrument_spellings: tuple[str, ...] = ()
    facility_spellings: tuple[str, ...] = ()
    source: Path | None = None  # the file the profile was read from
    release: ReleasePolicy = ReleasePolicy()  # when the collection's images become public, their proposal

    def filter(self, name: str | None) -> Filter | None:
        if not name:
            return None
        return self.filters.get(name.strip().upper())

    @property
    def keys(self) -> frozenset[str]:
        """The instrument_key of every INSTRUME value this profile describes."""
        return frozenset(instrument_key(s) for s in (self.instrument_name, *self.instrument_spellings))
