"""TAP_SCHEMA: write the rows for published tables from their metadata, and read them back as
the catalogue ADQL names are resolved against.
"""

from __future__ import annotations

import psycopg

from adql.reserved import adql_name
from schemas.model import SchemaDef, TableDef


def publish_schema(conn: psycopg.Connection, schema: SchemaDef, schema_index: int | None = None) -> None:
    conn.execute(
        "INSERT INTO tap_schema.schemas (schema_name, utype, description, schema_index) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (schema_name) DO UPDATE SET "
        "utype = EXCLUDED.utype, description = EXCLUDED.description, schema_index = EXCLUDED.schema_index",
        (schema.name, schema.utype, schema.description, schema_index),
    )


def unpublish_table(conn: psycopg.Connection, qualified_name: str) -> None:
    """Remove a table's TAP_SCHEMA rows (its columns and the keys that start or end at it)."""
    conn.execute(
        "DELETE FROM tap_schema.key_columns WHERE key_id IN (SELECT key_id FROM tap_schema.keys "
        "WHERE from_table = %s OR target_table = %s)",
        (qualified_name, qualified_name),
    )
    conn.execute(
        "DELETE FROM tap_schema.keys WHERE from_table = %s OR target_table = %s",
        (qualified_name, qualified_name),
    )
    conn.execute("DELETE FROM tap_schema.columns WHERE table_name = %s", (qualified_name,))
    conn.execute("DELETE FROM tap_schema.tables WHERE table_name = %s", (qualified_name,))


def publish_table(conn: psycopg.Connection, table: TableDef, table_index: int | None = None) -> None:
    """Replace ``table``'s TAP_SCHEMA rows with ones derived from its definition."""
    name = table.qualified_name
    unpublish_table(conn, name)
    conn.execute(
        "INSERT INTO tap_schema.tables (schema_name, table_name, table_type, utype, description, table_index) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (table.schema, name, table.table_type, table.utype, table.description, table_index),
    )
    indexed = {c for index in table.indexes for c in index.columns} | set(table.primary_key[:1])
    if table.position:
        indexed |= set(table.position)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO tap_schema.columns (table_name, column_name, datatype, arraysize, xtype, "
            '"size", description, utype, unit, ucd, indexed, principal, std, column_index) '
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    name,
                    adql_name(c.name),  # TAP 1.1: reserved words appear delimited, e.g. "size"
                    c.datatype,
                    c.arraysize,
                    c.xtype,
                    None,
                    c.description,
                    c.utype,
                    c.unit,
                    c.ucd,
                    int(c.indexed or c.name in indexed),
                    int(c.principal),
                    int(c.std),
                    i + 1,
                )
                for i, c in enumerate(table.columns)
            ],
        )
    for key in table.foreign_keys:
        conn.execute(
            "INSERT INTO tap_schema.keys (key_id, from_table, target_table, description) VALUES (%s, %s, %s, %s)",
            (key.key_id, name, key.target_table, key.description),
        )
        for from_col, target_col in key.columns:
            conn.execute(
                "INSERT INTO tap_schema.key_columns (key_id, from_column, target_column) VALUES (%s, %s, %s)",
                (key.key_id, from_col, target_col),
            )
