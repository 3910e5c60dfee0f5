"""Simple Cone Search 1.03 through pyvo and plain HTTP: the sources within the radius (computed
independently), nearest first, the UCD1 columns SCS clients look for, SR=0, VERB, MAXREC, the
error VOTable with HTTP 200, one RESOURCE with one TABLE, the position index, VOSI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
import pyvo
from lxml import etree

from dalserver.pipeline import row_limit
from dalserver.scs.query import Cone, ConeTable, prepare_cone
from data_ingest.sample import stack_specs
from tests.support.archive import Archive, load_catalog
from tests.support.registry import drop_catalog, publish_catalog, write_sxds_catalog
from tests.support.votable import NS, votlint_messages

TABLE = "scs.sources"


def _separation(ra: np.ndarray, dec: np.ndarray, ra0: float, dec0: float) -> np.ndarray:
    r, d, r0, d0 = (np.radians(x) for x in (ra, dec, ra0, dec0))
    cos = np.sin(d) * np.sin(d0) + np.cos(d) * np.cos(d0) * np.cos(r - r0)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


@pytest.fixture(scope="module")
def sources(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[np.ndarray]:
    data, meta = write_sxds_catalog(tmp_path_factory.mktemp("scs"), sources=2000, seed=11)
    publish_catalog(archive.env, data, TABLE, meta)
    yield np.genfromtxt(data, delimiter=",", names=True)
    drop_catalog(archive.env, TABLE)


def _url(server: str, table: str = TABLE) -> str:
    return f"{server}/scs/{table}"


def test_pyvo_finds_exactly_the_sources_within_the_radius(server: str, sources: np.ndarray) -> None:
    ra0, dec0, radius = 34.5, -5.0, 0.05
    result = pyvo.dal.SCSService(_url(server)).search(pos=(ra0, dec0), radius=radius)
    found = sorted(int(r["source_id"]) for r in result)
    inside = _separation(sources["ra"], sources["dec"], ra0, dec0) <= radius
    assert found == sorted(int(i) for i in sources["source_id"][inside]) and len(found) > 5
    first = result[0]
    assert first.id is not None and first.pos is not None  # SCSRecord finds ID_MAIN, POS_EQ_*_MAIN
    distances = _separation(np.array([r["ra"] for r in result]), np.array([r["dec"] for r in result]), ra0, dec0)
    assert list(distances) == sorted(distances)  # nearest first


def test_the_answer_has_one_resource_one_table_and_the_ucd1_columns(
    server: str, sources: np.ndarray, tmp_path: Path
) -> None:
    response = httpx.get(_url(server), params={"RA": 34.5, "DEC": -5.0, "SR": 0.05}, timeout=30)
    doc = etree.fromstring(response.content)
    assert len(doc.findall("v:RESOURCE", NS)) == 1 and len(doc.findall("v:RESOURCE/v:TABLE", NS)) == 1
    ucds = [f.get("ucd") for f in doc.iterfind(".//v:FIELD", NS)]
    for ucd in ("ID_MAIN", "POS_EQ_RA_MAIN", "POS_EQ_DEC_MAIN"):
        assert ucds.count(ucd) == 1
    messages = votlint_messages(response.content, tmp_path)
    assert "ERROR" not in messages.upper(), messages


def test_sr_zero_gives_the_columns_and_no_rows(server: str, sources: np.ndarray) -> None:
    response = httpx.get(_url(server), params={"RA": 34.5, "DEC": -5.0, "SR": 0}, timeout=30)
    doc = etree.fromstring(response.content)
    assert doc.findall(".//v:FIELD", NS) and not doc.findall(".//v:TR", NS)


@pytest.mark.parametrize(
    ("verb", "names"), [("1", ["source_id", "ra", "dec"]), ("3", ["source_id", "ra", "dec", "mag"])]
)
def test_verb_chooses_the_columns(server: str, sources: np.ndarray, verb: str, names: list[str]) -> None:
    response = httpx.get(_url(server), params={"RA": 34.5, "DEC": -5.0, "SR": 0.05, "VERB": verb}, timeout=30)
    assert [f.get("name") for f in etree.fromstring(response.content).iterfind(".//v:FIELD", NS)] == names


def test_maxrec_cuts_with_overflow_keeping_the_nearest(server: str, sources: np.ndarray) -> None:
    response = httpx.get(_url(server), params={"RA": 34.5, "DEC": -5.0, "SR": 0.2, "MAXREC": 3}, timeout=30)
    doc = etree.fromstring(response.content)
    rows = doc.findall(".//v:TR", NS)
    assert len(rows) == 3
    assert doc.findall(".//v:INFO[@name='QUERY_STATUS']", NS)[-1].get("value") == "OVERFLOW"
    distances = _separation(sources["ra"], sources["dec"], 34.5, -5.0)
    nearest = sorted(int(i) for i in sources["source_id"][np.argsort(distances)[:3]])
    assert sorted(int(r.findall("v:TD", NS)[0].text) for r in rows) == nearest


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"RA": "abc", "DEC": -5, "SR": 0.1}, "RA"),
        ({"RA": 34.5, "DEC": -95, "SR": 0.1}, "DEC"),
        ({"RA": 34.5, "DEC": -5, "SR": -1}, "SR"),
        ({"RA": 34.5, "DEC": -5, "SR": 20}, "SR"),
        ({"DEC": -5, "SR": 0.1}, "RA"),
        ({"RA": 34.5, "DEC": -5, "SR": 0.1, "VERB": 7}, "VERB"),
    ],
)
def test_bad_parameters_get_an_error_votable_with_http_200(
    server: str, sources: np.ndarray, params: dict[str, Any], named: str
) -> None:
    response = httpx.get(_url(server), params=params, timeout=30)
    assert response.status_code == 200
    doc = etree.fromstring(response.content)
    error = doc.find(".//v:INFO[@name='Error']", NS)
    assert error is not None and error.get("ID") == "Error" and error.get("value").startswith(named)
    assert doc.find(".//v:INFO[@name='QUERY_STATUS']", NS).get("value") == "ERROR"


def test_pyvo_reports_the_services_error(server: str, sources: np.ndarray) -> None:
    with pytest.raises(pyvo.dal.DALQueryError, match="SR=20"):
        pyvo.dal.SCSService(_url(server)).search(pos=(34.5, -5.0), radius=20)


def test_an_unknown_table_is_named_in_the_error(server: str) -> None:
    response = httpx.get(_url(server, "no.such"), params={"RA": 1, "DEC": 1, "SR": 1}, timeout=30)
    assert b"no cone search for 'no.such'" in response.content


def test_obscore_is_cone_searched_by_its_centres(server: str) -> None:
    ra0, dec0, radius = 34.5, -5.0, 0.2
    result = pyvo.dal.SCSService(_url(server, "ivoa.obscore")).search(pos=(ra0, dec0), radius=radius)
    specs = stack_specs()
    near = _separation(np.array([s.ra for s in specs]), np.array([s.dec for s in specs]), ra0, dec0) <= radius
    assert len(result) == int(near.sum()) > 0
    assert all(r.id.startswith("ivo://dalserver.demo/subaru-suprime-cam?") for r in result)


def test_the_cone_uses_the_position_index(archive: Archive, db: psycopg.Connection, sources: np.ndarray) -> None:
    table = ConeTable(TABLE, "ra", "dec", "source_id", (), ("source_id", "ra", "dec", "mag"))
    query = prepare_cone(table, Cone(34.5, -5.0, 0.01, 2, 100), load_catalog(archive.url))
    assert f"LIMIT {row_limit(100)}" in query.sql
    plan = "\n".join(r[0] for r in db.execute(f"EXPLAIN {query.sql}"))
    assert ("Index Scan" in plan or "Bitmap Index Scan" in plan) and "sources_pos_" in plan, plan


@pytest.mark.parametrize("resource", ["capabilities", "availability"])
def test_every_endpoint_has_vosi_resources(
    server: str, sources: np.ndarray, ivoa_schema: etree.XMLSchema, resource: str
) -> None:
    for table in (TABLE, "ivoa.obscore"):
        response = httpx.get(f"{_url(server, table)}/{resource}", timeout=30)
        assert response.status_code == 200
        assert ivoa_schema.validate(etree.fromstring(response.content)), ivoa_schema.error_log
