"""What the registry records are made of besides TAP_SCHEMA: each published resource's dates and
coverage, in ``registry.resource_state`` (schemas/registry.yaml), written by the ingest and the
drop in their own transaction, so a record changes exactly when its data does, and read by the
server's records (``dalserver.records``). Each row is named by a state key: ``collection:<name>``,
``catalog:<schema.table>`` or one of the services' (``SERVICES``); not to be confused with a
collection's key in IVOIDs and URLs (``archive_io.identifiers.collection_key``).

A row's ``updated`` moves (to the second, UTC) only when what its record says changes: the
coverage, time or wavelength range, or row count of a collection or catalogue; the services
and the ObsCore table whenever one of theirs changes. Re-ingesting the same files changes
nothing. A dropped catalogue's row stays, marked deleted, so that harvesters learn of it, and so
does the row of a collection whose last images were retracted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Protocol

from archive_io.coverage import (
    DEFAULT_ORDER,
    REGISTRY_ORDER,
    cells_moc,
    degraded,
    footprints_moc,
    moc_to_ascii,
)
from archive_io.release import released_sql
from pgsql_text.healpix_cells import healpix_cell_sql
from pgsql_text.pgsphere import spoly_vertices
from pgsql_text.quoting import quote_ident
from pgsql_text.session import SPHERE_OUTPUT_DEGREES
from schemas.model import TableDef

AUTHORITY = "authority"
REGISTRY = "registry"
TAP = "service:tap"
SIA = "service:sia"
OBSCORE = "table:ivoa.obscore"
SERVICES = (AUTHORITY, REGISTRY, TAP, SIA, OBSCORE)
_FIELDS = ("moc", "registry_moc", "t_min", "t_max", "em_min", "em_max", "row_count", "position")
NOW = "date_trunc('second', now())"


class Executes(Protocol):
    """A psycopg connection or cursor: both run a statement and hand back its rows."""

    def execute(self, query: Any, params: Any = ..., /) -> Any: ...


def collection_state_key(obs_collection: str) -> str:
    """The state row of an ObsCore collection (its name as ObsCore has it)."""
    return f"collection:{obs_collection}"


def catalog_state_key(qualified_name: str) -> str:
    """The state row of a published catalogue (``schema.table``)."""
    return f"catalog:{qualified_name}"


def ensure_services(db: Executes) -> None:
    """The rows of the records every archive has (the authority, the registry, TAP, SIA, ObsCore):
    created the first time, left alone after."""
    for key in SERVICES:
        db.execute(
            f"INSERT INTO registry.resource_state (resource_key, created, updated, deleted) "
            f"VALUES (%s, {NOW}, {NOW}, false) ON CONFLICT (resource_key) DO NOTHING",
            (key,),
        )


def _write(db: Executes, key: str, values: dict[str, Any], deleted: bool = False) -> bool:
    """Upsert one row; ``updated`` moves only when a value (or the deletion) changed. Whether it did."""
    row = db.execute(
        f"SELECT deleted, {', '.join(_FIELDS)} FROM registry.resource_state WHERE resource_key = %s", (key,)
    ).fetchone()
    new = [values.get(f) for f in _FIELDS]
    if row is not None:
        old = list(row[1:])
        old[_FIELDS.index("position")] = json.dumps(old[_FIELDS.index("position")]) if row[-1] is not None else None
        if row[0] == deleted and old == new:
            return False
    names = ", ".join(_FIELDS)
    placeholders = ", ".join("%s::jsonb" if f == "position" else "%s" for f in _FIELDS)
    updates = ", ".join(f"{f} = EXCLUDED.{f}" for f in _FIELDS)
    db.execute(
        f"INSERT INTO registry.resource_state (resource_key, created, updated, deleted, {names}) "
        f"VALUES (%s, {NOW}, {NOW}, %s, {placeholders}) ON CONFLICT (resource_key) DO UPDATE SET "
        f"updated = EXCLUDED.updated, deleted = EXCLUDED.deleted, {updates}",
        (key, deleted, *new),
    )
    return True


def _touch(db: Executes, keys: Iterable[str]) -> None:
    ensure_services(db)
    for key in keys:
        db.execute(
            f"UPDATE registry.resource_state SET updated = {NOW}, deleted = false WHERE resource_key = %s", (key,)
        )


def record_collections(db: Executes, collections: Iterable[str]) -> bool:
    """Recompute the coverage of these ObsCore collections from their public footprints (all of
    their released rows, not only those just ingested or retracted; a collection left with none
    becomes a deleted record); the ObsCore table, SIA and TAP change with them. Whether any record
    changed. Run again when release dates pass (``dalserver release``)."""
    db.execute(SPHERE_OUTPUT_DEGREES)  # footprints are read as degree text
    changed = False
    for collection in sorted(set(collections)):
        stats = db.execute(
            "SELECT min(t_min), max(t_max), min(em_min), max(em_max), count(*) FROM ivoa.obscore "
            f"WHERE obs_collection = %s AND {released_sql()}",
            (collection,),
        ).fetchone()
        assert stats is not None
        t_min, t_max, em_min, em_max, count = stats
        if count == 0:
            # Its last images were retracted: the record stays in the feed, deleted, as a dropped
            # catalogue's does, so that harvesters hear of it; no coverage is served for it.
            changed |= _write(db, collection_state_key(collection), {}, deleted=True)
            continue
        footprints = db.execute(
            "SELECT CAST(s_region AS text) FROM ivoa.obscore "
            f"WHERE obs_collection = %s AND s_region IS NOT NULL AND {released_sql()}",
            (collection,),
        ).fetchall()
        moc = footprints_moc([spoly_vertices(text) for (text,) in footprints], DEFAULT_ORDER)
        values = {
            "moc": moc_to_ascii(moc),
            "registry_moc": degraded(moc_to_ascii(moc), REGISTRY_ORDER),
            "t_min": t_min,
            "t_max": t_max,
            "em_min": em_min,
            "em_max": em_max,
            "row_count": count,
        }
        changed |= _write(db, collection_state_key(collection), values)
    if changed:
        _touch(db, (OBSCORE, SIA, TAP))
    return changed


def record_catalog(db: Executes, table: TableDef, rows: int, read_from: str | None = None) -> bool:
    """A published catalogue's record: its coverage is the HEALPix cells holding its sources.
    TAP, whose tableset lists it, changes with it. ``read_from`` (a quoted SQL name) is a local
    table of the same rows to compute the coverage from: a sharded catalogue's staging copy,
    which spares pulling every position back from the shards through postgres_fdw."""
    values: dict[str, Any] = {"row_count": rows, "position": None, "moc": None, "registry_moc": None}
    if table.position:
        ra, dec = (quote_ident(c) for c in table.position)
        qualified = read_from or f"{quote_ident(table.schema)}.{quote_ident(table.name)}"
        cells = db.execute(
            f"SELECT DISTINCT {healpix_cell_sql(str(DEFAULT_ORDER), ra, dec)} FROM {qualified} "
            f"WHERE {ra} IS NOT NULL AND {dec} IS NOT NULL AND {dec} BETWEEN -90 AND 90"
        ).fetchall()
        values["moc"] = moc_to_ascii(cells_moc((c for (c,) in cells), DEFAULT_ORDER))
        values["registry_moc"] = degraded(values["moc"], REGISTRY_ORDER)
        values["position"] = json.dumps(list(table.position))
    # A catalogue published again is a new version of its record even when the values agree:
    # its columns' metadata may have changed, and the record lists them.
    key = catalog_state_key(table.qualified_name)
    if not _write(db, key, values):
        # Published again with the same coverage: a new version all the same, since its
        # columns' metadata may have changed, and the record lists them.
        _touch(db, (key,))
    _touch(db, (TAP,))
    return True


def record_catalog_dropped(db: Executes, qualified_name: str) -> None:
    """The catalogue's record becomes a deleted record (kept, so harvesters hear of it)."""
    key = catalog_state_key(qualified_name)
    db.execute(f"UPDATE registry.resource_state SET deleted = true, updated = {NOW} WHERE resource_key = %s", (key,))
    _touch(db, (TAP,))
