"""How ObsCore addresses this archive's own files: ``access_url`` stores ``data/<path>`` (the file's
place under the archive directory, percent-encoded), a URL relative to the public URL of whichever
server answers, and every reader renders it with its own base.

Stored so, the URLs follow ``DALSERVER_BASE_URL`` without re-ingesting, several servers on one
database (another port, a proxy in front) each answer with their own, and a row's ``#this`` and
``#preview`` links never disagree about the host. Any other value (an operator's external URL) is
left exactly as stored. ADQL and SIA read ObsCore through ``dalserver.published_obscore(base)``, a
set-returning SQL function the bootstrap (re)creates from the table's columns: its rows are the
table's with ``access_url`` rendered. PostgreSQL inlines it into the query, so every other column
keeps its indexes, and the SQL a query becomes stays short (pg_stat_activity shows it whole).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import quote, unquote

from adql.catalog import Catalog
from archive_io.release import DATA_RIGHTS_SQL
from pgsql_text.private_schema import SCHEMA
from pgsql_text.quoting import quote_ident, quote_string

PRODUCTS = "data/"  # the path under the public URL that serves the archive directory (/data/...)
OBSCORE = ("ivoa", "obscore")
URL_COLUMN = "access_url"
FUNCTION = f"{SCHEMA}.published_obscore"  # in the private schema: ADQL cannot name it


def stored_url(relative_path: str) -> str:
    """What ``access_url`` holds for the archive file at ``relative_path`` (POSIX, under the
    archive directory): ``data/`` and the path, percent-encoded as a URL path."""
    return PRODUCTS + quote(relative_path, safe="/")


def archive_path(stored: str | None) -> str | None:
    """The archive-relative path a stored ``access_url`` names, or None for any other URL."""
    if stored is None or not stored.startswith(PRODUCTS):
        return None
    return unquote(stored[len(PRODUCTS) :])


def public_url(stored: str | None, base_url: str) -> str | None:
    """The URL a client is given for a stored ``access_url``: this archive's products under
    ``base_url`` (the answering server's public URL), anything else as stored."""
    if stored is None or not stored.startswith(PRODUCTS):
        return stored
    return f"{base_url.rstrip('/')}/{stored}"


def _rendered_sql(column: str, prefix: str) -> str:
    # No "%" in it: the text may go through a driver that reads "%" as a parameter.
    return f"(CASE WHEN starts_with({column}, {quote_string(PRODUCTS)}) THEN {prefix} || {column} ELSE {column} END)"


def public_url_sql(column: str, base_url: str) -> str:
    """SQL computing ``public_url`` from the SQL expression ``column``."""
    return _rendered_sql(column, quote_string(base_url.rstrip("/") + "/"))


def published_obscore_function_sql(columns: Sequence[str]) -> str:
    """``CREATE OR REPLACE FUNCTION dalserver.published_obscore(base text)``: the rows of
    ``ivoa.obscore`` (whose columns, in table order, are ``columns``) with ``access_url`` under
    ``base`` (a public URL ending in ``/``) and ``data_rights`` as of now (archive_io.release). A
    single SELECT, STABLE and not STRICT, so that PostgreSQL inlines it into the calling query."""
    schema, table = (quote_ident(n) for n in OBSCORE)
    rendered = {URL_COLUMN: _rendered_sql(quote_ident(URL_COLUMN), "base")}
    if "obs_release_date" in columns:
        rendered["data_rights"] = DATA_RIGHTS_SQL
    select = ", ".join(f"{rendered[c]} AS {quote_ident(c)}" if c in rendered else quote_ident(c) for c in columns)
    return (
        f"CREATE OR REPLACE FUNCTION {FUNCTION}(base text) RETURNS SETOF {schema}.{table} "
        f"LANGUAGE sql STABLE PARALLEL SAFE AS $published$ SELECT {select} FROM {schema}.{table} $published$"
    )


def published_table_sql(base_url: str) -> str:
    """ObsCore as a server at ``base_url`` publishes it, for a FROM clause."""
    return f"{FUNCTION}({quote_string(base_url.rstrip('/') + '/')})"


def with_public_urls(catalog: Catalog, base_url: str) -> Catalog:
    """``catalog`` with ObsCore read as the server at ``base_url`` publishes it."""
    tables = []
    for table in catalog.tables:
        if (table.schema.lower(), table.name.lower()) == OBSCORE and any(c.name == URL_COLUMN for c in table.columns):
            table = replace(table, sql_name=published_table_sql(base_url))
        tables.append(table)
    return Catalog(tables)
