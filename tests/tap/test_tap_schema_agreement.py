"""TAP_SCHEMA, /tap/tables, result FIELDs and the database describe the same tables: names, order
(column_index), datatypes, units, UCDs, utypes, descriptions, flags and keys."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest
from lxml import etree

from tests.support.tap import sync
from tests.support.votable import fields

VS = "{http://www.ivoa.net/xml/VODataService/v1.1}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
# VOTable datatype -> PostgreSQL types a column of it may be stored as
STORAGE = {
    "short": {"smallint"},
    "int": {"integer"},
    "long": {"bigint"},
    "float": {"real"},
    "double": {"double precision", "spoint", "scircle", "spoly"},
    "char": {
        "text",
        "character varying",
        "character",
        "spoly",
        "smoc",
        "timestamp without time zone",
        "timestamp with time zone",
    },
    "unicodeChar": {"text", "character varying"},
    "boolean": {"boolean"},
}


def _undelimited(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


@pytest.fixture
def published(db: psycopg.Connection) -> dict[str, dict[str, Any]]:
    """TAP_SCHEMA read straight from the database: table name -> its row, columns and keys."""
    tables: dict[str, dict[str, Any]] = {}
    for name, ttype, description, utype in db.execute(
        "SELECT table_name, table_type, description, utype FROM tap_schema.tables"
    ):
        tables[name] = {"type": ttype, "description": description, "utype": utype, "columns": [], "keys": set()}
    for row in db.execute(
        "SELECT table_name, column_name, datatype, arraysize, xtype, unit, ucd, utype, description, "
        "indexed, principal, std, column_index FROM tap_schema.columns ORDER BY table_name, column_index"
    ):
        tables[row[0]]["columns"].append(row[1:])
    for from_table, target, from_column, target_column in db.execute(
        "SELECT k.from_table, k.target_table, kc.from_column, kc.target_column "
        "FROM tap_schema.keys k JOIN tap_schema.key_columns kc USING (key_id)"
    ):
        tables[from_table]["keys"].add((target, from_column, target_column))
    return tables


@pytest.fixture
def tableset(tap_url: str) -> dict[str, etree._Element]:
    doc = etree.fromstring(httpx.get(f"{tap_url}/tables").content)
    return {t.findtext("name"): t for t in doc.iter("table")}


def test_tables_lists_exactly_the_published_tables(
    published: dict[str, Any], tableset: dict[str, etree._Element]
) -> None:
    assert set(tableset) == set(published)
    for name, table in tableset.items():
        assert table.get("type") == published[name]["type"]
        assert (table.findtext("description") or None) == (published[name]["description"] or None)
        assert table.findtext("utype") == published[name]["utype"]


def test_tables_columns_agree_with_tap_schema_in_order_and_metadata(
    published: dict[str, Any], tableset: dict[str, etree._Element]
) -> None:
    for name, table in tableset.items():
        listed = table.findall("column")
        rows = published[name]["columns"]
        assert [c.findtext("name") for c in listed] == [r[0] for r in rows], name
        for column, (col, datatype, arraysize, xtype, unit, ucd, utype, desc, indexed, principal, std, _) in zip(
            listed, rows, strict=True
        ):
            dtype = column.find("dataType")
            assert (dtype.text, dtype.get("arraysize"), dtype.get("extendedType")) == (datatype, arraysize, xtype)
            assert dtype.get(XSI_TYPE) == "vs:VOTableType"
            assert (column.findtext("unit"), column.findtext("ucd"), column.findtext("utype")) == (unit, ucd, utype)
            assert (column.findtext("description") or None) == (desc or None), f"{name}.{col}"
            flags = {f.text for f in column.findall("flag")}
            assert flags == {f for f, on in (("indexed", indexed), ("principal", principal), ("std", std)) if on}


def test_foreign_keys_agree_and_point_at_published_columns(
    published: dict[str, Any], tableset: dict[str, etree._Element]
) -> None:
    for name, table in tableset.items():
        listed = {
            (key.findtext("targetTable"), fk.findtext("fromColumn"), fk.findtext("targetColumn"))
            for key in table.findall("foreignKey")
            for fk in key.findall("fkColumn")
        }
        assert listed == published[name]["keys"], name
        for target, from_column, target_column in listed:
            assert from_column in {c[0] for c in published[name]["columns"]}
            assert target_column in {c[0] for c in published[target]["columns"]}
    assert any(published[t]["keys"] for t in published)  # TAP_SCHEMA's own keys are published


def test_column_index_runs_from_one_without_gaps(published: dict[str, Any]) -> None:
    for name, table in published.items():
        assert [c[-1] for c in table["columns"]] == list(range(1, len(table["columns"]) + 1)), name


def test_every_published_column_exists_in_the_database_with_a_matching_type(
    published: dict[str, Any], db: psycopg.Connection
) -> None:
    for name, table in published.items():
        schema, bare = name.split(".")
        stored: dict[str, str] = dict(
            db.execute(
                "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped",
                (schema, bare),
            ).fetchall()
        )
        assert stored, f"{name} is published but not in the database"
        for column in table["columns"]:
            col, datatype = _undelimited(column[0]), column[1]
            assert col in stored, f"{name}.{col} is published but not stored"
            assert stored[col] in STORAGE[datatype], f"{name}.{col}: {datatype} stored as {stored[col]}"


def test_columns_flagged_indexed_have_an_index(published: dict[str, Any], db: psycopg.Connection) -> None:
    definitions = [r[0] for r in db.execute("SELECT indexdef FROM pg_indexes")]
    for name, table in published.items():
        for column in table["columns"]:
            if column[8]:
                col = _undelimited(column[0])
                assert any(f" {name} " in d and col in d for d in definitions), f"{name}.{col} flagged indexed"


def test_result_fields_carry_the_published_metadata(published: dict[str, Any], tap_url: str) -> None:
    for name, table in published.items():
        got = fields(sync(tap_url, f"SELECT * FROM {name}", MAXREC="0"))
        assert [f["name"] for f in got] == [_undelimited(c[0]) for c in table["columns"]], name
        for field, (_, datatype, arraysize, xtype, unit, ucd, utype, *_rest) in zip(got, table["columns"], strict=True):
            expected_size = arraysize or ("*" if datatype in ("char", "unicodeChar") else None)
            assert field["datatype"] == datatype and field.get("arraysize") == expected_size
            assert (field.get("xtype"), field.get("unit"), field.get("ucd"), field.get("utype")) == (
                xtype,
                unit,
                ucd,
                utype,
            )
