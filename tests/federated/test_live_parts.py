"""The parts of a live search that need no other archive: LIVE's values, which addresses may be
asked and how a request is pinned to the checked one, live rows in the cache's types, the SQL
merging cache and live rows, and the counts the closing INFOs give."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pyarrow as pa
import pytest

from adql.catalog import ColumnMeta, TableMeta
from archive_io.remote_rows import STAGED_COLUMNS, RowConverter, Source
from archive_io.remote_votable import Field
from dalserver.dali.faults import UsageFault
from dalserver.federated.addresses import AddressRefused, refused_address, targets
from dalserver.federated.live import ERROR, OK, TIMEOUT, LiveOutcome, LiveService, live_table
from dalserver.federated.parameters import LIVE
from dalserver.federated.query import federated_sql
from dalserver.federated.report import SearchReport

SERVICE = LiveService("ivo://a/tap", "obscore-tap", "http://a.example/tap", "ivoa.obscore", None, None)


def test_live_is_a_boolean_named_in_its_error() -> None:
    assert LIVE.parse(None) is False and LIVE.parse("") is False
    assert LIVE.parse("True") is True and LIVE.parse("yes") is True and LIVE.parse("0") is False
    with pytest.raises(UsageFault, match="LIVE: 'maybe' is not a boolean"):
        LIVE.parse("maybe")


def test_loopback_and_private_addresses_are_refused_unless_allowed() -> None:
    assert refused_address("127.0.0.1", False) == "a loopback address (127.0.0.1)"
    assert refused_address("10.1.2.3", False) == "a private address (10.1.2.3)"
    assert refused_address("::1", False) == "a loopback address (::1)"
    assert refused_address("169.254.169.254", False) is not None  # a cloud's metadata service
    assert refused_address("127.0.0.1", True) is None
    assert refused_address("193.55.132.1", False) is None


def test_a_request_goes_to_the_checked_address_naming_its_host() -> None:
    with pytest.raises(AddressRefused, match="127.0.0.1 is at a loopback address"):
        asyncio.run(targets(urlsplit("http://127.0.0.1:8123/tap"), allow_private=False))
    (target,) = asyncio.run(targets(urlsplit("http://127.0.0.1:8123/tap/sync?x=1"), allow_private=True))
    assert target.url == "http://127.0.0.1:8123/tap/sync?x=1" and target.host_header == "127.0.0.1:8123"
    with pytest.raises(AddressRefused, match="not an http"):
        asyncio.run(targets(urlsplit("file:///etc/passwd"), allow_private=True))


def test_live_rows_take_the_caches_types_and_no_crawl_time() -> None:
    fields = [Field("obs_publisher_did", "char"), Field("s_ra", "double"), Field("s_dec", "double")]
    fields += [Field("calib_level", "int"), Field("access_url", "char"), Field("s_region", "char")]
    rows: list[list[str | float | int]] = [
        ["ivo://a?1", 10.0, 20.0, 2, "http://a/1", "Polygon ICRS 10 20 10.1 20 10 20.1"]
    ]
    converted = RowConverter(fields, Source("ivo://a/tap", "http://a/tap", "obscore-tap"), datetime.now(UTC))
    table = live_table(converted.convert(rows).rows)
    assert table.column_names == list(STAGED_COLUMNS) and table.num_rows == 1
    assert table.schema.field("calib_level").type == pa.int32() and table.column("calib_level")[0].as_py() == 2
    assert table.column("crawled_at").null_count == 1 and table.column("healpix29")[0].as_py() > 0
    assert table.column("s_region")[0].as_py().startswith("{(")


def _table() -> TableMeta:
    names = (
        "dataproduct_type",
        "obs_publisher_did",
        "access_url",
        "s_region",
        "source_ivoid",
        "crawled_at",
        "healpix29",
    )
    columns = tuple(ColumnMeta(n, "char", "*", xtype="adql:REGION" if n == "s_region" else None) for n in names)
    return TableMeta("vo", "remote_obscore", columns)


def test_the_search_sql_dedups_by_access_url_and_appends_live_rows() -> None:
    sql, columns = federated_sql({"POS": ["CIRCLE 10 20 1"]}, _table(), 100, with_live=True)
    assert "healpix29" not in [c.name for c in columns]
    assert 'o."s_region" && ' in sql and 'd."s_region" && ' in sql
    assert "(d.source_ivoid, d.obs_publisher_did) < (o.source_ivoid, o.obs_publisher_did)" in sql
    assert " UNION ALL SELECT " in sql and sql.endswith("LIMIT 101")
    assert "unnest(current_setting('dalserver_live.dataproduct_type')::text[], " in sql  # a standby runs it
    assert 'CAST(l."s_region" AS spoly) AS "s_region"' in sql and "WITH ORDINALITY" in sql
    assert "pg_temp" not in sql
    cache_only, _ = federated_sql({}, _table(), 0, with_live=False)
    assert "UNION" not in cache_only and cache_only.endswith("LIMIT 0")
    with pytest.raises(UsageFault, match="POS CIRCLE"):
        federated_sql({"POS": ["CIRCLE 10 20"]}, _table(), 10, with_live=False)


def _batch(sources: list[str], crawled: list[str | None]) -> pa.RecordBatch:
    return pa.record_batch({"source_ivoid": sources, "crawled_at": pa.array(crawled, pa.string())})


def test_rows_are_counted_by_origin_up_to_maxrec() -> None:
    report = SearchReport(maxrec=5, timeout=3.0, live_asked=True)
    report.watch(_batch(["c", "c", "c"], ["t", "t", "t"]))
    report.watch(_batch(["ivo://a/tap", "ivo://a/tap", "ivo://b"], [None, None, None]))  # one beyond MAXREC
    report.watch(_batch(["ivo://b"], [None]))
    assert report.cached == 3 and report.live == Counter({"ivo://a/tap": 2})


def test_the_closing_infos_say_how_each_service_fared() -> None:
    report = SearchReport(maxrec=10, timeout=3.0, live_asked=True)
    report.outcomes = [
        LiveOutcome(SERVICE, OK, "", 0.25, None, 7, Counter({"bad s_region": 1}), overflow=True),
        LiveOutcome(LiveService("ivo://b", "sia2", "http://b/sia", None, None, None), TIMEOUT, "", 3.0),
        LiveOutcome(
            LiveService("ivo://c", "sia2", "http://c/sia", None, None, None), ERROR, "http://c/sia: HTTP 500", 0.1
        ),
    ]
    report.watch(_batch(["ivo://a/tap", "x"], [None, "t"]))
    report.refused_regions["ivo://a/tap"] = 2
    infos = report.infos()
    assert infos[0] == (
        "cache",
        "ok",
        "1 rows from the cache of other archives' data (vo.remote_obscore, as the crawler last fetched them); "
        "3 services asked live, whose rows missing from the cache follow (their crawled_at is empty)",
    )
    assert infos[1] == (
        "ivo://a/tap",
        "ok",
        "http://a.example/tap: 7 rows in 0.25 s, 1 of them in this answer (the others are in the cache, repeated, "
        "or outside the request); its answer was cut by its row limit (it holds more); 3 rows could not be read "
        "(bad s_region: 1, footprint refused by pgsphere: 2)",
    )
    assert infos[2] == ("ivo://b", "timeout", "http://b/sia: no answer within 3 s")
    assert infos[3] == ("ivo://c", "error", "http://c/sia: HTTP 500")
