"""The cache as users meet it: vo.remote_obscore and vo.remote_coverage answer ADQL through
pyvo like every other table (cones, polygons, MOCs, ORDER BY and TOP), with the values the
sources hold; the cache's registry record derives from its sources and is no ObsCore table."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pyvo
from lxml import etree

from tests.crawl.conftest import AWKWARD_TAP, SOURCE_TAP, FirstCrawl, Sources
from tests.support.archive import Archive
from tests.support.schemas import schema_errors

CACHE_IVOID = "ivo://dalserver.demo/vo/remote_obscore"
CONE = "CIRCLE('ICRS', 150, 10, 12)"


def _ask(url: str, query: str) -> list[tuple[Any, ...]]:
    table = pyvo.dal.TAPService(url).search(query).to_table()
    return [tuple(row) for row in table]


def test_a_cone_on_the_cache_finds_what_a_cone_at_the_source_finds(
    tap_url: str, sources: Sources, first_crawl: FirstCrawl
) -> None:
    cached = _ask(
        tap_url,
        f"SELECT obs_publisher_did, access_url FROM vo.remote_obscore WHERE source_ivoid = '{SOURCE_TAP}' "
        f"AND 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), {CONE})",
    )
    there = _ask(
        f"{sources.plain}/tap",
        f"SELECT obs_publisher_did, access_url FROM ivoa.obscore WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), {CONE})",
    )
    assert len(cached) > 50 and sorted(cached) == sorted(there)


def test_order_by_and_top_give_the_sources_rows_with_their_values(
    tap_url: str, sources: Sources, first_crawl: FirstCrawl
) -> None:
    columns = "obs_publisher_did, t_min, em_min, s_ra, s_dec, s_region, facility_name, access_estsize"
    cached = _ask(
        tap_url,
        f"SELECT TOP 7 {columns} FROM vo.remote_obscore WHERE source_ivoid = '{SOURCE_TAP}' AND t_min IS NOT NULL "
        "ORDER BY t_min DESC",
    )
    there = _ask(
        f"{sources.plain}/tap", f"SELECT TOP 7 {columns} FROM ivoa.obscore WHERE t_min IS NOT NULL ORDER BY t_min DESC"
    )
    assert len(cached) == 7 and cached == there


def test_footprints_and_mocs_select_as_at_the_source(tap_url: str, sources: Sources, first_crawl: FirstCrawl) -> None:
    sxds = "POLYGON('ICRS', 34.0, -5.5, 35.0, -5.5, 35.0, -4.5, 34.0, -4.5)"
    cached = _ask(
        tap_url,
        f"SELECT obs_publisher_did FROM vo.remote_obscore WHERE source_ivoid = '{SOURCE_TAP}' "
        f"AND 1 = INTERSECTS(s_region, {sxds})",
    )
    there = _ask(
        f"{sources.plain}/tap", f"SELECT obs_publisher_did FROM ivoa.obscore WHERE 1 = INTERSECTS(s_region, {sxds})"
    )
    assert len(cached) >= 12 and sorted(cached) == sorted(there)
    moc = f"MOC(6, {CONE})"
    cached_n = _ask(
        tap_url,
        f"SELECT COUNT(*) FROM vo.remote_obscore WHERE source_ivoid = '{SOURCE_TAP}' "
        f"AND 1 = CONTAINS(POINT(s_ra, s_dec), {moc})",
    )
    there_n = _ask(
        f"{sources.plain}/tap", f"SELECT COUNT(*) FROM ivoa.obscore WHERE 1 = CONTAINS(POINT(s_ra, s_dec), {moc})"
    )
    assert cached_n == there_n and cached_n[0][0] > 50


def test_the_coverage_table_counts_other_facilities_per_cell(tap_url: str, first_crawl: FirstCrawl) -> None:
    region = "MOC(6, CIRCLE('ICRS', 110, 20, 15))"
    by_cells = _ask(
        tap_url,
        "SELECT source_ivoid, facility_name, instrument_name, SUM(dataset_count) AS n FROM vo.remote_coverage "
        f"WHERE 1 = CONTAINS(POINT(cell_ra, cell_dec), {region}) GROUP BY source_ivoid, facility_name, instrument_name",
    )
    by_rows = _ask(
        tap_url,
        "SELECT source_ivoid, facility_name, instrument_name, COUNT(*) AS n FROM vo.remote_obscore "
        f"WHERE 1 = CONTAINS(POINT(s_ra, s_dec), {region}) GROUP BY source_ivoid, facility_name, instrument_name",
    )
    assert sorted(by_cells) == sorted(by_rows)
    assert {(s, f) for s, f, _, _ in by_cells} >= {(AWKWARD_TAP, "Old Schmidt"), (SOURCE_TAP, "Keck")}
    totals: dict[str, int] = dict(
        _ask(tap_url, "SELECT source_ivoid, SUM(dataset_count) FROM vo.remote_coverage GROUP BY source_ivoid")
    )
    positioned: dict[str, int] = dict(
        _ask(
            tap_url, "SELECT source_ivoid, COUNT(*) FROM vo.remote_obscore WHERE s_ra IS NOT NULL GROUP BY source_ivoid"
        )
    )
    assert totals == positioned


def test_the_caches_record_derives_from_its_sources_and_is_no_obscore_table(
    archive: Archive, server: str, registry_xsd: etree.XMLSchema, first_crawl: FirstCrawl
) -> None:
    answer = httpx.get(
        f"{server}/oai",
        params={"verb": "GetRecord", "metadataPrefix": "ivo_vor", "identifier": CACHE_IVOID},
        timeout=30,
    )
    document = etree.fromstring(answer.content)
    assert schema_errors(registry_xsd, document) == ""
    record = document.find(".//{http://www.ivoa.net/xml/RegistryInterface/v1.0}Resource")
    assert record is not None
    derived = {
        r.get("ivo-id")
        for rel in record.iterfind("content/relationship")
        if rel.findtext("relationshipType") == "IsDerivedFrom"
        for r in rel.iterfind("relatedResource")
    }
    assert derived == {SOURCE_TAP, AWKWARD_TAP}
    assert "obscore#table" not in etree.tostring(record).decode().lower()
    assert {t.findtext("name") for t in record.iterfind("tableset/schema/table")} == {
        "vo.remote_obscore",
        "vo.remote_coverage",
    }
    with psycopg.connect(archive.url) as conn:  # in the local RegTAP as well, as pyvo.discover would see it
        utypes = conn.execute("SELECT table_utype FROM rr.res_table WHERE ivoid = %s", (CACHE_IVOID,)).fetchall()
        relations = conn.execute(
            "SELECT related_id FROM rr.relationship WHERE ivoid = %s AND relationship_type = 'isderivedfrom'",
            (CACHE_IVOID,),
        ).fetchall()
    assert utypes == [(None,), (None,)] and {r for (r,) in relations} == {SOURCE_TAP, AWKWARD_TAP}
