"""A parsed query to PostgreSQL: resolved against the catalogue, rendered by the dialect."""

from __future__ import annotations

from dataclasses import dataclass

from adql.ast import Query, SetQuery
from adql.catalog import Catalog
from adql.dialects.postgres import PostgresDialect
from adql.errors import ADQLCode, ADQLError
from adql.resolve import OutputColumn, resolve

_POSTGRES = PostgresDialect()  # stateless: one renderer table for every query


@dataclass(frozen=True)
class Parameterized:
    """A translation's SQL with its numbers as parameters (made from an SQL template, adql.cache):
    ``sql`` with ``$1`` ... ``$n``, the type PostgreSQL gives each number written as a literal
    (``numeric`` for a decimal, ``integer`` or ``bigint`` for an integer by its size) and each
    number's text. A statement prepared from it answers every query of the shape, where the SQL
    with the numbers written in would be parsed and planned anew for each. (SIA's queries come
    so too, a value being the SQL expression of a pgsphere constant: dalserver.sia.query.)"""

    sql: str
    types: tuple[str, ...]
    values: tuple[str, ...]


@dataclass(frozen=True)
class Translation:
    sql: str
    output: tuple[OutputColumn, ...]
    parameterized: Parameterized | None = None


def translate_tree(tree: Query | SetQuery, catalog: Catalog, row_limit: int | None = None) -> Translation:
    """Resolve and translate one parsed query; every failure is an ``ADQLError``."""
    try:
        resolved = resolve(tree, catalog)
        sql = _POSTGRES.translate(resolved, row_limit)
    except RecursionError:
        raise ADQLError(ADQLCode.LIMIT, "query nested too deeply") from None
    return Translation(sql, resolved.output)
