"""TAP_SCHEMA: write the rows for published tables from their metadata (ingest, bootstrap), and
read them back (the service: the ADQL catalogue and the VOSI tables documents).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from adql.catalog import Catalog, ColumnMeta, TableMeta
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


async def read_tap_schema(pool: AsyncConnectionPool) -> list[dict[str, Any]]:
    """Schemas, each with its tables, each with columns and foreign keys, in TAP_SCHEMA order."""
    async with pool.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        schemas = await (
            await cur.execute(
                "SELECT schema_name, description, utype FROM tap_schema.schemas ORDER BY schema_index NULLS LAST, schema_name"
            )
        ).fetchall()
        tables = await (
            await cur.execute(
                "SELECT schema_name, table_name, table_type, description, utype FROM tap_schema.tables "
                "ORDER BY table_index NULLS LAST, table_name"
            )
        ).fetchall()
        columns = await (
            await cur.execute(
                'SELECT table_name, column_name, datatype, arraysize, xtype, "size", description, utype, unit, ucd, '
                "indexed, principal, std, column_index FROM tap_schema.columns "
                "ORDER BY table_name, column_index NULLS LAST, column_name"
            )
        ).fetchall()
        keys = await (
            await cur.execute(
                "SELECT k.key_id, k.from_table, k.target_table, k.description, kc.from_column, kc.target_column "
                "FROM tap_schema.keys k JOIN tap_schema.key_columns kc USING (key_id) ORDER BY k.key_id"
            )
        ).fetchall()
        primary_keys = await (await cur.execute(_PRIMARY_KEYS)).fetchall()
        await conn.rollback()
    key_of = {(k["schema_name"], k["table_name"]): list(k["columns"]) for k in primary_keys}
    by_table: dict[str, list[dict[str, Any]]] = {}
    for column in columns:
        by_table.setdefault(column["table_name"], []).append(column)
    keys_by_table: dict[str, dict[str, dict[str, Any]]] = {}
    for row in keys:
        entry = keys_by_table.setdefault(row["from_table"], {}).setdefault(
            row["key_id"],
            {
                "key_id": row["key_id"],
                "target_table": row["target_table"],
                "description": row["description"],
                "columns": [],
            },
        )
        entry["columns"].append((row["from_column"], row["target_column"]))
    result = []
    for schema in schemas:
        result.append(
            {
                "name": schema["schema_name"],
                "description": schema["description"],
                "utype": schema["utype"],
                "tables": [
                    {
                        "name": t["table_name"],
                        "table_type": t["table_type"],
                        "description": t["description"],
                        "utype": t["utype"],
                        "columns": by_table.get(t["table_name"], []),
                        "keys": list(keys_by_table.get(t["table_name"], {}).values()),
                        "primary_key": key_of.get(_sql_name(schema["schema_name"], t["table_name"]), []),
                    }
                    for t in tables
                    if t["schema_name"] == schema["schema_name"]
                ],
            }
        )
    return result


# Primary keys as the database has them (TAP_SCHEMA has no place for them): PostgreSQL lets a
# query grouped by a table's whole primary key show the table's other columns, and the ADQL
# checker allows exactly what PostgreSQL allows. Only tables of the published schemas.
_PRIMARY_KEYS = """
SELECT n.nspname AS schema_name, c.relname AS table_name,
       array_agg(a.attname::text ORDER BY k.ord) AS columns
FROM pg_constraint AS con
JOIN pg_class AS c ON c.oid = con.conrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = k.attnum
WHERE con.contype = 'p' AND n.nspname IN (SELECT schema_name FROM tap_schema.schemas)
GROUP BY n.nspname, c.relname
"""


def _sql_name(schema: str, qualified: str) -> tuple[str, str]:
    """(schema, table) as the SQL of a query names the published table ``qualified``."""
    prefix = schema + "."
    return schema, qualified[len(prefix) :] if qualified.lower().startswith(prefix.lower()) else qualified


def _undelimited(name: str) -> str:
    """TAP_SCHEMA writes reserved-word columns delimited ("size"); the catalogue keeps the bare name."""
    if len(name) >= 2 and name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name


def catalog_from_tap_schema(schemas: list[dict[str, Any]]) -> Catalog:
    tables = []
    for schema in schemas:
        for table in schema["tables"]:
            _, bare = _sql_name(schema["name"], table["name"])
            tables.append(
                TableMeta(
                    schema["name"],
                    bare,
                    tuple(
                        ColumnMeta(
                            _undelimited(c["column_name"]),
                            c["datatype"],
                            c["arraysize"],
                            c["xtype"],
                            c["unit"],
                            c["ucd"],
                            c["utype"],
                            c["description"],
                        )
                        for c in table["columns"]
                    ),
                    table["description"],
                    primary_key=tuple(table.get("primary_key", ())),
                )
            )
    return Catalog.of(tables)
