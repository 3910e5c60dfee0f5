"""ADQL for dalserver: parse with lark (LALR) into a typed tree, resolve names against the
published tables, translate to PostgreSQL + pgsphere. A pure library: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from adql.catalog import Catalog, ColumnMeta, TableMeta
from adql.dialects.postgres import PostgresDialect
from adql.errors import ADQLError
from adql.parser import parse
from adql.resolve import OutputColumn, ResolvedQuery, resolve

__all__ = [
    "ADQLError",
    "Catalog",
    "ColumnMeta",
    "OutputColumn",
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
    resolved = resolve(parse(text), catalog)
    try:
        sql = _POSTGRES.translate(resolved, row_limit)
    except RecursionError:
        raise ADQLError("ADQL-LIMIT", "query nested too deeply") from None
    return Translation(sql, resolved.output)
