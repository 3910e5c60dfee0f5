"""DALI examples documents of every service, built without a database: XHTML with the RDFa
properties of DALI 1.1 sec. 2.3 (read back with lxml), and every example usable as written: TAP
queries translate against the published tables, SIA, SODA and DataLink parameters are accepted.
STILTS ships no XHTML schema; taplint reads the TAP examples offline in tests/vosi."""

from __future__ import annotations

from dataclasses import replace

import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord
from lxml import etree

from adql import to_postgres
from dalserver.dali.examples import Example, examples_document
from dalserver.dali.values import parse_circle, parse_polygon, parse_pos
from dalserver.datalink.examples import datalink_examples
from dalserver.formats.registry import find_format
from dalserver.obscore.example_dataset import Sample, triangle_text
from dalserver.sia.examples import sia_examples
from dalserver.sia.query import build_query, obscore_table
from dalserver.soda.examples import soda_examples
from dalserver.tap.examples import EXAMPLES
from ivoa.vocabulary import StandardID
from schemas.model import builtin_schemas, catalog_of

XHTML = "{http://www.w3.org/1999/xhtml}"
CATALOG = catalog_of(builtin_schemas())
SAMPLES = {
    "sample": Sample("ivo://example.org/suprimecam?stack-1", 34.5, -5.0, 0.5, 4.5e-7, 5.5e-7, 54000.1, 54000.2, "SC"),
    "at-ra-0-near-the-pole": Sample("ivo://x/y?1", 359.99, 89.99, 0.1, None, None, None, None, None),
}
SERVICES = {
    "sia": (StandardID.SIA2, sia_examples),
    "datalink": (StandardID.DATALINK, datalink_examples),
    "soda": (StandardID.SODA_SYNC, soda_examples),
}


def rdfa(document: bytes) -> list[dict[str, object]]:
    """Each example as a client reads it: the element with typeof="example" and its properties."""
    root = etree.fromstring(document)
    body = root.find(f"{XHTML}body")
    assert root.tag == f"{XHTML}html" and body.get("vocab") == "ivo://ivoa.net/std/DALI#examples"
    found = []
    for div in body.iter():
        if div.get("typeof") != "example":
            continue
        props: dict[str, object] = {"id": div.get("id"), "resource": div.get("resource")}
        tables: list[str] = []
        params: list[tuple[str, str]] = []
        for element in div.iter():
            name = element.get("property")
            if name in ("name", "capability", "query"):
                props[name] = element.text
            elif name == "table":
                tables.append(element.text)
            elif name == "generic-parameter":
                assert element.get("typeof") == "keyval"
                params.append((element.find("*[@property='key']").text, element.find("*[@property='value']").text))
        found.append({**props, "tables": tables, "params": params})
    return found


def documents() -> list[tuple[str, list[Example]]]:
    out = [("tap", list(EXAMPLES))]
    for service, (standard, build) in SERVICES.items():
        for label, sample in SAMPLES.items():
            out.append((f"{service}-{label}", [replace(e, capability=standard) for e in build(sample)]))
    return out


@pytest.mark.parametrize("label, examples", documents(), ids=[label for label, _ in documents()])
def test_examples_documents_carry_every_example_in_rdfa(label: str, examples: list[Example]) -> None:
    document = examples_document('Archive <&> "x"', examples)
    assert document.startswith(b"<?xml") and b"<!DOCTYPE html>" in document
    found = rdfa(document)
    assert [f["id"] for f in found] == [e.id for e in examples] and len({e.id for e in examples}) == len(examples)
    for props, example in zip(found, examples, strict=True):
        assert props["resource"] == f"#{example.id}" and props["name"] == example.name
        assert props.get("capability") == example.capability and props.get("query") == example.query
        assert props["tables"] == list(example.tables) and props["params"] == list(example.params)
    title = etree.fromstring(document).findtext(f"{XHTML}head/{XHTML}title")
    assert title == 'Archive <&> "x": examples'


def test_every_tap_example_translates_against_the_published_tables() -> None:
    for example in EXAMPLES:
        assert example.query and example.tables, example.id
        assert to_postgres(example.query, CATALOG).sql, example.id
        for table in example.tables:
            assert table.lower() in [t.lower() for t in CATALOG.table_names()], (example.id, table)


@pytest.mark.parametrize("sample", list(SAMPLES.values()), ids=list(SAMPLES))
def test_every_sia_example_builds_a_query(sample: Sample) -> None:
    obscore = obscore_table(CATALOG.tables)
    for example in sia_examples(sample):
        values: dict[str, list[str]] = {}
        for key, value in example.params:
            values.setdefault(key, []).append(value)
        assert "WHERE" in build_query(values, obscore, 10).sql, example.id


@pytest.mark.parametrize("sample", list(SAMPLES.values()), ids=list(SAMPLES))
def test_every_soda_example_has_parameters_the_service_accepts(sample: Sample) -> None:
    for example in soda_examples(sample):
        params = list(example.params)
        assert params[0] == ("ID", sample.did), example.id
        for key, value in params[1:]:
            {"CIRCLE": parse_circle, "POLYGON": parse_polygon, "POS": parse_pos}[key](value)


@pytest.mark.parametrize("ra, dec", [(34.5, -5.0), (359.99, 89.99), (0.0, 90.0), (180.0, -90.0), (0.001, -89.9999)])
def test_the_polygon_example_is_a_triangle_around_the_centre_on_the_sky_even_at_a_pole(ra: float, dec: float) -> None:
    sample = Sample("ivo://x/y?1", ra, dec, 0.1, None, None, None, None, None)
    polygon = parse_polygon(triangle_text(sample, 0.025))
    centre = SkyCoord(ra * u.deg, dec * u.deg)
    corners = SkyCoord([v[0] for v in polygon.vertices] * u.deg, [v[1] for v in polygon.vertices] * u.deg)
    # The examples print 7 significant digits: 1e-5 degrees near Dec 90.
    assert all(abs(d - 0.0125) < 1e-5 for d in centre.separation(corners).deg)
    sides = [corners[i].separation(corners[(i + 1) % 3]).deg for i in range(3)]
    assert max(sides) - min(sides) < 2e-5  # equilateral: no vertex folded over the pole


@pytest.mark.parametrize("sample", list(SAMPLES.values()), ids=list(SAMPLES))
def test_every_datalink_example_has_parameters_the_service_accepts(sample: Sample) -> None:
    for example in datalink_examples(sample):
        assert dict(example.params)["ID"] == sample.did
        assert find_format(dict(example.params).get("RESPONSEFORMAT")) is not None, example.id


def test_an_examples_document_without_examples_says_why() -> None:
    document = examples_document("Empty", [], "No image has been ingested yet.")
    assert rdfa(document) == [] and b"No image has been ingested yet." in document
