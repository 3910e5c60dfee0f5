"""ADQL for dalserver: parse with lark (LALR) into a typed tree, resolve names against the
published tables, translate to PostgreSQL + pgsphere. A pure library: no I/O.
"""

from __future__ import annotations

from adql.catalog import Catalog, ColumnMeta, PositionKey, TableMeta
from adql.errors import ADQLCode, ADQLError
from adql.parser import parse
from adql.resolve import OutputColumn, ResolvedQuery, resolve
from adql.translate import Translation, translate_tree

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
    "translate_tree",
]


def to_postgres(text: str, catalog: Catalog, row_limit: int | None = None) -> Translation:
    """Parse, resolve and translate one ADQL query; every failure is an ``ADQLError``."""
    return translate_tree(parse(text), catalog, row_limit)
