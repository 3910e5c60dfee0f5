"""TAP_SCHEMA: write the rows for published tables from their metadata (ingest, bootstrap), and
read them back as the typed tableset (``schemas.tableset``) the service publishes: the ADQL
catalogue, the VOSI tables documents, the registry records and cone search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from adql.catalog import PositionKey
from schemas.model import SchemaDef, TableDef
from schemas.tableset import Tableset, TapColumn, TapForeignKey, TapSchema, TapTable, published_table


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
    entry = published_table(table)
    unpublish_table(conn, entry.name)
    conn.execute(
        "INSERT INTO tap_schema.tables (schema_name, table_name, table_type, utype, description, table_index) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (entry.schema, entry.name, entry.table_type, entry.utype, entry.description, table_index),
    )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO tap_schema.columns (table_name, column_name, datatype, arraysize, xtype, "
            '"size", description, utype, unit, ucd, indexed, principal, std, column_index) '
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    entry.name,
                    c.name,
                    c.datatype,
                    c.arraysize,
                    c.xtype,
                    None,
                    c.description,
                    c.utype,
                    c.unit,
                    c.ucd,
                    int(c.indexed),
                    int(c.principal),
                    int(c.std),
                    i + 1,
                )
                for i, c in enumerate(entry.columns)
            ],
        )
    for key in entry.foreign_keys:
        conn.execute(
            "INSERT INTO tap_schema.keys (key_id, from_table, target_table, description) VALUES (%s, %s, %s, %s)",
            (key.key_id, entry.name, key.target_table, key.description),
        )
        for from_col, target_col in key.columns:
            conn.execute(
                "INSERT INTO tap_schema.key_columns (key_id, from_column, target_column) VALUES (%s, %s, %s)",
                (key.key_id, from_col, target_col),
            )


Row = Mapping[str, Any]  # a row as the database gives it, by column name


async def read_tap_schema(pool: AsyncConnectionPool) -> Tableset:
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
        position_keys = await (await cur.execute(_POSITION_KEYS)).fetchall()
        await conn.rollback()
    return tableset_from_rows(schemas, tables, columns, keys, primary_keys, position_keys)


def tableset_from_rows(
    schemas: Sequence[Row],
    tables: Sequence[Row],
    columns: Sequence[Row],
    keys: Sequence[Row],
    primary_keys: Sequence[Row],
    position_keys: Sequence[Row] = (),
) -> Tableset:
    """The typed tableset from TAP_SCHEMA's rows (each list in TAP_SCHEMA's order; ``keys`` one
    row per key column, ``primary_keys`` the database's, by schema and table; ``position_keys``
    the rows of dalserver.position_key)."""
    columns_of: dict[str, list[TapColumn]] = {}
    for c in columns:
        columns_of.setdefault(c["table_name"], []).append(
            TapColumn(
                c["column_name"],
                c["datatype"],
                c["arraysize"],
                c["xtype"],
                c["description"],
                c["utype"],
                c["unit"],
                c["ucd"],
                indexed=bool(c["indexed"]),
                principal=bool(c["principal"]),
                std=bool(c["std"]),
            )
        )
    key_columns: dict[str, dict[str, list[tuple[str, str]]]] = {}
    key_rows: dict[str, Row] = {}
    for k in keys:
        key_rows.setdefault(k["key_id"], k)
        key_columns.setdefault(k["from_table"], {}).setdefault(k["key_id"], []).append(
            (k["from_column"], k["target_column"])
        )
    primary_key_of = {(k["schema_name"], k["table_name"]): tuple(k["columns"]) for k in primary_keys}
    position_key_of = {
        k["table_name"].lower(): PositionKey(k["ra_column"], k["dec_column"], k["key_order"]) for k in position_keys
    }

    def table(row: Row) -> TapTable:
        entry = TapTable(row["schema_name"], row["table_name"], row["table_type"], row["description"], row["utype"])
        keys_here = key_columns.get(entry.name, {})
        return replace(
            entry,
            columns=tuple(columns_of.get(entry.name, ())),
            foreign_keys=tuple(
                TapForeignKey(key_id, key_rows[key_id]["target_table"], tuple(pairs), key_rows[key_id]["description"])
                for key_id, pairs in keys_here.items()
            ),
            primary_key=primary_key_of.get((entry.schema, entry.bare_name), ()),
            position_key=position_key_of.get(entry.name.lower()),
        )

    return Tableset(
        tuple(
            TapSchema(
                s["schema_name"],
                s["description"],
                s["utype"],
                tuple(table(t) for t in tables if t["schema_name"] == s["schema_name"]),
            )
            for s in schemas
        )
    )


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

# The catalogues with a HEALPix position key (schemas/position_key.yaml), by TAP_SCHEMA name.
_POSITION_KEYS = "SELECT table_name, ra_column, dec_column, key_order FROM dalserver.position_key"
