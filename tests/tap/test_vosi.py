"""The first form of the VOSI resources: enough for pyvo to connect and list the tables."""

from __future__ import annotations

import httpx
import pyvo
from lxml import etree


def test_availability_says_available(tap_url: str) -> None:
    response = httpx.get(f"{tap_url}/availability")
    doc = etree.fromstring(response.content)
    assert doc.findtext("{http://www.ivoa.net/xml/VOSIAvailability/v1.0}available") == "true"


def test_capabilities_describe_tap_with_adql_and_limits(tap_url: str) -> None:
    service = pyvo.dal.TAPService(tap_url)
    tap = next(c for c in service.capabilities if c.standardid == "ivo://ivoa.net/std/TAP")
    assert any(lang.name == "ADQL" for lang in tap.languages)
    assert service.maxrec == 10_000
    assert service.hardlimit == 10_000_000


def test_tables_lists_obscore_with_column_metadata(tap_url: str) -> None:
    tables = pyvo.dal.TAPService(tap_url).tables
    obscore = tables["ivoa.obscore"]
    columns = {c.name: c for c in obscore.columns}
    assert columns["s_ra"].unit == "deg"
    assert columns["s_ra"].ucd == "pos.eq.ra"
    assert columns["em_band_name"].ucd == "instr.filter"
    assert "tap_schema.columns" in list(tables.keys())


def test_one_table_and_unknown_table(tap_url: str) -> None:
    assert b"<name>ivoa.obscore</name>" in httpx.get(f"{tap_url}/tables/ivoa.obscore").content
    assert httpx.get(f"{tap_url}/tables/ivoa.nothing").status_code == 404


def test_landing_page_is_html(tap_url: str) -> None:
    response = httpx.get(tap_url)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]


def test_reserved_word_columns_are_published_delimited_and_queryable(tap_url: str) -> None:
    names = {c.name for c in pyvo.dal.TAPService(tap_url).tables["tap_schema.columns"].columns}
    assert '"size"' in names
    result = pyvo.dal.TAPService(tap_url).search('SELECT TOP 1 "size" FROM TAP_SCHEMA.columns')
    assert list(result.fieldnames) == ["size"]


def test_capabilities_list_udfs_and_optional_adql_features(tap_url: str) -> None:
    service = pyvo.dal.TAPService(tap_url)
    tap = next(c for c in service.capabilities if c.standardid == "ivo://ivoa.net/std/TAP")
    adql = next(lang for lang in tap.languages if lang.name == "ADQL")
    udfs = adql.get_feature_list("ivo://ivoa.net/std/TAPRegExt#features-udf")
    forms = {f.form for f in udfs}
    assert "ivo_hasword(haystack VARCHAR(*), needle VARCHAR(*)) -> INTEGER" in forms
    assert {"ivo_nocasematch", "ivo_hashlist_has", "ivo_string_agg", "ivo_interval_overlaps"} <= {
        f.split("(")[0] for f in forms
    }
    geometry = {f.form for f in adql.get_feature_list("ivo://ivoa.net/std/TAPRegExt#features-adqlgeo")}
    assert {"POLYGON", "REGION", "AREA", "CENTROID", "COORDSYS"} <= geometry
    assert adql.get_feature("ivo://ivoa.net/std/TAPRegExt#features-adql-sets", "UNION") is not None
