"""Read TAP_SCHEMA for the service: the ADQL catalogue (cached briefly) and the full rows that
VOSI tables documents are made from.
"""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from adql.catalog import Catalog, ColumnMeta, TableMeta
from dalserver.timed_value import TimedValue


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
        await conn.rollback()
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
                    }
                    for t in tables
                    if t["schema_name"] == schema["schema_name"]
                ],
            }
        )
    return result


def _undelimited(name: str) -> str:
    """TAP_SCHEMA writes reserved-word columns delimited ("size"); the catalogue keeps the bare name."""
    if len(name) >= 2 and name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name


def catalog_from_tap_schema(schemas: list[dict[str, Any]]) -> Catalog:
    tables = []
    for schema in schemas:
        for table in schema["tables"]:
            qualified = table["name"]
            prefix = schema["name"] + "."
            bare = qualified[len(prefix) :] if qualified.lower().startswith(prefix.lower()) else qualified
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
                )
            )
    return Catalog.of(tables)


class CatalogCache(TimedValue[Catalog]):
    """The published tables as of at most ``ttl`` seconds ago; TAP_SCHEMA is the only source."""

    def __init__(self, pool: AsyncConnectionPool, ttl: float):
        async def load() -> Catalog:
            return catalog_from_tap_schema(await read_tap_schema(pool))

        super().__init__(load, ttl)
