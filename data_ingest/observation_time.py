"""When an image was taken, as ObsCore's t_min and t_max (MJD), from the header's time keywords:
MJD-OBS or DATE-OBS for the start, MJD-END, DATE-END or the exposure time for the end.

Dates are turned into MJD in the header's own time scale (TIMESYS), as MJD-OBS is taken as it is.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Protocol

_MJD_ZERO = datetime(1858, 11, 17)


class Header(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...


def mjd_from_date(value: object, time_of_day: object = None) -> float | None:
    """An ISO 8601 date (FITS DATE-OBS form, 'YYYY-MM-DD[Thh:mm:ss[.s]]') as an MJD; None if it is
    not one. ``time_of_day`` completes a date without a time (the older TIME-OBS convention)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().removesuffix("Z")
    if "T" not in text and isinstance(time_of_day, str) and time_of_day.strip():
        text = f"{text}T{time_of_day.strip()}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:  # FITS dates carry no zone; one that does is read as written
        moment = moment.replace(tzinfo=None)
    return (moment - _MJD_ZERO).total_seconds() / 86400.0


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def observation_time(header: Header, exptime: float | None) -> tuple[float | None, float | None]:
    """(t_min, t_max) in MJD; either is None when the header does not say."""
    t_min = _number(header.get("MJD-OBS"))
    if t_min is None:
        t_min = mjd_from_date(header.get("DATE-OBS"), header.get("TIME-OBS"))
    t_max = _number(header.get("MJD-END"))
    if t_max is None:
        t_max = mjd_from_date(header.get("DATE-END"), header.get("TIME-END"))
    if t_max is None and t_min is not None and exptime is not None:
        t_max = t_min + exptime / 86400.0
    return t_min, t_max
