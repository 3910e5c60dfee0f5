"""VOResource records as RegTAP rows (no database): lower-cased identifiers and types with the
canonical prefixes whatever the document's, NULL for empty strings, hash-joined lists, the
vocabularies' current terms, res_detail pairs, the coverage MOC."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from dalserver.records.build import build_records
from dalserver.records.config import RegistryConfig
from dalserver.records.regtap import Rows, canonical_type, rows_of
from tests.support.registry import sample_settings, sample_state


@pytest.fixture(autouse=True)
def _home_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The records come from the hand-made state alone, not from the surveys of whatever archive
    the tests run beside: each test has an empty home of its own."""
    monkeypatch.setenv("DALSERVER_HOME", str(tmp_path))


def _rows(ivoid: str) -> Rows:
    records = build_records(sample_state(), sample_settings(authority="Example.ORG"), RegistryConfig())
    record = next(r for r in records if r.ivoid.lower() == ivoid)
    assert record.resource is not None
    return rows_of(record.resource)


def test_identifiers_and_types_are_lower_case() -> None:
    rows = _rows("ivo://example.org/sia")
    (resource,) = rows.tables["resource"]
    assert resource["ivoid"] == "ivo://example.org/sia" and resource["res_type"] == "vs:catalogservice"
    standards = [c["standard_id"] for c in rows.tables["capability"]]
    assert "ivo://ivoa.net/std/sia#query-2.0" in standards and "ivo://ivoa.net/std/datalink#links-1.1" in standards
    assert {c["cap_type"] for c in rows.tables["capability"]} >= {"sia:simpleimageaccess", None}
    assert {i["intf_type"] for i in rows.tables["interface"]} == {"vs:paramhttp"}


def test_types_get_the_canonical_prefix_whatever_the_documents_own() -> None:
    element = etree.fromstring(
        '<r xmlns:x="http://www.w3.org/2001/XMLSchema-instance" xmlns:data="http://www.ivoa.net/xml/VODataService/v1.1" '
        'x:type="data:CatalogService"/>'
    )
    assert canonical_type(element) == "vs:catalogservice"


def test_lists_are_hash_joined_and_relationships_use_the_current_terms() -> None:
    rows = _rows("ivo://example.org/subaru-suprime-cam")
    (resource,) = rows.tables["resource"]
    assert resource["waveband"] == "optical#infrared" and resource["content_level"] == "research"
    assert {(r["relationship_type"], r["related_id"]) for r in rows.tables["relationship"]} == {
        ("isservedby", "ivo://example.org/tap"),
        ("isservedby", "ivo://example.org/sia"),
    }
    assert rows.tables["stc_spatial"][0]["coverage"].startswith("6/")
    assert {d["value_role"] for d in rows.tables["res_date"]} == {"created", "updated"}


def test_no_empty_strings_only_nulls() -> None:
    for ivoid in ("ivo://example.org", "ivo://example.org/tap", "ivo://example.org/sxds/photometry"):
        for table, records in _rows(ivoid).tables.items():
            for record in records:
                assert "" not in record.values(), (table, record)


def test_roles_and_details() -> None:
    rows = _rows("ivo://example.org/tap")
    assert {r["base_role"] for r in rows.tables["res_role"]} == {"publisher", "creator", "contact"}
    (contact,) = [r for r in rows.tables["res_role"] if r["base_role"] == "contact"]
    assert contact["email"] == "vo-support@example.org"
    details = {(d["detail_xpath"], d["detail_value"]) for d in rows.tables["res_detail"]}
    assert ("/capability/dataModel/@ivo-id", "ivo://ivoa.net/std/ObsCore#core-1.1") in details
    assert ("/capability/language/name", "ADQL") in details
    columns = rows.tables["table_column"]
    assert {"ra", "dec", "s_ra"} <= {c["name"] for c in columns}
    assert all(c["ucd"] is None or c["ucd"] == c["ucd"].lower() for c in columns)
