"""A published view of five million generated rows (nothing stored), for tests of large answers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from archive_io.tap_schema import publish_schema, publish_table, unpublish_table
from schemas.model import ColumnDef, SchemaDef, TableDef

ROWS = 5_000_000
VIEW = TableDef(
    schema="stream_test",
    name="five_million",
    description="5 million generated rows (a view: nothing stored)",
    table_type="view",
    columns=(
        ColumnDef("id", "long"),
        ColumnDef("x", "double", unit="deg"),
        ColumnDef("k", "int"),
        ColumnDef("label", "char", arraysize="*"),
    ),
)


@contextmanager
def five_million_view(url: str) -> Iterator[str]:
    """The view published for the length of a block: its qualified name."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS stream_test")
        conn.execute(
            "CREATE OR REPLACE VIEW stream_test.five_million AS SELECT g::bigint AS id, g * 0.001 AS x, "
            f"(g % 1000)::int AS k, 'row ' || g AS label FROM generate_series(1, {ROWS}) AS g"
        )
        publish_schema(conn, SchemaDef("stream_test", "generated rows for the streaming test"))
        publish_table(conn, VIEW)
    try:
        yield VIEW.qualified_name
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            unpublish_table(conn, VIEW.qualified_name)
            conn.execute("DELETE FROM tap_schema.schemas WHERE schema_name = 'stream_test'")
            conn.execute("DROP SCHEMA stream_test CASCADE")
