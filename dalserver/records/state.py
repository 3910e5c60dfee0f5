"""The archive as the registry records describe it, read in one go: the published tables
(TAP_SCHEMA), the ObsCore collections with their facilities and instruments, and each resource's
dates and coverage (``registry.resource_state``, written by the ingest)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from archive_io.registry_state import SERVICES, collection_state_key
from archive_io.release import released_sql
from archive_io.tap_schema import read_tap_schema
from dalserver.access.identity import ANONYMOUS
from dalserver.access.store import RESTRICTED
from dalserver.access.visibility import tableset_for
from dalserver.records.remote_cache import RemoteCache, read_remote_cache
from schemas.tableset import Tableset, TapTable


@dataclass(frozen=True)
class ResourceState:
    key: str
    created: datetime
    updated: datetime
    deleted: bool = False
    moc: str | None = None  # ASCII MOC at the registry's order (6); /moc reads the full one
    t_min: float | None = None
    t_max: float | None = None
    em_min: float | None = None
    em_max: float | None = None
    row_count: int | None = None
    position: tuple[str, str] | None = None


@dataclass(frozen=True)
class Collection:
    name: str  # obs_collection
    facilities: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    product_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArchiveState:
    resources: dict[str, ResourceState]
    collections: dict[str, Collection]
    tap_schema: Tableset = field(default_factory=Tableset)  # the published tables
    read_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    remote: RemoteCache | None = None  # the VO crawler's cache, once it has stored anything

    def resource(self, key: str) -> ResourceState:
        """The state row of ``key``; one the ingest has not written yet dates from now."""
        found = self.resources.get(key)
        if found is not None:
            return found
        now = self.read_at.replace(microsecond=0)
        return ResourceState(key, now, now)

    def table(self, qualified_name: str) -> TapTable | None:
        return self.tap_schema.table(qualified_name)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


async def read_state(pool: AsyncConnectionPool) -> ArchiveState:
    # What anybody may see: no table restricted to a group, no collection of proprietary rows alone.
    tap_schema = tableset_for(await read_tap_schema(pool), ANONYMOUS, await _restricted_tables(pool))
    async with pool.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        rows = await (
            await cur.execute(
                "SELECT resource_key, created, updated, deleted, registry_moc, t_min, t_max, em_min, em_max, row_count, "
                "position FROM registry.resource_state ORDER BY resource_key"
            )
        ).fetchall()
        groups = await (
            await cur.execute(
                "SELECT obs_collection, array_remove(array_agg(DISTINCT facility_name), NULL) AS facilities, "
                "array_remove(array_agg(DISTINCT instrument_name), NULL) AS instruments, "
                "array_remove(array_agg(DISTINCT dataproduct_type), NULL) AS product_types "
                f"FROM ivoa.obscore WHERE {released_sql()} GROUP BY obs_collection ORDER BY obs_collection"
            )
        ).fetchall()
        remote = await read_remote_cache(cur)
        await conn.rollback()
    resources = {
        r["resource_key"]: ResourceState(
            r["resource_key"],
            _utc(r["created"]),
            _utc(r["updated"]),
            r["deleted"],
            r["registry_moc"],
            r["t_min"],
            r["t_max"],
            r["em_min"],
            r["em_max"],
            r["row_count"],
            (r["position"][0], r["position"][1]) if r["position"] else None,
        )
        for r in rows
    }
    collections = {
        g["obs_collection"]: Collection(
            g["obs_collection"], tuple(g["facilities"]), tuple(g["instruments"]), tuple(g["product_types"])
        )
        for g in groups
    }
    return ArchiveState(resources, collections, tap_schema, remote=remote)


async def _restricted_tables(pool: AsyncConnectionPool) -> dict[str, str]:
    async with pool.connection() as conn:
        rows = await (await conn.execute(RESTRICTED)).fetchall()
        await conn.rollback()
    return {table.lower(): group for table, group in rows}


async def ensure_service_rows(pool: AsyncConnectionPool) -> None:
    """Give the services' records their creation date the first time a server runs on the archive,
    and so the records of ObsCore collections no ingest wrote a row for (rows put in with SQL):
    without a row, such a record would be dated by whenever it is built, a new date at every read."""
    async with pool.connection() as conn:
        async with conn.cursor() as cur:
            await cur.execute("SELECT pg_advisory_xact_lock(hashtext('dalserver.registry'))")
            for key in SERVICES:
                await cur.execute(
                    "INSERT INTO registry.resource_state (resource_key, created, updated, deleted) "
                    "VALUES (%s, date_trunc('second', now()), date_trunc('second', now()), false) "
                    "ON CONFLICT (resource_key) DO NOTHING",
                    (key,),
                )
            await cur.execute(
                "INSERT INTO registry.resource_state (resource_key, created, updated, deleted) "
                "SELECT DISTINCT %s || obs_collection, date_trunc('second', now()), date_trunc('second', now()), false "
                f"FROM ivoa.obscore WHERE obs_collection IS NOT NULL AND {released_sql()} "
                "ON CONFLICT (resource_key) DO NOTHING",
                (collection_state_key(""),),
            )
        await conn.commit()


async def read_full_mocs(pool: AsyncConnectionPool, keys: list[str]) -> list[str]:
    """The full-order ASCII MOCs of these resources (those that have one and are not deleted)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT moc FROM registry.resource_state WHERE resource_key = ANY(%s) AND moc IS NOT NULL AND NOT deleted",
            (keys,),
        )
        found = [text for (text,) in await cur.fetchall()]
        await conn.rollback()
    return found
