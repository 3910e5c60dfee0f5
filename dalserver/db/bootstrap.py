"""Bring an archive database to the current schema: pgsphere, the built-in tables and their
TAP_SCHEMA rows, the function through which servers read ObsCore (archive_io.product_urls), the
HEALPix cell function ADQL and the registry use (pgsql_text.healpix_cells), and
the stored values a newer version writes differently (dalserver.db.migrations). Idempotent: run at
every start-up.
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg

from archive_io.product_urls import published_obscore_function_sql
from archive_io.tap_schema import publish_schema, publish_table
from dalserver.db.migrations import keep_existing_rows_public, relative_access_urls
from dalserver.db.pgsphere import ensure_pgsphere
from pgsql_text.healpix_cells import HEALPIX_SQL
from pgsql_text.private_schema import SUPPORT_SQL
from pgsql_text.quoting import quote_ident
from schemas.ddl import add_missing_columns_sql, create_index_sql, create_table_sql
from schemas.model import SchemaDef, builtin_schemas, private_schemas

log = logging.getLogger(__name__)

_OBSCORE_COLUMNS = (
    "SELECT attname FROM pg_attribute WHERE attrelid = 'ivoa.obscore'::regclass AND attnum > 0 "
    "AND NOT attisdropped ORDER BY attnum"
)


def create_tables(conn: psycopg.Connection, schema: SchemaDef) -> None:
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema.name)}")
    for table in schema.tables:
        conn.execute(create_table_sql(table))
        for statement in add_missing_columns_sql(table):
            conn.execute(statement)
        for index in table.indexes:
            conn.execute(create_index_sql(table, index))


def bootstrap(url: str, extension_dirs: tuple[Path, ...] = ()) -> tuple[SchemaDef, ...]:
    """Create or upgrade everything dalserver needs in the database at ``url``."""
    schemas = builtin_schemas(extension_dirs)
    with psycopg.connect(url, autocommit=True) as conn:
        how = ensure_pgsphere(conn)
        log.debug("pgsphere: %s", how)
        with conn.transaction():
            # One writer at a time: two servers starting together must not race on DDL.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('dalserver.bootstrap'))")
            for statement in (*SUPPORT_SQL, *HEALPIX_SQL):
                conn.execute(statement)  # constants of the dialect
            keep_existing_rows_public(conn)  # before the upgrade adds the release date column
            for schema in (*schemas, *private_schemas()):
                create_tables(conn, schema)
            # ObsCore as each server publishes it (its access URLs), over the columns it has now.
            columns = [name for (name,) in conn.execute(_OBSCORE_COLUMNS)]
            conn.execute(published_obscore_function_sql(columns))  # built from names
            for s_index, schema in enumerate(schemas):
                publish_schema(conn, schema, s_index)
                for t_index, table in enumerate(schema.tables):
                    publish_table(conn, table, s_index * 100 + t_index)
            relative_access_urls(conn)
    return schemas
