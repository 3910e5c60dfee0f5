"""A federated search as one SQL statement over the cache (vo.remote_obscore) and the rows the live
services sent, built by SIA's own WHERE builder (``dalserver.sia.query``), so that both are
filtered exactly alike, whatever each service understood of the request.

* Cache rows come first; live rows are appended (UNION ALL), from a temporary table the
  session's setup loads (as TAP loads its uploads): footprints are cast by pgsphere there, and a
  row whose footprint pgsphere refuses is left out and counted.
* Rows are de-duplicated by access_url: a cached row gives way to another cached row with the
  same URL that matches too (the first by source and DID keeps it), a live row to any matching
  cached row and to an earlier live one (the services' order). Each test is one probe of the
  access_url index per row, so the answer still streams and MAXREC still ends it early.
* Live rows have no crawled_at (they were not crawled): that is how the answer's rows are counted
  by origin as they leave the database, for the INFOs that close the VOTable.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from adql.catalog import ColumnMeta, TableMeta
from dalserver.dali.faults import TransientFault
from dalserver.db.adbc import ArrowConnection
from dalserver.db.query import SessionSetup
from dalserver.federated.live import LIVE_SCHEMA, LiveOutcome
from dalserver.federated.report import SearchReport
from dalserver.pipeline import PreparedQuery, row_limit
from dalserver.sia.query import select_list, where_clause
from pgsql_text.quoting import quote_ident

CACHE = ("vo", "remote_obscore")
HIDDEN = frozenset({"healpix29"})  # the crawler's cell index: no business of an image search
STAGING = "federated_staging"
LIVE = "federated_live"
_ORDER_COLUMN = "live_row"  # the services' order, then the row's: the first of equal URLs is kept
_STAGING_TYPES = {  # Arrow's type of a live column -> the staging table's
    "string": "text",
    "int32": "integer",
    "int64": "bigint",
    "double": "double precision",
    "timestamp[us]": "timestamp",
}
_TRY_SPOLY = (
    "CREATE FUNCTION pg_temp.federated_spoly(text) RETURNS spoly LANGUAGE plpgsql IMMUTABLE AS $$ "
    "BEGIN RETURN CAST($1 AS spoly); EXCEPTION WHEN others THEN RETURN NULL; END $$"
)


def cache_table(tables: list[TableMeta]) -> TableMeta:
    for table in tables:
        if (table.schema.lower(), table.name.lower()) == CACHE:
            return table
    raise TransientFault("this archive publishes no cache of other archives (vo.remote_obscore) yet")


def answer_columns(table: TableMeta) -> tuple[ColumnMeta, ...]:
    return tuple(c for c in table.columns if c.name not in HIDDEN)


def _columns(alias: str, columns: Sequence[ColumnMeta]) -> str:
    return ", ".join(f"{alias}.{quote_ident(c.name)}" for c in columns)


def _duplicate_of_cached(source: str, alias: str, where_d: str, earlier_only: bool) -> str:
    earlier = (
        f" AND (d.source_ivoid, d.obs_publisher_did) < ({alias}.source_ivoid, {alias}.obs_publisher_did)"
        if earlier_only
        else ""
    )
    return f"EXISTS (SELECT 1 FROM {source} AS d WHERE d.access_url = {alias}.access_url{earlier} AND {where_d})"


def federated_sql(
    values: dict[str, list[str]], table: TableMeta, maxrec: int, with_live: bool
) -> tuple[str, list[ColumnMeta]]:
    """The statement answering a search (UsageFault for a parameter that is not right)."""
    columns = list(answer_columns(table))
    source = table.sql_name or f"{quote_ident(CACHE[0])}.{quote_ident(CACHE[1])}"
    where_o, where_d = where_clause(values, table, "o"), where_clause(values, table, "d")
    cached = (
        f"SELECT {_columns('o', columns)} FROM {source} AS o WHERE {where_o} "
        f"AND NOT {_duplicate_of_cached(source, 'o', where_d, earlier_only=True)}"
    )
    body = cached
    if with_live:
        url_key = f"COALESCE(o.access_url, '#' || o.{_ORDER_COLUMN})"  # rows without a URL are all kept
        live = (
            f"SELECT {_columns('l', columns)} FROM (SELECT DISTINCT ON ({url_key}) {_columns('o', columns)}, "
            f"o.{_ORDER_COLUMN} FROM pg_temp.{LIVE} AS o WHERE {where_o} "
            f"AND NOT {_duplicate_of_cached(source, 'o', where_d, earlier_only=False)} "
            f"ORDER BY {url_key}, o.{_ORDER_COLUMN}) AS l"
        )
        body = f"{cached} UNION ALL {live}"
    sql = f"SELECT {select_list(tuple(columns))} FROM ({body}) AS o LIMIT {row_limit(maxrec)}"
    return sql, columns


def live_setup(outcomes: list[LiveOutcome], report: SearchReport) -> SessionSetup:
    """The session setup loading the live rows (in the services' order) into pg_temp.federated_live."""
    tables = []
    first = 0
    for outcome in outcomes:
        if outcome.rows is None or not outcome.rows.num_rows:
            continue
        rows = outcome.rows
        order = pa.array(range(first, first + rows.num_rows), type=pa.int64())
        tables.append(rows.append_column(_ORDER_COLUMN, order))
        first += rows.num_rows
    staged = [f"{quote_ident(c.name)} {_STAGING_TYPES[str(c.type)]}" for c in LIVE_SCHEMA]
    names = ", ".join(quote_ident(c.name) for c in LIVE_SCHEMA)
    values = ", ".join("region" if c.name == "s_region" else f"s.{quote_ident(c.name)}" for c in LIVE_SCHEMA)

    def setup(conn: ArrowConnection) -> None:
        conn.run(f"CREATE TEMP TABLE {STAGING} ({', '.join(staged)}, {_ORDER_COLUMN} bigint)")
        for table in tables:
            conn.append(STAGING, table, temporary=True)
        conn.run(f"CREATE TEMP TABLE {LIVE} (LIKE {quote_ident(CACHE[0])}.{quote_ident(CACHE[1])})")
        conn.run(f"ALTER TABLE pg_temp.{LIVE} ALTER COLUMN crawled_at DROP NOT NULL, ADD COLUMN {_ORDER_COLUMN} bigint")
        conn.run(_TRY_SPOLY)
        # pgsphere has the last word on a footprint: a polygon it refuses leaves its row out.
        conn.run(
            f"INSERT INTO pg_temp.{LIVE} ({names}, {_ORDER_COLUMN}) SELECT {values}, s.{_ORDER_COLUMN} "
            f"FROM (SELECT *, pg_temp.federated_spoly(s_region) AS region FROM pg_temp.{STAGING}) AS s "
            "WHERE s.s_region IS NULL OR s.region IS NOT NULL"
        )
        for row in conn.rows(
            f"SELECT source_ivoid, count(*) AS n FROM pg_temp.{STAGING} "
            "WHERE s_region IS NOT NULL AND pg_temp.federated_spoly(s_region) IS NULL GROUP BY source_ivoid"
        ):
            report.refused_regions[row["source_ivoid"]] = int(row["n"])
        conn.run(f"ANALYZE pg_temp.{LIVE}")

    return setup


def build_federated_query(
    values: dict[str, list[str]],
    table: TableMeta,
    maxrec: int,
    report: SearchReport,
) -> PreparedQuery:
    """The prepared query of a search whose live part (if any) is done: ``report.outcomes``."""
    with_live = any(o.rows is not None and o.rows.num_rows for o in report.outcomes)
    sql, columns = federated_sql(values, table, maxrec, with_live)
    setup = live_setup(report.outcomes, report) if with_live else None
    return PreparedQuery(sql, columns, maxrec, setup=setup, watch=report.watch)
