"""A federated search as one SQL statement over the cache (vo.remote_obscore) and the rows the live
services sent, built by SIA's own WHERE builder (``dalserver.sia.query``), so that both are
filtered exactly alike, whatever each service understood of the request.

* Cache rows come first; live rows are appended (UNION ALL), read from arrays the session's setup
  hands over in session settings, as TAP hands over its uploads (``live_session``): nothing is
  written, so a search runs on a hot standby as on the primary. pgsphere casts the footprints
  there first, and a row whose footprint it refuses is left out and counted.
* Rows are de-duplicated by access_url: a cached row gives way to another cached row with the
  same URL that matches too (the first by source and DID keeps it), a live row to any matching
  cached row and to an earlier live one (the services' order). Each test is one probe of the
  access_url index per row, so the answer still streams and MAXREC still ends it early.
* Live rows have no crawled_at (they were not crawled): that is how the answer's rows are counted
  by origin as they leave the database, for the INFOs that close the VOTable.
"""

from __future__ import annotations

from collections.abc import Sequence

from adql.catalog import ColumnMeta, TableMeta
from dalserver.dali.faults import TransientFault
from dalserver.db.adbc import ArrowConnection
from dalserver.db.query import SessionSetup
from dalserver.federated.live import LiveOutcome
from dalserver.federated.live_session import ORDER_COLUMN, live_rows, live_source, prepare_live_rows
from dalserver.federated.report import SearchReport
from dalserver.pipeline import PreparedQuery, row_limit
from dalserver.sia.query import select_list, where_clause
from pgsql_text.quoting import quote_ident

CACHE = ("vo", "remote_obscore")
HIDDEN = frozenset({"healpix29"})  # the crawler's cell index: no business of an image search


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
        url_key = f"COALESCE(o.access_url, '#' || o.{ORDER_COLUMN})"  # rows without a URL are all kept
        live = (
            f"SELECT {_columns('l', columns)} FROM (SELECT DISTINCT ON ({url_key}) {_columns('o', columns)}, "
            f"o.{ORDER_COLUMN} FROM {live_source()} AS o WHERE {where_o} "
            f"AND NOT {_duplicate_of_cached(source, 'o', where_d, earlier_only=False)} "
            f"ORDER BY {url_key}, o.{ORDER_COLUMN}) AS l"
        )
        body = f"{cached} UNION ALL {live}"
    sql = f"SELECT {select_list(tuple(columns))} FROM ({body}) AS o LIMIT {row_limit(maxrec)}"
    return sql, columns


def live_setup(outcomes: list[LiveOutcome], report: SearchReport) -> SessionSetup:
    """The session setup handing the live rows (in the services' order) to the query's session."""
    rows = live_rows(outcomes)

    def setup(conn: ArrowConnection) -> None:
        refused = prepare_live_rows(conn, rows)
        # Set, not added to: a query moved to another server sets its session up again.
        report.refused_regions.clear()
        report.refused_regions.update(refused)

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
