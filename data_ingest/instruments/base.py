"""The shape of an instrument profile."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    instrume: str  # the FITS INSTRUME value (any spelling with the same instrument_key matches)
    instrument_name: str  # ObsCore instrument_name
    facility_name: str  # ObsCore facility_name
    collection: str  # ObsCore obs_collection
    filter_keyword: str
    filters: dict[str, Filter] = field(default_factory=dict)

    def filter(self, name: str | None) -> Filter | None:
        if not name:
            return None
        return self.filters.get(name.strip().upper())
