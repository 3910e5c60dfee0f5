"""The registry records of the VO crawler's cache (vo.remote_obscore, vo.remote_coverage): a
``vs:CatalogResource`` with an ``IsDerivedFrom`` relationship to every service whose rows it
holds, served by this archive's TAP service and by its federated image search (SIA 2.0, a
``vs:CatalogService`` of its own, at /federated/sia).

It deliberately carries no ObsCore table utype (the tables have none): a client discovering
ObsCore services in the registry (pyvo.discover) must not find the cache and get every remote
row a second time. Its dates are the crawler's (crawl.service: when rows were first stored, when
they last changed), so its OAI-PMH datestamp moves only when the cache's content does; once a
cache that had sources has none, its record stays in the feed as deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

REMOTE_CACHE = "table:vo.remote_obscore"
FEDERATED_SIA = "service:federated/sia"  # ivo://AUTHORITY/federated/sia
CACHE_TABLES = ("vo.remote_obscore", "vo.remote_coverage")


@dataclass(frozen=True)
class RemoteSource:
    ivoid: str
    title: str | None
    rows: int
    moc: str | None  # ASCII MOC of the rows' positions, order 6
    t_min: float | None = None
    t_max: float | None = None
    em_min: float | None = None
    em_max: float | None = None


@dataclass(frozen=True)
class RemoteCache:
    """What the crawler has stored: sources with rows, and when that began and last changed."""

    sources: tuple[RemoteSource, ...]
    created: datetime
    updated: datetime

    @property
    def active(self) -> bool:
        return any(s.rows > 0 for s in self.sources)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.sources)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


async def read_remote_cache(cur: Any) -> RemoteCache | None:
    """The cache's state from crawl.service (an async psycopg cursor); None if the crawler never
    stored anything."""
    rows = await (
        await cur.execute(
            "SELECT ivoid, title, row_count, CAST(coverage AS text) AS moc, t_min, t_max, em_min, em_max, "
            "first_stored, changed FROM crawl.service WHERE first_stored IS NOT NULL ORDER BY ivoid"
        )
    ).fetchall()
    if not rows:
        return None
    sources = tuple(
        RemoteSource(r["ivoid"], r["title"], r["row_count"], r["moc"], r["t_min"], r["t_max"], r["em_min"], r["em_max"])
        for r in rows
        if r["row_count"] > 0
    )
    created = min(r["first_stored"] for r in rows)
    updated = max(r["changed"] or r["first_stored"] for r in rows)
    return RemoteCache(sources, _utc(created), _utc(updated))
