"""Writing the cache: the rows of one sky cell of one service replace what was stored for that
cell in one transaction, so readers see the old rows or the new ones, never a mix; rows deleted
at the source disappear here; a crawl killed at any moment leaves every cell whole, and the next
run goes on from the cells not yet done.

A cell's rows are first staged (COPY into a temporary table, possibly over several requests),
then checked where only PostgreSQL can: pgsphere parses each footprint (a polygon it refuses
skips its row), repeated publisher DIDs keep their first row. If the staged rows equal the
stored ones, nothing is written. Otherwise the cell's range of ``healpix29`` is deleted and the
staged rows inserted; a row whose DID is stored in another cell of the same source (the dataset
moved) is updated there, so the unique key (source_ivoid, obs_publisher_did) always holds. The
cell's counts in vo.remote_coverage are recomputed in the same transaction. Only row locks are
taken (no TRUNCATE, no ALTER): queries of the published tables are never blocked.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from archive_io.remote_rows import STAGED_COLUMNS, TABLE
from pgsql_text.quoting import quote_ident
from vo_crawl.healpix import Cell, cell_centres

COVERAGE_ORDER = 6  # vo.remote_coverage's cells
_SHIFT = 2 * (29 - COVERAGE_ORDER)

HELPERS = (
    # pgsphere decides whether a footprint is a polygon it can hold; a refusal is NULL here,
    # so that one bad row is skipped instead of failing its cell.
    "CREATE OR REPLACE FUNCTION crawl.try_spoly(text) RETURNS spoly LANGUAGE plpgsql IMMUTABLE AS $$ "
    "BEGIN RETURN CAST($1 AS spoly); EXCEPTION WHEN others THEN RETURN NULL; END $$",
)
_SQL_TYPES = {c.name: c.sql_type for c in TABLE.columns}
_COMPARED = tuple(c for c in STAGED_COLUMNS if c != "crawled_at")  # a refetch of the same rows is no change


def _q(name: str) -> str:
    return quote_ident(name)


def _staging_ddl() -> str:
    parts = [f"{_q(c)} {'text' if c == 's_region' else _SQL_TYPES[c]}" for c in STAGED_COLUMNS]
    return f"CREATE TEMP TABLE IF NOT EXISTS crawl_staging ({', '.join(parts)}, region spoly)"


@dataclass(frozen=True)
class Replaced:
    written: int  # rows inserted or moved here
    removed: int  # rows of the cell that are no longer at the source
    changed: bool
    skipped: Counter[str]
    examples: dict[str, str]


def prepare(conn: psycopg.Connection) -> None:
    """The helper function and this session's staging table."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('dalserver.crawl.helpers'))")
        for statement in HELPERS:
            conn.execute(statement)
    conn.execute(_staging_ddl())
    conn.execute("DELETE FROM pg_temp.crawl_staging")


def stage(conn: psycopg.Connection, rows: Iterable[Sequence[Any]]) -> None:
    columns = ", ".join(_q(c) for c in STAGED_COLUMNS)
    with conn.cursor() as cur, cur.copy(f"COPY pg_temp.crawl_staging ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def discard_staged(conn: psycopg.Connection) -> None:
    conn.execute("DELETE FROM pg_temp.crawl_staging")


def _range_sql(cell: Cell) -> tuple[str, tuple[Any, ...]]:
    if not cell.has_position:
        return "healpix29 IS NULL", ()
    low, high = cell.span
    return "healpix29 >= %s AND healpix29 < %s", (low, high)


def _digest_sql(source: str, columns: Sequence[str]) -> str:
    return f"SELECT count(*), md5(string_agg(ROW({', '.join(columns)})::text, E'\\n' ORDER BY obs_publisher_did)) FROM {source}"


def _checked_staging(cur: psycopg.Cursor[Any], skipped: Counter[str], examples: dict[str, str]) -> None:
    try:
        with cur.connection.transaction():  # a savepoint: all footprints at once, the usual case
            cur.execute("UPDATE pg_temp.crawl_staging SET region = CAST(s_region AS spoly) WHERE s_region IS NOT NULL")
    except psycopg.Error:  # one of them is refused: row by row, so that only it is skipped
        cur.execute("UPDATE pg_temp.crawl_staging SET region = crawl.try_spoly(s_region) WHERE s_region IS NOT NULL")
    for (did,) in cur.execute(
        "DELETE FROM pg_temp.crawl_staging WHERE s_region IS NOT NULL AND region IS NULL RETURNING obs_publisher_did"
    ).fetchall():
        skipped["bad s_region"] += 1
        examples.setdefault("bad s_region", f"bad s_region: {did}")
    for (did,) in cur.execute(
        "DELETE FROM pg_temp.crawl_staging a USING pg_temp.crawl_staging b "
        "WHERE a.obs_publisher_did = b.obs_publisher_did AND a.ctid > b.ctid RETURNING a.obs_publisher_did"
    ).fetchall():
        skipped["duplicate obs_publisher_did"] += 1
        examples.setdefault("duplicate obs_publisher_did", f"duplicate obs_publisher_did: {did}")


def replace_cell(
    conn: psycopg.Connection,
    ivoid: str,
    cell: Cell,
    census: int | None,
    requests: int,
    skipped: Counter[str],
    examples: dict[str, str],
    refresh_after: datetime,
) -> Replaced:
    """Replace the cell's stored rows with the staged ones, in one transaction."""
    skipped, examples = Counter(skipped), dict(examples)
    where, params = _range_sql(cell)
    stored_columns = [("s_region" if c == "s_region" else c) for c in _COMPARED]
    staged_columns = [("region" if c == "s_region" else c) for c in _COMPARED]
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('dalserver.crawl.service:' || %s))", (ivoid,))
        _checked_staging(cur, skipped, examples)
        before = cur.execute(
            _digest_sql(f"vo.remote_obscore WHERE source_ivoid = %s AND {where}", stored_columns),
            (ivoid, *params),
        ).fetchone()
        after = cur.execute(_digest_sql("pg_temp.crawl_staging", staged_columns)).fetchone()
        changed = before != after
        written = removed = inserted = 0
        if changed:
            removed = cur.execute(
                f"DELETE FROM vo.remote_obscore WHERE source_ivoid = %s AND {where}",
                (ivoid, *params),
            ).rowcount
            names = ", ".join(_q(c) for c in STAGED_COLUMNS)
            values = ", ".join("region" if c == "s_region" else _q(c) for c in STAGED_COLUMNS)
            updates = ", ".join(f"{_q(c)} = EXCLUDED.{_q(c)}" for c in STAGED_COLUMNS)
            flags = cur.execute(
                f"INSERT INTO vo.remote_obscore ({names}) SELECT {values} FROM pg_temp.crawl_staging "
                f"ON CONFLICT (source_ivoid, obs_publisher_did) DO UPDATE SET {updates} RETURNING (xmax = 0)"
            ).fetchall()
            written = len(flags)
            inserted = sum(1 for (new,) in flags if new)
            refresh_coverage(cur, ivoid, cell)
        stored = cur.execute(
            f"SELECT count(*) FROM vo.remote_obscore WHERE source_ivoid = %s AND {where}",
            (ivoid, *params),
        ).fetchone()[0]  # type: ignore[index]  # an aggregate query returns exactly one row
        _write_cell(cur, ivoid, cell, census, stored, skipped, "done", None, requests, refresh_after)
        if cell.has_position:
            low, high = cell.span
            # Stored cells inside this one are replaced by it.
            cur.execute(
                "DELETE FROM crawl.cell WHERE service_ivoid = %s AND hpx_order > %s "
                "AND hpx_index >= (%s::bigint >> (2 * (29 - hpx_order))) AND hpx_index < (%s::bigint >> (2 * (29 - hpx_order)))",
                (ivoid, cell.order, low, high),
            )
        if changed:
            _count_rows(cur, ivoid, inserted - removed)
        cur.execute("DELETE FROM pg_temp.crawl_staging")
    return Replaced(written, removed, changed, skipped, examples)


def _write_cell(
    cur: psycopg.Cursor[Any],
    ivoid: str,
    cell: Cell,
    census: int | None,
    stored: int,
    skipped: Counter[str],
    state: str,
    error: str | None,
    requests: int,
    refresh_after: datetime | None,
) -> None:
    cur.execute(
        "INSERT INTO crawl.cell (service_ivoid, hpx_order, hpx_index, census, stored, skipped, state, error, "
        "fetched, requests, refresh_after) VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s, "
        "CASE WHEN %s = 'done' THEN now() END, %s, %s) "
        "ON CONFLICT (service_ivoid, hpx_order, hpx_index) DO UPDATE SET census = EXCLUDED.census, "
        "stored = EXCLUDED.stored, skipped = EXCLUDED.skipped, state = EXCLUDED.state, error = EXCLUDED.error, "
        "fetched = COALESCE(EXCLUDED.fetched, crawl.cell.fetched), requests = EXCLUDED.requests, "
        "refresh_after = COALESCE(EXCLUDED.refresh_after, crawl.cell.refresh_after)",
        (
            ivoid,
            cell.order,
            cell.index,
            census,
            stored,
            json.dumps(dict(sorted(skipped.items()))),
            state,
            error,
            state,
            requests,
            refresh_after,
        ),
    )


def _count_rows(cur: psycopg.Cursor[Any], ivoid: str, delta: int) -> None:
    cur.execute(
        "UPDATE crawl.service SET row_count = row_count + %s, changed = now(), "
        "first_stored = COALESCE(first_stored, now()) WHERE ivoid = %s",
        (delta, ivoid),
    )


def cell_failed(
    conn: psycopg.Connection, ivoid: str, cell: Cell, census: int | None, error: str, requests: int
) -> None:
    """The cell could not be fetched: its stored rows stay, and it is fetched again next run."""
    where, params = _range_sql(cell)
    with conn.transaction(), conn.cursor() as cur:
        stored = cur.execute(
            f"SELECT count(*) FROM vo.remote_obscore WHERE source_ivoid = %s AND {where}",
            (ivoid, *params),
        ).fetchone()[0]  # type: ignore[index]  # an aggregate query returns exactly one row
        old = cur.execute(
            "SELECT skipped FROM crawl.cell WHERE service_ivoid = %s AND hpx_order = %s AND hpx_index = %s",
            (ivoid, cell.order, cell.index),
        ).fetchone()
        _write_cell(cur, ivoid, cell, census, stored, Counter(old[0] if old else {}), "error", error, requests, None)
        cur.execute("DELETE FROM pg_temp.crawl_staging")


def clear_cell(conn: psycopg.Connection, ivoid: str, gone: Cell, keep: Sequence[Cell]) -> int:
    """A stored cell that is no longer a unit: its rows outside the units ``keep`` (which
    replaced the rest) are deleted, and it is forgotten. How many rows went."""
    where, params = _range_sql(gone)
    lows = [c.span[0] for c in keep if c.has_position]
    highs = [c.span[1] for c in keep if c.has_position]
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('dalserver.crawl.service:' || %s))", (ivoid,))
        removed = cur.execute(
            f"DELETE FROM vo.remote_obscore WHERE source_ivoid = %s AND {where} AND NOT EXISTS ("
            "SELECT 1 FROM unnest(%s::bigint[], %s::bigint[]) AS k(low, high) "
            "WHERE healpix29 >= k.low AND healpix29 < k.high)",
            (ivoid, *params, lows, highs),
        ).rowcount
        cur.execute(
            "DELETE FROM crawl.cell WHERE service_ivoid = %s AND hpx_order = %s AND hpx_index = %s",
            (ivoid, gone.order, gone.index),
        )
        if removed:
            refresh_coverage(cur, ivoid, gone)
            _count_rows(cur, ivoid, -removed)
    return removed


def refresh_coverage(cur: psycopg.Cursor[Any], ivoid: str, cell: Cell) -> None:
    """Recount vo.remote_coverage's cells that overlap ``cell`` from the stored rows."""
    if not cell.has_position:
        return
    area = cell if cell.order <= COVERAGE_ORDER else cell.ancestor(COVERAGE_ORDER)
    low, high = area.span
    cur.execute(
        "DELETE FROM vo.remote_coverage WHERE source_ivoid = %s AND healpix_index >= %s AND healpix_index < %s",
        (ivoid, low >> _SHIFT, high >> _SHIFT),
    )
    groups = cur.execute(
        f"SELECT healpix29 >> {_SHIFT} AS c, facility_name, instrument_name, dataproduct_type, count(*), "
        "min(em_min), max(em_max), min(t_min), max(t_max) FROM vo.remote_obscore "
        "WHERE source_ivoid = %s AND healpix29 >= %s AND healpix29 < %s GROUP BY 1, 2, 3, 4",
        (ivoid, low, high),
    ).fetchall()
    if not groups:
        return
    cells = sorted({int(g[0]) for g in groups})
    centres = dict(zip(cells, cell_centres(COVERAGE_ORDER, cells), strict=True))
    columns = (
        "healpix_order, healpix_index, cell_ra, cell_dec, source_ivoid, facility_name, instrument_name, "
        "dataproduct_type, dataset_count, em_min, em_max, t_min, t_max, updated"
    )
    now = cur.execute("SELECT timezone('UTC', now())").fetchone()[0]  # type: ignore[index]  # a SELECT without FROM returns exactly one row
    with cur.copy(f"COPY vo.remote_coverage ({columns}) FROM STDIN") as copy:
        for c, facility, instrument, kind, n, em_min, em_max, t_min, t_max in groups:
            ra, dec = centres[int(c)]
            copy.write_row(
                (
                    COVERAGE_ORDER,
                    int(c),
                    ra,
                    dec,
                    ivoid,
                    facility,
                    instrument,
                    kind,
                    n,
                    em_min,
                    em_max,
                    t_min,
                    t_max,
                    now,
                )
            )


def summarise_service(conn: psycopg.Connection, ivoid: str) -> None:
    """The service's coverage (order-6 MOC of its cells), time and wavelength range."""
    from archive_io.coverage import cells_moc, moc_to_ascii

    with conn.transaction(), conn.cursor() as cur:
        cells = [
            c
            for (c,) in cur.execute(
                "SELECT DISTINCT healpix_index FROM vo.remote_coverage WHERE source_ivoid = %s", (ivoid,)
            ).fetchall()
        ]
        ranges = cur.execute(
            "SELECT min(t_min), max(t_max), min(em_min), max(em_max) FROM vo.remote_coverage WHERE source_ivoid = %s",
            (ivoid,),
        ).fetchone()
        moc = moc_to_ascii(cells_moc(cells, COVERAGE_ORDER)) if cells else None
        cur.execute(
            "UPDATE crawl.service SET coverage = CAST(%s AS smoc), t_min = %s, t_max = %s, em_min = %s, em_max = %s "
            "WHERE ivoid = %s",
            (moc, *ranges, ivoid),  # type: ignore[misc]  # an aggregate query returns exactly one row (min/max of the source's coverage)
        )


def purge_service(conn: psycopg.Connection, ivoid: str) -> int:
    """Every stored row of a service that is no longer crawled goes, in one transaction."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('dalserver.crawl.service:' || %s))", (ivoid,))
        removed = cur.execute("DELETE FROM vo.remote_obscore WHERE source_ivoid = %s", (ivoid,)).rowcount
        cur.execute("DELETE FROM vo.remote_coverage WHERE source_ivoid = %s", (ivoid,))
        cur.execute("DELETE FROM crawl.cell WHERE service_ivoid = %s", (ivoid,))
        cur.execute(
            "UPDATE crawl.service SET row_count = 0, coverage = NULL, t_min = NULL, t_max = NULL, em_min = NULL, "
            "em_max = NULL, changed = CASE WHEN %s > 0 THEN now() ELSE changed END WHERE ivoid = %s",
            (removed, ivoid),
        )
    return removed


def refresh_time(now: datetime, days: float, cell: Cell, ivoid: str) -> datetime:
    """When a cell is fetched again even if unchanged: ``days`` from now, spread over the last
    quarter of that period by cell, so that a service's cells do not all fall due on one day."""
    spread = zlib.crc32(f"{ivoid} {cell}".encode()) % 1000 / 1000.0
    return now + timedelta(days=days * (0.75 + 0.25 * spread))
