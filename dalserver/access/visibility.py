"""The one place that decides what an identity may see, as SQL text: which ObsCore rows
(``row_filter``), which published tables (``hidden_tables``), and the ADQL catalogue that puts
both into every query (``catalog_for``).

A row of ``ivoa.obscore`` is visible when its release date has passed, or when one of the
identity's groups is granted its collection (or its collection and proposal). A NULL release
date is proprietary (ObsCore 1.1 sec. B.4.5). Every reader of ObsCore applies ``row_filter``:
the ADQL translator through the catalogue (each mention of ObsCore in FROM becomes a derived
table with the condition, so JOINs, outer joins, subqueries, set operations, CTEs and uploads
are covered alike, and PostgreSQL pulls it up into the query, keeping the spatial indexes), SIA
through the same catalogue, and the dataset look-ups of DataLink, SODA, previews, /data files,
provenance, the cart and the quick look directly.

PostgreSQL's row-level security was weighed and not taken: a policy keeps a user's condition
from becoming an index condition unless its operators are LEAKPROOF, and pgsphere declares none,
so every cone search would lose its GiST index (docs/operators-guide/access.md shows the plans).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from adql.catalog import Catalog, TableMeta
from archive_io.release import released_sql
from dalserver.access.identity import Identity
from pgsql_text.quoting import quote_ident, quote_string
from schemas.tableset import Tableset

OBSCORE = ("ivoa", "obscore")
# TAP_SCHEMA's tables and the columns in them that name a published table.
_LISTINGS = {"tables": ("table_name",), "columns": ("table_name",), "keys": ("from_table", "target_table")}


def row_filter(who: Identity, alias: str) -> str:
    """The SQL condition on the ObsCore row ``alias`` that ``who`` may see."""
    row = quote_ident(alias)
    conditions = [released_sql(alias)]
    whole = sorted({g.collection for g in who.grants if g.proposal is None})
    if whole:
        conditions.append(f"{row}.obs_collection IN ({', '.join(quote_string(c) for c in whole)})")
    pairs = sorted(
        {(g.collection, g.proposal) for g in who.grants if g.proposal is not None and g.collection not in whole}
    )
    if pairs:
        listed = ", ".join(f"({quote_string(c)}, {quote_string(p)})" for c, p in pairs)
        conditions.append(f"({row}.obs_collection, {row}.proposal_id) IN ({listed})")
    return "(" + " OR ".join(conditions) + ")"


def visible_obscore_sql(source: str, who: Identity) -> str:
    """``source`` (ObsCore, or the function a server reads it through) as ``who`` may see it, for
    a FROM clause: a derived table PostgreSQL pulls up into the query."""
    return f"(SELECT * FROM {source} AS visible WHERE {row_filter(who, 'visible')})"


def hidden_tables(who: Identity, restricted: Mapping[str, str]) -> frozenset[str]:
    """The published tables ``who`` may not see: those restricted (lower-case ``schema.table`` ->
    group) to a group ``who`` is not in."""
    return frozenset(table for table, group in restricted.items() if group not in who.groups)


def _source(table: TableMeta) -> str:
    return table.sql_name or f"{quote_ident(table.schema)}.{quote_ident(table.name)}"


def _hidden_schemas(catalog: Catalog, hidden: frozenset[str]) -> frozenset[str]:
    """The schemas every table of which is hidden: their names say something too."""
    shown = {t.schema.lower() for t in catalog.tables if t.qualified_name.lower() not in hidden}
    return frozenset(t.schema.lower() for t in catalog.tables) - shown


def _tap_schema_listing(table: TableMeta, hidden: frozenset[str], schemas: frozenset[str]) -> str | None:
    """TAP_SCHEMA's ``table`` without the rows that describe a hidden table or a schema of hidden
    tables only (None: not a listing)."""
    if table.name.lower() == "schemas":
        if not schemas:
            return None
        names = ", ".join(quote_string(s) for s in sorted(schemas))
        return f"(SELECT * FROM {_source(table)} AS listed WHERE lower(listed.schema_name) NOT IN ({names}))"
    names = ", ".join(quote_string(t) for t in sorted(hidden))
    if table.name.lower() == "key_columns":
        keys = f"{quote_ident(table.schema)}.{quote_ident('keys')}"
        shown = " AND ".join(f"lower(k.{c}) NOT IN ({names})" for c in _LISTINGS["keys"])
        return f"(SELECT * FROM {_source(table)} AS listed WHERE listed.key_id IN (SELECT k.key_id FROM {keys} AS k WHERE {shown}))"
    columns = _LISTINGS.get(table.name.lower())
    if columns is None:
        return None
    shown = " AND ".join(f"lower(listed.{quote_ident(c)}) NOT IN ({names})" for c in columns)
    return f"(SELECT * FROM {_source(table)} AS listed WHERE {shown})"


def catalog_for(catalog: Catalog, who: Identity, restricted: Mapping[str, str]) -> Catalog:
    """``catalog`` as ``who`` sees it: ObsCore filtered row by row, the tables of other groups gone,
    and TAP_SCHEMA silent about them."""
    hidden = hidden_tables(who, restricted)
    schemas = _hidden_schemas(catalog, hidden)
    tables = []
    for table in catalog.tables:
        if table.qualified_name.lower() in hidden:
            continue
        key = (table.schema.lower(), table.name.lower())
        if key == OBSCORE:
            table = replace(table, sql_name=visible_obscore_sql(_source(table), who))
        elif key[0] == "tap_schema" and hidden:
            listing = _tap_schema_listing(table, hidden, schemas)
            if listing is not None:
                table = replace(table, sql_name=listing)
        tables.append(table)
    return Catalog(tables)


def tableset_for(tableset: Tableset, who: Identity, restricted: Mapping[str, str]) -> Tableset:
    """The VOSI tableset ``who`` may read: without the tables of other groups, and without the
    foreign keys that point at them."""
    hidden = hidden_tables(who, restricted)
    if not hidden:
        return tableset
    schemas = []
    for schema in tableset.schemas:
        tables = tuple(
            replace(t, foreign_keys=tuple(k for k in t.foreign_keys if k.target_table.lower() not in hidden))
            for t in schema.tables
            if t.name.lower() not in hidden
        )
        if tables or not schema.tables:  # a schema of hidden tables only is not listed
            schemas.append(replace(schema, tables=tables))
    return Tableset(tuple(schemas))
