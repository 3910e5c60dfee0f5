"""ADQL for dalserver: parse with lark (LALR) into a typed tree, resolve names against the
published tables, translate to PostgreSQL + pgsphere. A pure library: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from adql.catalog import Catalog, ColumnMeta, PositionKey, TableMeta
from adql.dialects.postgres import PostgresDialect
from adql.errors import ADQLCode, ADQLError
from adql.parser import parse
from adql.resolve import OutputColumn, ResolvedQuery, resolve

__all__ = [
    "ADQLCode",
    "ADQLError",
    "Catalog",
    "ColumnMeta",
    "OutputColumn",
    "PositionKey",
    "ResolvedQuery",
    "TableMeta",
    "Translation",
    "parse",
    "resolve",
    "to_postgres",
]


_POSTGRES = PostgresDialect()  # stateless: one renderer table for every query


@dataclass(frozen=True)
class Translation:
    sql: str
    output: tuple[OutputColumn, ...]


def to_postgres(text: str, catalog: Catalog, row_limit: int | None = None) -> Translation:
    """Parse, resolve and translate one ADQL query; every failure is an ``ADQLError``."""
    tree = parse(text)
    try:
        resolved = resolve(tree, catalog)
        sql = _POSTGRES.translate(resolved, row_limit)
    except RecursionError:
        raise ADQLError(ADQLCode.LIMIT, "query nested too deeply") from None
    return Translation(sql, resolved.output)
