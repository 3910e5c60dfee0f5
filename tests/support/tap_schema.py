"""TAP_SCHEMA as the service reads it (dalserver.db.metadata.read_tap_schema: schemas with tables
with columns and keys), made from table definitions the way data_ingest.tap_schema publishes
them, without a database: for the VOSI tableset and the catalogue built from it."""

from __future__ import annotations

from typing import Any

from adql.reserved import adql_name
from schemas.model import SchemaDef, TableDef


def table_rows(table: TableDef) -> dict[str, Any]:
    indexed = {c for index in table.indexes for c in index.columns} | set(table.primary_key[:1])
    if table.position:
        indexed |= set(table.position)
    columns = [
        {
            "table_name": table.qualified_name,
            "column_name": adql_name(c.name),  # reserved words appear delimited, e.g. "size"
            "datatype": c.datatype,
            "arraysize": c.arraysize,
            "xtype": c.xtype,
            "size": None,
            "description": c.description,
            "utype": c.utype,
            "unit": c.unit,
            "ucd": c.ucd,
            "indexed": int(c.indexed or c.name in indexed),
            "principal": int(c.principal),
            "std": int(c.std),
            "column_index": i + 1,
        }
        for i, c in enumerate(table.columns)
    ]
    keys = [
        {"key_id": k.key_id, "target_table": k.target_table, "description": k.description, "columns": list(k.columns)}
        for k in table.foreign_keys
    ]
    return {
        "name": table.qualified_name,
        "table_type": table.table_type,
        "description": table.description,
        "utype": table.utype,
        "columns": columns,
        "keys": keys,
        # Not a TAP_SCHEMA column: the server reads it from the database's own catalogue beside
        # TAP_SCHEMA (archive_io.tap_schema), as the table definitions declare it.
        "primary_key": list(table.primary_key),
    }


def tap_schema_rows(schemas: tuple[SchemaDef, ...]) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "description": s.description,
            "utype": s.utype,
            "tables": [table_rows(t) for t in s.tables],
        }
        for s in schemas
    ]
