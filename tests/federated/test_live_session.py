"""The live rows of a federated search in the query's session, which is read-only (and may be a
hot standby's): handed over as arrays in session settings, read back with the cache's types and in
the services' order, a footprint pgsphere refuses leaving its row out, counted by source."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from adql import Catalog
from archive_io.remote_rows import RowConverter, Source
from archive_io.remote_votable import Field
from dalserver.db.adbc import ArrowConnection
from dalserver.federated.live import LIVE_SCHEMA, OK, LiveOutcome, LiveService, live_table
from dalserver.federated.live_session import live_source, refused_indexes
from dalserver.federated.query import build_federated_query, cache_table
from dalserver.federated.report import SearchReport
from pgsql_text.session import READ_ONLY, setup_statements
from tests.support.archive import Archive

FIELDS = [
    Field("obs_publisher_did", "char", "*"),
    Field("dataproduct_type", "char", "*"),
    Field("calib_level", "int"),
    Field("s_ra", "double"),
    Field("s_dec", "double"),
    Field("s_region", "char", "*", xtype="adql:REGION"),
    Field("t_min", "double"),
    Field("obs_release_date", "char", "*", xtype="timestamp"),
    Field("access_url", "char", "*"),
]
ALPHA = LiveService("ivo://alpha.test/tap", "obscore-tap", "http://alpha.test/tap", "ivoa.obscore", None, None)
BETA = LiveService("ivo://beta.test/sia", "sia2", "http://beta.test/sia/query", None, None, None)
# Edges crossing: a bow tie, which the converter passes and pgsphere refuses.
BOW_TIE = "Polygon ICRS 211.0 -41.0 211.2 -40.8 211.2 -41.0 211.0 -40.8"


def _square(ra: float, dec: float) -> str:
    return f"Polygon ICRS {ra - 0.05} {dec - 0.05} {ra + 0.05} {dec - 0.05} {ra + 0.05} {dec + 0.05} {ra - 0.05} {dec + 0.05}"


def _outcome(service: LiveService, refused: set[int], count: int) -> LiveOutcome:
    host = service.access_url.split("/")[2]
    rows: list[list[str | int | float]] = [
        [
            f"ivo://{host}/obs?{k}",
            "image",
            k % 4,
            211.0 + k / 100 + 1 / 3,  # digits a text round trip must keep
            -41.0 + k / 100,
            BOW_TIE if k in refused else _square(211.0 + k / 100, -41.0 + k / 100),
            55000.125 + k,
            f"2020-01-0{1 + k % 9}T12:00:00.25",
            f"http://{host}/files/{k}.fits",
        ]
        for k in range(count)
    ]
    source = Source(service.ivoid, service.access_url, service.kind)
    converted = RowConverter(FIELDS, source, datetime.now(UTC)).convert(rows)
    assert not converted.skipped, converted.examples
    return LiveOutcome(service, OK, "", 0.1, live_table(converted.rows), count)


@pytest.fixture
def session(archive: Archive) -> Iterator[ArrowConnection]:
    """A session as a users' query gets it: set up like the pool's, every transaction read-only."""
    conn = ArrowConnection(archive.url)
    with contextlib.closing(conn):
        for statement in [*setup_statements("dalserver-test", query_session=True), READ_ONLY]:
            conn.run(statement)
        yield conn


def _live(conn: ArrowConnection) -> list[dict[str, Any]]:
    """The live rows as the session reads them back (footprints as pgsphere's text)."""
    columns = ", ".join(f"l.{c.name}" for c in LIVE_SCHEMA if c.name != "s_region")
    return conn.rows(
        f"SELECT {columns}, l.s_region::text AS s_region, live_row FROM {live_source()} AS l ORDER BY live_row"
    )


def test_bisection_finds_exactly_the_refused_values_in_few_probes() -> None:
    def find(values: list[str]) -> tuple[list[int], int]:
        probes = 0

        def accepts(lo: int, hi: int) -> bool:
            nonlocal probes
            probes += 1
            return "bad" not in values[lo:hi]

        return refused_indexes(accepts, 0, len(values)), probes

    for bad in ([0], [999], [417], [0, 1, 2], [3, 500, 998, 999]):
        values = ["bad" if i in bad else "ok" for i in range(1000)]
        found, probes = find(values)
        assert found == bad and probes <= 2 * 10 * len(bad), (bad, probes)
    assert find(["bad"] * 7)[0] == list(range(7))
    assert find(["bad"])[0] == [0]


def _setup(
    session: ArrowConnection, catalog: Catalog, outcomes: list[LiveOutcome], pos: str
) -> tuple[str, SearchReport]:
    """The search's statement, with its session set up as the server sets it up."""
    report = SearchReport(maxrec=100, live_asked=True)
    report.outcomes = outcomes
    query = build_federated_query({"POS": [pos]}, cache_table(catalog.tables), 100, report)
    assert query.setup is not None
    query.setup(session)
    return query.sql, report


def _answer(session: ArrowConnection, sql: str) -> list[str]:
    """The DIDs of the search's live rows (of the made-up hosts), in the answer's order."""
    rows = session.rows(sql)
    return [r["obs_publisher_did"] for r in rows if ".test/" in r["obs_publisher_did"] and r["crawled_at"] is None]


def test_live_rows_reach_a_read_only_session_with_the_caches_types_in_the_services_order(
    session: ArrowConnection, catalog: Catalog
) -> None:
    outcomes = [_outcome(ALPHA, set(), 5), _outcome(BETA, set(), 3)]
    sql, report = _setup(session, catalog, outcomes, "CIRCLE 211.4 -40.97 1")
    assert not report.refused_regions
    sent = pa.concat_tables([o.rows for o in outcomes if o.rows is not None])
    got = _live(session)
    assert [r["live_row"] for r in got] == list(range(1, 9))
    for name in ("obs_publisher_did", "calib_level", "s_ra", "s_dec", "t_min", "obs_release_date", "healpix29"):
        assert [r[name] for r in got] == sent.column(name).to_pylist(), name  # doubles to the last bit
    assert all(r["crawled_at"] is None for r in got)
    cache_types = session.rows(
        "SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute "
        "WHERE attrelid = 'vo.remote_obscore'::regclass AND attnum > 0 AND NOT attisdropped"
    )
    typeof = ", ".join(f"pg_typeof(l.{c['name']})::text AS {c['name']}" for c in cache_types)
    (live_types,) = session.rows(f"SELECT {typeof} FROM {live_source()} AS l LIMIT 1")
    assert live_types == {c["name"]: c["type"] for c in cache_types}  # UNION ALL with the cache's rows
    assert sorted(_answer(session, sql)) == sorted(sent.column("obs_publisher_did").to_pylist())
    assert session.rows("SELECT current_setting('transaction_read_only') AS ro") == [{"ro": "on"}]


def test_a_footprint_pgsphere_refuses_leaves_its_row_out_and_is_counted_by_source(
    session: ArrowConnection, catalog: Catalog
) -> None:
    outcomes = [_outcome(ALPHA, {0, 5}, 8), _outcome(BETA, {2}, 3)]
    sql, report = _setup(session, catalog, outcomes, "CIRCLE 211.4 -40.97 1")
    assert report.refused_regions == Counter({ALPHA.ivoid: 2, BETA.ivoid: 1})
    kept = [f"ivo://alpha.test/obs?{k}" for k in (1, 2, 3, 4, 6, 7)] + [
        "ivo://beta.test/obs?0",
        "ivo://beta.test/obs?1",
    ]
    assert [r["obs_publisher_did"] for r in _live(session)] == kept
    assert sorted(_answer(session, sql)) == sorted(kept)  # the probes that failed left the session as it was
    assert session.rows("SELECT current_setting('transaction_read_only') AS ro") == [{"ro": "on"}]
    assert "footprint refused by pgsphere: 2" in report.infos()[1][2]


def test_when_every_footprint_is_refused_no_live_row_is_left(session: ArrowConnection, catalog: Catalog) -> None:
    sql, report = _setup(session, catalog, [_outcome(BETA, {0, 1, 2, 3, 4}, 5)], "CIRCLE 211.4 -40.97 1")
    assert report.refused_regions == Counter({BETA.ivoid: 5})
    assert _live(session) == [] and _answer(session, sql) == []
