"""DDL derived from table metadata: CREATE TABLE, added columns and indexes, as SQL text.

Pure functions; executing the statements is the caller's business (dalserver.db.bootstrap).
"""

from __future__ import annotations

from pgsql_text.quoting import quote_ident
from schemas.model import ColumnDef, IndexDef, TableDef


def qualified(table: TableDef) -> str:
    return f"{quote_ident(table.schema)}.{quote_ident(table.name)}"


def column_ddl(column: ColumnDef) -> str:
    null = "" if column.nullable else " NOT NULL"
    return f"{quote_ident(column.name)} {column.sql_type}{null}"


def create_table_sql(table: TableDef, name: str | None = None) -> str:
    """CREATE TABLE for ``table`` (optionally under another name, for staging tables)."""
    target = name or qualified(table)
    parts = [column_ddl(c) for c in table.columns]
    if table.primary_key:
        parts.append("PRIMARY KEY (" + ", ".join(quote_ident(c) for c in table.primary_key) + ")")
    for unique in table.unique:
        parts.append("UNIQUE (" + ", ".join(quote_ident(c) for c in unique) + ")")
    return f"CREATE TABLE IF NOT EXISTS {target} (\n  " + ",\n  ".join(parts) + "\n)"


def add_missing_columns_sql(table: TableDef) -> list[str]:
    """Statements that add extension columns to an existing table (idempotent)."""
    return [
        f"ALTER TABLE {qualified(table)} ADD COLUMN IF NOT EXISTS {column_ddl(c)}" for c in table.columns if c.nullable
    ]


def create_index_sql(table: TableDef, index: IndexDef) -> str:
    if index.expression:
        target = f"({index.expression})"
    else:
        target = "(" + ", ".join(quote_ident(c) for c in index.columns) + ")"
    return f"CREATE INDEX IF NOT EXISTS {quote_ident(index.name)} ON {qualified(table)} USING {index.method} {target}"
