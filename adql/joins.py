"""Joins PostgreSQL can run, checked on the resolved tree so that a join it would refuse is an
ADQL error at the join, never SQL: the columns of USING and NATURAL joins must be of one kind
(PostgreSQL matches bigint with double but not with text, SQLSTATE 42804), and a FULL OUTER JOIN
needs one condition it can hash or merge (SQLSTATE 0A000): an equality between a value of the
left side and a value of the right side, of a kind with an equality (not a geometry).
"""

from __future__ import annotations

from collections.abc import Iterator

from adql import ast
from adql.catalog import ColumnMeta
from adql.errors import ADQLCode, ADQLError
from adql.kinds import GEOMETRIC, NUMERIC, Kind, expr_kind, kind_of

_QUERIES = (ast.Query, ast.SetQuery)
_FULL_JOIN_HELP = (
    "FULL OUTER JOIN needs an equality between the two sides among its conditions "
    "(ON a.x = b.y, or USING a column that is not a geometry): PostgreSQL cannot run it otherwise"
)


def check_using_column(name: ast.Identifier, left: ColumnMeta, right: ColumnMeta, tables: tuple[str, str]) -> None:
    """A USING (or NATURAL) column must be of one kind on both sides (any two numbers do)."""
    a, b = kind_of(left), kind_of(right)
    if a is b or (a in NUMERIC and b in NUMERIC):
        return
    raise ADQLError.at(
        ADQLCode.TYPE,
        f"USING {name.name}: the column is {a.value} in '{tables[0]}' and {b.value} in '{tables[1]}', "
        f"which cannot be matched; join ON a condition that converts one of them with CAST",
        name,
    )


def check_full_join_using(node: ast.Join, kinds: list[Kind]) -> None:
    """NATURAL or USING FULL JOIN: one of the matched columns must not be a geometry."""
    if kinds and all(k in GEOMETRIC for k in kinds):
        raise ADQLError.at(ADQLCode.UNSUPPORTED, f"{_FULL_JOIN_HELP}; geometries have no such equality", node)


def check_full_join_on(on: ast.Condition, left: frozenset[str], right: frozenset[str]) -> None:
    """FULL JOIN ... ON: a constant condition, or one with a hashable equality across the sides
    among its AND-ed terms. ``left`` and ``right``: the SQL aliases of each side's tables."""
    if not set(_aliases(on)) & (left | right) and not _has_subquery(on):
        return  # ON 1 = 1: no condition to hash or merge, and PostgreSQL needs none
    for term in _conjuncts(on):
        if _crosses(term, left, right):
            return
    raise ADQLError.at(ADQLCode.UNSUPPORTED, _FULL_JOIN_HELP, on)


def _conjuncts(condition: ast.Condition) -> Iterator[ast.Condition]:
    if isinstance(condition, ast.And):
        yield from _conjuncts(condition.left)
        yield from _conjuncts(condition.right)
    else:
        yield condition


def _crosses(term: ast.Condition, left: frozenset[str], right: frozenset[str]) -> bool:
    """``term`` is l = r with l of one side only and r of the other (outer columns are constants)."""
    if not isinstance(term, ast.Comparison) or term.op != "=":
        return False
    if expr_kind(term.left) in GEOMETRIC or expr_kind(term.right) in GEOMETRIC:
        return False
    a, b = _side(term.left, left, right), _side(term.right, left, right)
    return {a, b} == {"left", "right"}


def _has_subquery(node: ast.Node) -> bool:
    return any(isinstance(n, _QUERIES) for n in ast.walk(node))


def _side(expr: ast.Expr, left: frozenset[str], right: frozenset[str]) -> str | None:
    if _has_subquery(expr):
        return None  # a subquery is not a value PostgreSQL can hash the join on
    used = set(_aliases(expr)) & (left | right)  # an outer query's columns are constants here
    if used and used <= left:
        return "left"
    if used and used <= right:
        return "right"
    return None


def _aliases(node: ast.Node) -> Iterator[str]:
    for current in ast.walk(node, leaves=_QUERIES):
        if isinstance(current, ast.ResolvedColumn):
            yield current.table_alias
        elif isinstance(current, ast.MergedColumn):
            yield from current.table_aliases
