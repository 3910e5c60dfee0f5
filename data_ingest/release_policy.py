"""When an ingested image becomes public, and which proposal it belongs to: the operator's policy
for its collection (an instrument profile's ``release:``), or the ingest run's overrides
(``--release-date``, ``--proposal``).

The release date is the observation's start (MJD-OBS or DATE-OBS) plus the proprietary period
in months (Subaru: 18); the default period is 0, so an image is public at once, as before
accounts existed. An image without an observation time is public from its ingest when the
period is 0, and proprietary with no date (NULL, ObsCore 1.1 sec. B.4.5) otherwise, until the
operator gives one with ``--release-date``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from archive_io.release import data_rights

_MJD_ZERO = datetime(1858, 11, 17, tzinfo=UTC)


class Header(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...


@dataclass(frozen=True)
class ReleasePolicy:
    """A collection's rule: its images are proprietary for ``proprietary_months`` after they
    were taken; the header keyword ``proposal_keyword`` names their proposal."""

    proprietary_months: int = 0
    proposal_keyword: str | None = None


@dataclass(frozen=True)
class ReleaseOverride:
    """What an ingest run sets for every image it writes, whatever the policy says."""

    release_date: datetime | None = None
    proposal: str | None = None


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` ``months`` calendar months later (the 31st becomes the month's last day)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def datetime_from_mjd(mjd: float) -> datetime:
    return _MJD_ZERO + timedelta(days=mjd)


def release_columns(
    policy: ReleasePolicy, override: ReleaseOverride, t_min: float | None, header: Header, now: datetime
) -> dict[str, Any]:
    """``obs_release_date``, ``data_rights`` and ``proposal_id`` of an image taken at ``t_min``
    (MJD; None: unknown) with ``header``, ingested ``now``."""
    release: datetime | None
    if override.release_date is not None:
        release = override.release_date
    elif t_min is not None:
        release = add_months(datetime_from_mjd(t_min), policy.proprietary_months)
    elif policy.proprietary_months == 0:
        release = now
    else:
        release = None
    proposal = override.proposal
    if proposal is None and policy.proposal_keyword:
        value = header.get(policy.proposal_keyword)
        proposal = str(value).strip() if value is not None and str(value).strip() else None
    return {"obs_release_date": release, "data_rights": data_rights(release, now), "proposal_id": proposal}
