"""What an ingested image lacks that users will miss: an instrument profile (so no wavelength
range and SIA's BAND does not find it), a filter name, an observation time (SIA's TIME). The
image is ingested all the same; the operator is told what is missing and what follows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from data_ingest.instruments import InstrumentProfile


class Missing(Enum):
    PROFILE = "no instrument profile"
    FILTER = "no filter name"
    TIME = "no observation time"

    def headline(self, count: int) -> str:
        """What ``count`` images lack, and what follows for the people searching the archive."""
        images = "1 image has" if count == 1 else f"{count} images have"
        them = "it" if count == 1 else "them"
        if self is Missing.PROFILE:
            return (
                f"{images} no instrument profile: facility and collection come from the header (TELESCOP, INSTRUME), "
                f"and without a wavelength range (em_min, em_max) SIA BAND searches will not find {them}; "
                "describe the instrument in a site profile, $DALSERVER_HOME/instruments/<name>.yaml"
            )
        if self is Missing.FILTER:
            return (
                f"{images} no filter name in the header (the profile's filter keywords): "
                f"without a wavelength range (em_min, em_max) SIA BAND searches will not find {them}"
            )
        return (
            f"{images} no observation time (no MJD-OBS, no readable DATE-OBS): "
            f"without t_min and t_max SIA TIME searches will not find {them}"
        )


@dataclass(frozen=True)
class ImageWarning:
    missing: Missing
    detail: str  # the file and the header values concerned, one line


def image_warnings(
    path: Path, row: dict[str, Any], values: dict[str, Any], profile: InstrumentProfile | None
) -> list[ImageWarning]:
    """The warnings for one image described as ``row`` from the header ``values``."""
    found = []
    if profile is None:
        instrume = values.get("INSTRUME")
        named = f"INSTRUME {instrume!r}" if instrume else "no INSTRUME"
        band = row.get("em_band_name")
        found.append(ImageWarning(Missing.PROFILE, f"{path}: {named}, filter {band!r}" if band else f"{path}: {named}"))
    elif row.get("em_min") is None:
        keywords = ", ".join(profile.filter_keywords)
        found.append(ImageWarning(Missing.FILTER, f"{path}: {profile.instrument_name}, none of {keywords} is set"))
    if row.get("t_min") is None:
        date = values.get("DATE-OBS")
        why = f"DATE-OBS {date!r} is not an ISO 8601 date" if date is not None else "neither MJD-OBS nor DATE-OBS"
        found.append(ImageWarning(Missing.TIME, f"{path}: {why}"))
    return found
