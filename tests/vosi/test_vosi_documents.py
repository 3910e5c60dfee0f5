"""VOSI documents built without a database or server (availability, capabilities of TAP with
TAPRegExt and of the other services, tableset and one table from TAP_SCHEMA-shaped rows),
validated against the IVOA schemas STILTS ships, and read for what they say."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from adql.features import LANGUAGE_FEATURES
from dalserver.dali.examples import examples_document
from dalserver.formats.registry import FORMATS
from dalserver.tap.examples import EXAMPLES
from dalserver.vosi import documents
from ivoa.vocabulary import StandardID
from schemas.model import builtin_schemas, catalog_of
from schemas.tableset import Tableset, TapColumn, TapForeignKey, TapSchema, TapTable, tableset_of
from tests.support.schemas import schema_errors

BASE = "http://example.org:8000"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
AV = "{http://www.ivoa.net/xml/VOSIAvailability/v1.0}"
LIMITS = documents.TapLimits(
    maxrec_default=10000,
    maxrec_hard=1000000,
    execution_default=600,
    execution_hard=3600,
    retention_default=86400,
    retention_hard=604800,
    upload_bytes=100000000,
    upload_url=True,
)


def tap_capabilities(upload_url: bool = True) -> bytes:
    limits = LIMITS if upload_url else documents.TapLimits(**{**LIMITS.__dict__, "upload_url": False})
    return documents.tap_capabilities(BASE, FORMATS, limits)


# --- availability --------------------------------------------------------------------------------
@pytest.mark.parametrize("available", [True, False])
def test_availability_is_valid_vosi_and_says_when_it_started(ivoa_schema: etree.XMLSchema, available: bool) -> None:
    since = datetime(2024, 1, 2, 12, 0, 0, tzinfo=timezone(timedelta(hours=-5)))
    document = documents.availability(available, "the database cannot be reached: <OperationalError> & co", since)
    assert schema_errors(ivoa_schema, document) == ""
    doc = etree.fromstring(document)
    assert doc.findtext(f"{AV}available") == ("true" if available else "false")
    assert doc.findtext(f"{AV}upSince") == "2024-01-02T17:00:00Z"
    assert doc.findtext(f"{AV}note") == "the database cannot be reached: <OperationalError> & co"


# --- capabilities --------------------------------------------------------------------------------
@pytest.mark.parametrize("upload_url", [True, False])
def test_tap_capabilities_are_valid_tapregext(ivoa_schema: etree.XMLSchema, upload_url: bool) -> None:
    assert schema_errors(ivoa_schema, tap_capabilities(upload_url)) == ""


def _tap(doc: etree._Element) -> etree._Element:
    (tap,) = [c for c in doc.iter("capability") if c.get("standardID") == "ivo://ivoa.net/std/TAP"]
    return tap


def test_tap_capabilities_list_every_output_format_with_its_ivo_id() -> None:
    tap = _tap(etree.fromstring(tap_capabilities()))
    listed = [
        (o.get("ivo-id"), o.findtext("mime"), [a.text for a in o.iter("alias")]) for o in tap.iter("outputFormat")
    ]
    assert listed == [(f.ivo_id, f.mime, list(f.aliases[:1])) for f in FORMATS]


def test_tap_capabilities_state_the_limits_and_upload_methods() -> None:
    tap = _tap(etree.fromstring(tap_capabilities()))
    assert tap.get(XSI_TYPE) == "tr:TableAccess"
    values = {(e.getparent().tag, e.tag, e.get("unit")): e.text for e in tap.iter("default", "hard")}
    assert values == {
        ("retentionPeriod", "default", None): "86400",
        ("retentionPeriod", "hard", None): "604800",
        ("executionDuration", "default", None): "600",
        ("executionDuration", "hard", None): "3600",
        ("outputLimit", "default", "row"): "10000",
        ("outputLimit", "hard", "row"): "1000000",
        ("uploadLimit", "hard", "byte"): "100000000",
    }
    methods = [m.get("ivo-id").rsplit("#", 1)[1] for m in tap.iter("uploadMethod")]
    assert methods == ["upload-inline", "upload-http", "upload-https"]
    inline_only = _tap(etree.fromstring(tap_capabilities(upload_url=False)))
    assert [m.get("ivo-id").rsplit("#", 1)[1] for m in inline_only.iter("uploadMethod")] == ["upload-inline"]


def test_tap_capabilities_declare_adql_2_1_and_every_language_feature() -> None:
    tap = _tap(etree.fromstring(tap_capabilities()))
    (language,) = tap.iter("language")
    assert language.findtext("name") == "ADQL"
    assert [v.get("ivo-id") for v in language.iter("version")] == [
        "ivo://ivoa.net/std/ADQL#v2.1",
        "ivo://ivoa.net/std/ADQL#v2.0",
    ]
    declared = {
        g.get("type"): [f.findtext("form") for f in g.iter("feature")] for g in language.iter("languageFeatures")
    }
    assert declared == {kind: [form for form, _ in features] for kind, features in LANGUAGE_FEATURES.items()}


def test_tap_capabilities_point_at_the_tap_resources_under_the_base_url() -> None:
    doc = etree.fromstring(tap_capabilities())
    urls = {c.get("standardID"): c.findtext("interface/accessURL") for c in doc.iter("capability")}
    assert urls == {
        "ivo://ivoa.net/std/TAP": f"{BASE}/tap",
        "ivo://ivoa.net/std/VOSI#capabilities": f"{BASE}/tap/capabilities",
        "ivo://ivoa.net/std/VOSI#availability": f"{BASE}/tap/availability",
        "ivo://ivoa.net/std/VOSI#tables": f"{BASE}/tap/tables",
        "ivo://ivoa.net/std/DALI#examples": f"{BASE}/tap/examples",
    }


@pytest.mark.parametrize(
    "service, standard, resource, interface",
    [
        ("sia", StandardID.SIA2, "query", {"version": "2.0"}),
        ("soda", StandardID.SODA_SYNC, "sync", {}),
        ("datalink", StandardID.DATALINK, "links", {"version": "1.1"}),
    ],
)
@pytest.mark.parametrize("examples", [True, False])
def test_service_capabilities_are_valid_vosi_with_the_service_then_vosi_then_examples(
    ivoa_schema: etree.XMLSchema, service: str, standard: str, resource: str, interface: dict[str, str], examples: bool
) -> None:
    base = f"{BASE}/{service}"
    capability = documents.Capability(standard, f"{base}/{resource}", **interface)
    document = documents.service_capabilities(base, [capability], examples=examples)
    assert schema_errors(ivoa_schema, document) == ""
    found = [(c.get("standardID"), c.findtext("interface/accessURL")) for c in etree.fromstring(document)]
    assert found == [
        (standard, f"{base}/{resource}"),
        ("ivo://ivoa.net/std/VOSI#capabilities", f"{base}/capabilities"),
        ("ivo://ivoa.net/std/VOSI#availability", f"{base}/availability"),
        *([("ivo://ivoa.net/std/DALI#examples", f"{base}/examples")] if examples else []),
    ]
    (first,) = etree.fromstring(document)[0].iter("interface")
    assert first.get("role") == "std" and first.get("version") == interface.get("version")


# --- tables ----------------------------------------------------------------------------------------
PUBLISHED = tableset_of(builtin_schemas())


@pytest.mark.parametrize("detail_min", [False, True], ids=["full", "detail-min"])
def test_the_tableset_of_the_builtin_schemas_is_valid_vodataservice(
    ivoa_schema: etree.XMLSchema, detail_min: bool
) -> None:
    document = documents.tableset(PUBLISHED, detail_min=detail_min)
    assert schema_errors(ivoa_schema, document) == ""
    doc = etree.fromstring(document)
    assert [s.findtext("name") for s in doc.iter("schema")] == ["tap_schema", "ivoa", "rr", "vo"]
    assert bool(list(doc.iter("column"))) is not detail_min


def test_one_table_is_valid_vodataservice_with_its_columns_in_order(ivoa_schema: etree.XMLSchema) -> None:
    obscore = PUBLISHED.table("ivoa.obscore")
    assert obscore is not None
    document = documents.single_table(obscore)
    assert schema_errors(ivoa_schema, document) == ""
    names = [c.findtext("name") for c in etree.fromstring(document).iter("column")]
    assert names == [c.name for c in obscore.columns] and names[:2] == ["dataproduct_type", "calib_level"]


ODD_TABLE = TapTable(
    "odd",
    "odd.things",
    "view",
    "Rows <with> & without",
    "x:y",
    columns=(
        TapColumn('"size"', "int", unit="byte", ucd="phys.size", indexed=True, std=True),
        TapColumn("pos", "double", "2", "point", principal=True),
        TapColumn("note", "unicodeChar", "*", description="ü & <b>"),
    ),
    foreign_keys=(TapForeignKey("odd-other", "odd.other", (('"size"', "id"),), "to the other"),),
)


def test_a_table_carries_types_xtypes_flags_and_keys_escaped(ivoa_schema: etree.XMLSchema) -> None:
    document = documents.tableset(Tableset((TapSchema("odd", "<&>", None, (ODD_TABLE,)),)))
    assert schema_errors(ivoa_schema, document) == ""
    table = next(etree.fromstring(document).iter("table"))
    assert table.get("type") == "view" and table.findtext("description") == "Rows <with> & without"
    size, pos, note = table.iter("column")
    assert size.findtext("name") == '"size"' and [f.text for f in size.iter("flag")] == ["indexed", "std"]
    data_type = pos.find("dataType")
    assert (data_type.text, data_type.get("arraysize"), data_type.get("extendedType")) == ("double", "2", "point")
    assert data_type.get(XSI_TYPE) == "vs:VOTableType" and note.findtext("description") == "ü & <b>"
    key = table.find("foreignKey")
    assert key.findtext("targetTable") == "odd.other" and key.findtext("fkColumn/fromColumn") == '"size"'


def test_the_published_tableset_gives_the_catalogue_the_table_definitions_give() -> None:
    assert PUBLISHED.catalog() == catalog_of(builtin_schemas())


# --- taplint, offline: the capabilities, tables and examples as files ------------------------------
def test_taplint_finds_the_tableset_sound_and_every_tap_example_valid_adql_on_its_tables(tmp_path: Path) -> None:
    """taplint given file URLs: the tableset against its schema and for content (TMV, TME), the
    examples document, its RDFa and every query's syntax and table and column names (EXA). The
    running service is checked in every stage by tests/tap/test_taplint."""
    stilts = shutil.which("stilts")
    assert stilts, "stilts is not installed: ./dev test installs Debian's stilts package"
    tap = tmp_path / "tap"
    tap.mkdir()
    base = tmp_path.as_uri()
    (tap / "capabilities").write_bytes(documents.tap_capabilities(base, FORMATS, LIMITS))
    (tap / "tables").write_bytes(documents.tableset(PUBLISHED))
    (tap / "examples").write_bytes(examples_document("dalserver", EXAMPLES))
    result = subprocess.run(
        [stilts, "taplint", f"tapurl={tap.as_uri()}", "stages=TMV TME EXA", "report=EWSF"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = result.stdout.splitlines()
    # What a file cannot do: carry a Content-Type, or run a query.
    offline = ("E-EXA-GMIM", "W-EXA-QERR")
    problems = [line for line in lines if line[:2] in ("E-", "W-", "F-") and not line.startswith(offline)]
    assert problems == [], result.stdout
    count = len(EXAMPLES)
    summary = f"Syntax validity success/attempt: {count}/{count}, Symbol validity success/attempt: {count}/{count}"
    assert any(summary in line for line in lines), result.stdout
