"""How PostgreSQL spells names and values in SQL text: the one place identifiers are quoted and
string literals escaped, for the ADQL translator, SIA's query builder, the DDL and the ingest.
"""

from __future__ import annotations

from adql.errors import ADQLCode, ADQLError


def quote_ident(name: str) -> str:
    """A delimited identifier: always quoted, so case and reserved words never matter."""
    return '"' + name.replace('"', '""') + '"'


def quote_string(value: str) -> str:
    """A string literal. Every connection dalserver opens sets ``standard_conforming_strings``,
    so only quotes need doubling; NUL cannot be stored in PostgreSQL text at all."""
    if "\x00" in value:
        raise ADQLError(ADQLCode.SYNTAX, "string literals cannot contain the NUL character")
    return "'" + value.replace("'", "''") + "'"


def float8(value: float) -> str:
    """A double precision constant with every digit of ``value`` (``repr`` round-trips)."""
    return f"CAST({value!r} AS double precision)"
