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
class Translation:
    sql: str
    output: tuple[OutputColumn, ...]


def translate_tree(tree: Query | SetQuery, catalog: Catalog, row_limit: int | None = None) -> Translation:
    """Resolve and translate one parsed query; every failure is an ``ADQLError``."""
    try:
        resolved = resolve(tree, catalog)
        sql = _POSTGRES.translate(resolved, row_limit)
    except RecursionError:
        raise ADQLError(ADQLCode.LIMIT, "query nested too deeply") from None
    return Translation(sql, resolved.output)
