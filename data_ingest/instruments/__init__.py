"""Instrument profiles: what an instrument's header values mean physically (filters → wavelengths).

Every profile is a YAML file read by one loader (profile_file.py): those dalserver ships, in this
folder (Suprime-Cam), and a site's own in ``$DALSERVER_HOME/instruments/*.yaml``. A site's profile
replaces a shipped one for the INSTRUME spellings both describe.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from data_ingest.instruments.base import FILTER_KEYWORDS, Filter, InstrumentProfile, instrument_key
from data_ingest.instruments.profile_file import ProfileError, load_profile

SHIPPED_DIR = Path(__file__).resolve().parent
PROFILE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class InstrumentProfiles:
    """The profiles an ingest uses, found by INSTRUME value in any of its spellings."""

    by_key: dict[str, InstrumentProfile] = field(default_factory=dict)

    def profile_for(self, instrume: object) -> InstrumentProfile | None:
        """The profile for a FITS INSTRUME value, or None when unknown."""
        if not instrume or not isinstance(instrume, str):
            return None
        return self.by_key.get(instrument_key(instrume))

    def __iter__(self) -> Iterator[InstrumentProfile]:
        unique = {id(p): p for p in self.by_key.values()}  # a profile is there once per spelling
        return iter(unique.values())


def profile_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in PROFILE_SUFFIXES)


def _layer(files: Iterable[Path]) -> dict[str, InstrumentProfile]:
    """One folder's profiles by key; two of them claiming one INSTRUME spelling is an error."""
    found: dict[str, InstrumentProfile] = {}
    for path in files:
        profile = load_profile(path)
        for key in sorted(profile.keys):
            if key in found:
                raise ProfileError(
                    f"{path}: instrument: {profile.instrument_name!r} has a spelling of {found[key].instrument_name!r}, "
                    f"which {found[key].source} describes already (spellings match ignoring case, blanks, hyphens)"
                )
            found[key] = profile
    return found


def load_profiles(site_dirs: Iterable[Path] = ()) -> InstrumentProfiles:
    """The shipped profiles, then each site folder's, a later one replacing an earlier for the
    spellings it describes. ``ProfileError`` names the file and key of the first mistake."""
    by_key = dict(shipped_profiles().by_key)
    for directory in site_dirs:
        by_key.update(_layer(profile_files(directory)))
    return InstrumentProfiles(by_key)


@cache
def shipped_profiles() -> InstrumentProfiles:
    """The profiles dalserver ships (package data beside this module)."""
    return InstrumentProfiles(_layer(profile_files(SHIPPED_DIR)))


def shipped_profile(instrume: str) -> InstrumentProfile:
    """A shipped profile by INSTRUME value (KeyError if none): for the sample and its tests."""
    profile = shipped_profiles().profile_for(instrume)
    if profile is None:
        raise KeyError(instrume)
    return profile


__all__ = [
    "FILTER_KEYWORDS",
    "Filter",
    "InstrumentProfile",
    "InstrumentProfiles",
    "ProfileError",
    "instrument_key",
    "load_profiles",
    "shipped_profile",
    "shipped_profiles",
]
