"""How PostgreSQL spells names and values in SQL text: the one place identifiers are quoted and
string literals escaped, for the ADQL translator, SIA's query builder, the DDL, the ingest and the
session setup.
"""

from __future__ import annotations

from pgsql_text.errors import SQLTextError

NUL = "\x00"


def quote_ident(name: str) -> str:
    """A delimited identifier: always quoted, so case and reserved words never matter. PostgreSQL
    names cannot hold NUL (the server reads statements as C strings)."""
    if NUL in name:
        raise SQLTextError(f"the name {name!r} contains the NUL character (U+0000), which PostgreSQL cannot store")
    return '"' + name.replace('"', '""') + '"'


def quote_string(value: str) -> str:
    """A string literal. Every connection dalserver opens sets ``standard_conforming_strings``
    (``pgsql_text.session``), so only quotes need doubling; NUL cannot be stored in PostgreSQL
    text at all."""
    if NUL in value:
        raise SQLTextError("a text value cannot contain the NUL character (U+0000)")
    return "'" + value.replace("'", "''") + "'"


def float8(value: float) -> str:
    """A double precision constant with every digit of ``value`` (``repr`` round-trips)."""
    return f"CAST({value!r} AS double precision)"
