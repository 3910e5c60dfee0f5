"""The federated image search (/federated/sia) as pyvo meets it: SIA 2.0 over the crawler's cache,
agreeing with TAP on vo.remote_obscore, and with LIVE=true over the live services too, all on
loopback: the crawled sources, and the unruly ones of tests/crawl/stub.py (fresh rows, an HTML
page, a VOTable cut short, a stall past the timeout) registered in crawl.service as the crawler
would have them. The stub's access log says who was asked, how, and when."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
import pyvo
from astropy.time import Time
from lxml import etree

from tests.crawl.conftest import AWKWARD_TAP, SOURCE_TAP, FirstCrawl, Sources
from tests.support.archive import Archive
from tests.support.schemas import schema_errors

FRESH = "ivo://unruly.demo/fresh"
HTML = "ivo://unruly.demo/html"
TRUNCATED = "ivo://unruly.demo/truncated"
STALL = "ivo://unruly.demo/stall"
TIMEOUT = 3.0  # DALSERVER_FEDERATED_TIMEOUT_SECONDS of the session's server (tests/conftest.py)
FEDERATED_IVOID = "ivo://dalserver.demo/federated/sia"
CACHE_IVOID = "ivo://dalserver.demo/vo/remote_obscore"
# Where the unruly services other than FRESH have data: far from the awkward source's plates.
UNRULY_SKY = "smoc(3, scircle(spoint(radians(150), radians(10)), radians(15)))"


def _service(ivoid: str, kind: str, url: str, coverage: str, answered_ago: str | None) -> tuple[Any, ...]:
    return (ivoid, kind, url, coverage, answered_ago)


@pytest.fixture(scope="module")
def unruly(archive: Archive, sources: Sources, first_crawl: FirstCrawl) -> Iterator[Sources]:
    """The unruly services in crawl.service, behind the crawled ones in their host's turns (those
    that answered the crawler last go first), the stall last."""
    base = sources.unruly
    services = [
        _service(FRESH, "sia2", f"{base}/fresh/sia/query", "'0/0-11'", "1 hour"),
        _service(HTML, "sia2", f"{base}/html/sia/query", UNRULY_SKY, "2 hours"),
        _service(TRUNCATED, "sia2", f"{base}/truncated/sia/query", UNRULY_SKY, "3 hours"),
        _service(STALL, "obscore-tap", f"{base}/stall/tap", UNRULY_SKY, None),
    ]
    with psycopg.connect(archive.url, autocommit=True) as conn:
        for ivoid, kind, url, coverage, ago in services:
            conn.execute(
                "INSERT INTO crawl.service (ivoid, kind, access_url, table_name, host, state, fail_count, row_count, "
                f"requests_today, coverage, discovered, seen, last_success) VALUES (%s, %s, %s, %s, '127.0.0.1', "
                f"'active', 0, 0, 0, {coverage}, now(), now(), now() - CAST(%s AS interval))",
                (ivoid, kind, url, "ivoa.obscore" if kind == "obscore-tap" else None, ago),
            )
    try:
        yield sources
    finally:
        with psycopg.connect(archive.url, autocommit=True) as conn:
            conn.execute("DELETE FROM crawl.service WHERE ivoid LIKE 'ivo://unruly.demo/%'")


def _search(server: str, **kwargs: Any) -> pyvo.dal.SIA2Results:
    return pyvo.dal.SIA2Service(f"{server}/federated/sia").search(**kwargs)


def _infos(results: pyvo.dal.SIA2Results) -> dict[str, tuple[str, str]]:
    return {i.name: (i.value, str(i.content or "")) for i in results.votable.resources[0].infos}


def _tap_urls(tap_url: str, where: str) -> set[str]:
    table = pyvo.dal.TAPService(tap_url).search(
        f"SELECT access_url FROM vo.remote_obscore WHERE dataproduct_type IN ('image', 'cube') AND {where}",
        maxrec=100000,
    )
    return {str(u) for u in table.to_table()["access_url"]}


def test_a_cone_band_and_time_search_of_the_cache_agrees_with_tap(
    server: str, tap_url: str, first_crawl: FirstCrawl
) -> None:
    mjd = (Time(50000, format="mjd"), Time(53000, format="mjd"))
    found = _search(server, pos=(150, 10, 12), band=(4e-7, 6e-7), time=mjd, maxrec=10000)
    urls = [str(u) for u in found.to_table()["access_url"]]
    expected = _tap_urls(
        tap_url,
        "1 = INTERSECTS(s_region, CIRCLE('ICRS', 150, 10, 12)) AND em_min <= 6e-7 AND em_max >= 4e-7 "
        "AND t_min <= 53000 AND t_max >= 50000",
    )
    assert len(urls) > 20 and len(urls) == len(set(urls)) and set(urls) == expected
    infos = _infos(found)
    assert infos["cache"][0] == "ok" and infos["cache"][1].startswith(f"{len(urls)} rows from the cache")
    assert not any(name.startswith("ivo://") for name in infos)  # nothing was asked live


def _awkward_plate(archive: Archive) -> tuple[float, float]:
    """The position of one of the awkward source's plates in its first group (RA 100-120)."""
    with psycopg.connect(archive.url) as conn:
        row = conn.execute(
            "SELECT s_ra, s_dec FROM vo.remote_obscore WHERE source_ivoid = %s AND s_ra BETWEEN 100 AND 120 "
            "ORDER BY obs_publisher_did LIMIT 1",
            (AWKWARD_TAP,),
        ).fetchone()
    assert row is not None
    return float(row[0]), float(row[1])


def test_the_cache_answers_pyvo_with_each_rows_source(
    archive: Archive, server: str, tap_url: str, first_crawl: FirstCrawl
) -> None:
    ra, dec = _awkward_plate(archive)
    found = _search(server, pos=(ra, dec, 2)).to_table()
    assert AWKWARD_TAP in set(map(str, found["source_ivoid"])) <= {AWKWARD_TAP, SOURCE_TAP}
    assert {str(u) for u in found["access_url"]} == _tap_urls(
        tap_url, f"1 = INTERSECTS(s_region, CIRCLE('ICRS', {ra!r}, {dec!r}, 2))"
    )
    assert all(len(str(t)) >= 19 for t in found["crawled_at"])  # every cached row says when it was crawled


def _live_requests(sources: Sources, since: float) -> list[dict[str, Any]]:
    return [e for e in sources.entries(since) if e["path"] != "/oai"]


def test_a_live_search_merges_the_services_rows_and_reports_each(server: str, tap_url: str, unruly: Sources) -> None:
    started = time.time()
    found = _search(server, pos=(150, 10, 3), maxrec=10000, LIVE=True)
    took = time.time() - started
    table = found.to_table()
    infos = _infos(found)
    urls = [str(u) for u in table["access_url"]]
    cached = _tap_urls(tap_url, "1 = INTERSECTS(s_region, CIRCLE('ICRS', 150, 10, 3))")
    fresh = {u for u in urls if u.endswith("?fresh")}
    assert len(urls) == len(set(urls)), "the answer holds an access_url twice"
    assert set(urls) - fresh == cached and len(cached) > 3
    source_rows = {u for u in cached if u.startswith(unruly.plain)}
    assert fresh == {f"{u}?fresh" for u in source_rows}, infos  # each fresh row once, though sent twice
    live_rows = [i for i, u in enumerate(urls) if u in fresh]
    assert live_rows == list(range(len(urls) - len(fresh), len(urls)))  # appended after the cache's
    assert all(not str(table["crawled_at"][i]) or table["crawled_at"].mask[i] for i in live_rows)
    assert infos[FRESH][0] == "ok" and f"{3 * len(source_rows)} rows" in infos[FRESH][1]
    assert f"{len(fresh)} of them in this answer" in infos[FRESH][1]
    assert infos[SOURCE_TAP][0] == "ok" and ", 0 of them in this answer" in infos[SOURCE_TAP][1]
    assert infos[HTML] == ("error", f"{unruly.unruly}/html/sia/query: HTTP 500 with an HTML page instead of a VOTable")
    assert infos[TRUNCATED][0] == "error" and "cut short" in infos[TRUNCATED][1]
    assert infos[STALL] == ("timeout", f"{unruly.unruly}/stall/tap: no answer within {TIMEOUT:g} s")
    assert infos["cache"][1].startswith(f"{len(cached)} rows from the cache")
    assert AWKWARD_TAP not in infos  # its plates are far from here
    assert TIMEOUT <= took < TIMEOUT + 20  # the stall cost the timeout, no more
    requests = _live_requests(unruly, started)
    assert requests and all(r["ua"].startswith("dalserver/") and f"(IVOA-copy {server})" in r["ua"] for r in requests)
    spans = sorted((r["start"], r["end"]) for r in requests)  # one host (127.0.0.1): one request at a time
    assert all(after[0] >= before[1] for before, after in zip(spans, spans[1:], strict=False))
    assert [r["params"].get("MAXREC") for r in requests if r["source"] == "unruly"][:1] == ["1000"]


def test_only_services_whose_coverage_touches_the_region_are_asked(
    archive: Archive, server: str, unruly: Sources
) -> None:
    ra, dec = _awkward_plate(archive)
    started = time.time()
    found = _search(server, pos=(ra, dec, 0.5), LIVE=True)
    asked = {e["path"] for e in _live_requests(unruly, started) if e["source"] == "unruly"}
    assert asked == {"/fresh/sia/query"}  # the others' coverage is around (150, 10)
    infos = _infos(found)
    assert {FRESH, AWKWARD_TAP} <= set(infos) and not {HTML, TRUNCATED, STALL} & set(infos)
    awkward = [e for e in _live_requests(unruly, started) if e["source"] == "awkward"]
    assert awkward and all(f"INTERSECTS(CIRCLE('ICRS', {ra!r}, {dec!r}, 0.5), s_region)" in e["query"] for e in awkward)


def test_the_federated_search_has_a_registry_record_of_its_own(
    archive: Archive, server: str, registry_xsd: etree.XMLSchema, first_crawl: FirstCrawl
) -> None:
    answer = httpx.get(
        f"{server}/oai",
        params={"verb": "GetRecord", "metadataPrefix": "ivo_vor", "identifier": FEDERATED_IVOID},
        timeout=30,
    )
    document = etree.fromstring(answer.content)
    assert schema_errors(registry_xsd, document) == ""
    record = document.find(".//{http://www.ivoa.net/xml/RegistryInterface/v1.0}Resource")
    assert record is not None and "obscore#table" not in etree.tostring(record).decode().lower()
    sia = record.find("capability[@standardID='ivo://ivoa.net/std/SIA#query-2.0']")
    assert sia is not None and sia.findtext("interface/accessURL") == f"{server}/federated/sia/query"
    relations = {
        (rel.findtext("relationshipType"), r.get("ivo-id"))
        for rel in record.iterfind("content/relationship")
        for r in rel.iterfind("relatedResource")
    }
    assert relations >= {("IsServiceFor", CACHE_IVOID), ("IsDerivedFrom", SOURCE_TAP), ("IsDerivedFrom", AWKWARD_TAP)}
    with psycopg.connect(archive.url) as conn:  # in the local RegTAP too, where pyvo.regsearch finds it
        found = conn.execute(
            "SELECT i.access_url FROM rr.capability c JOIN rr.interface i USING (ivoid, cap_index) "
            "WHERE c.ivoid = %s AND c.standard_id = 'ivo://ivoa.net/std/sia#query-2.0'",
            (FEDERATED_IVOID,),
        ).fetchall()
        utypes = conn.execute("SELECT count(*) FROM rr.res_table WHERE ivoid = %s", (FEDERATED_IVOID,)).fetchone()
    assert found == [(f"{server}/federated/sia/query",)] and utypes == (0,)
