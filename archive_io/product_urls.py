"""How ObsCore addresses this archive's own files: ``access_url`` stores ``data/<path>`` (the file's
place under the archive directory, percent-encoded), a URL relative to the public URL of whichever
server answers, and every reader renders it with its own base.

Stored so, the URLs follow ``DALSERVER_BASE_URL`` without re-ingesting, several servers on one
database (another port, a proxy in front) each answer with their own, and a row's ``#this`` and
``#preview`` links never disagree about the host. Any other value (an operator's external URL) is
left exactly as stored. ADQL and SIA see the rendered value through the table's SQL: the server
publishes ``ivoa.obscore`` as a derived table that computes ``access_url`` (PostgreSQL pulls it up
into the query, so every other column keeps its indexes).
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote, unquote

from adql.catalog import Catalog, TableMeta
from adql.dialects.sql_text import quote_ident, quote_string

PRODUCTS = "data/"  # the path under the public URL that serves the archive directory (/data/...)
OBSCORE = ("ivoa", "obscore")
URL_COLUMN = "access_url"


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


def public_url_sql(column: str, base_url: str) -> str:
    """SQL computing ``public_url`` from the SQL expression ``column`` (no ``%`` in it: the text
    may go through a driver that reads ``%`` as a parameter)."""
    prefix = quote_string(base_url.rstrip("/") + "/")
    return f"(CASE WHEN starts_with({column}, {quote_string(PRODUCTS)}) THEN {prefix} || {column} ELSE {column} END)"


def published_table_sql(table: TableMeta, base_url: str) -> str:
    """ObsCore as a server at ``base_url`` publishes it: a derived table of its published columns,
    ``access_url`` rendered."""
    columns = []
    for column in table.columns:
        name = quote_ident(column.name)
        columns.append(f"{public_url_sql(name, base_url)} AS {name}" if column.name == URL_COLUMN else name)
    source = f"{quote_ident(table.schema)}.{quote_ident(table.name)}"
    return f"(SELECT {', '.join(columns)} FROM {source})"


def with_public_urls(catalog: Catalog, base_url: str) -> Catalog:
    """``catalog`` with ObsCore's SQL computing this server's URLs (see ``published_table_sql``)."""
    tables = []
    for table in catalog.tables:
        if (table.schema.lower(), table.name.lower()) == OBSCORE and any(c.name == URL_COLUMN for c in table.columns):
            table = replace(table, sql_name=published_table_sql(table, base_url))
        tables.append(table)
    return Catalog(tables)
