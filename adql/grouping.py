"""Where aggregates may stand and which columns a grouped query may show: the rules PostgreSQL
applies (SQL's, plus its functional dependence on a primary key), checked on the resolved tree
so that a query breaking them is an ``ADQL-GROUPING`` error at the offending name, never SQL.

A query is grouped when it has GROUP BY or HAVING, or an aggregate of its own in the select
list, HAVING or ORDER BY. Its select list, HAVING and ORDER BY may then name its columns only
inside its own aggregates, inside an expression it groups by, or (for a table grouped by all
columns of its primary key) anywhere; this holds inside subqueries too, for the columns they
take from it. An aggregate belongs to the innermost query whose columns its arguments use (to
its own query when they use none, as in COUNT(*)); it may not stand in that query's WHERE, JOIN
conditions or GROUP BY, nor inside another aggregate of that query.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from adql import ast
from adql.errors import ADQLCode, ADQLError
from adql.functions import is_aggregate

_QUERIES = (ast.Query, ast.SetQuery)
_NO_AGGREGATES = {
    "WHERE": "WHERE filters single rows before any grouping; to filter groups use HAVING",
    "JOIN": "a JOIN condition pairs single rows before any grouping",
    "GROUP BY": "groups cannot be formed by an aggregate",
}


@dataclass(frozen=True)
class _Aggregate:
    call: ast.FunctionCall
    clause: str  # the clause of the checked query it stands in
    levels: tuple[frozenset[str], ...]  # the checked query's aliases, then those of the subqueries it is in


def check_grouping(query: ast.Query, primary_keys: Mapping[str, tuple[str, ...]]) -> None:
    """Refuse ``query`` (resolved, its subqueries too) where PostgreSQL would refuse it for its
    aggregates or groups. ``primary_keys``: the primary-key columns of the query's own tables,
    by their SQL alias (base tables only)."""
    own = own_aliases(query.from_)
    aggregates = [a for clause, node in _clauses(query) for a in _own_aggregates(node, clause, (own,))]
    for aggregate in aggregates:
        _check_place(aggregate)
    _check_group_by_aliases(query, own)
    shown = [a for a in aggregates if a.clause in ("SELECT", "HAVING", "ORDER BY")]
    if query.group_by or query.having is not None or shown:
        _check_grouped_columns(query, own, primary_keys, shown[0] if shown else None)
    if query.distinct:
        _check_distinct_order(query)


def own_aliases(from_: tuple[ast.Node, ...]) -> frozenset[str]:
    """The SQL aliases of the tables a FROM clause names (not those inside its derived tables)."""
    aliases: set[str] = set()
    stack = list(from_)
    while stack:
        item = stack.pop()
        if isinstance(item, ast.ResolvedTable | ast.DerivedTable):
            aliases.add(item.sql_alias)
        elif isinstance(item, ast.Join):
            stack += [item.left, item.right]
    return frozenset(aliases)


def _clauses(query: ast.Query) -> Iterator[tuple[str, ast.Node]]:
    for item in query.select:
        yield "SELECT", item
    for condition in _join_conditions(query.from_):
        yield "JOIN", condition
    if query.where is not None:
        yield "WHERE", query.where
    for term in query.group_by:
        if not isinstance(term, ast.OutputRef):  # an output column's aggregate: _check_group_by_aliases
            yield "GROUP BY", term
    if query.having is not None:
        yield "HAVING", query.having
    for sort in query.order_by:
        yield "ORDER BY", sort


def _join_conditions(from_: tuple[ast.Node, ...]) -> Iterator[ast.Condition]:
    for item in from_:
        if isinstance(item, ast.Join):
            yield from _join_conditions((item.left, item.right))
            if item.on is not None:
                yield item.on


# --- which query an aggregate belongs to ----------------------------------------------------------
def _column_aliases(node: ast.Node) -> Iterator[str]:
    """The table aliases of the columns in ``node``, not entering subqueries."""
    for current in ast.walk(node, leaves=_QUERIES):
        if isinstance(current, ast.ResolvedColumn):
            yield current.table_alias
        elif isinstance(current, ast.MergedColumn):
            yield from current.table_aliases


def _belongs_here(call: ast.FunctionCall, levels: tuple[frozenset[str], ...]) -> bool:
    """Whether an aggregate standing in the innermost of ``levels`` (the checked query's aliases
    first, then those of the subqueries down to the one it stands in) belongs to the checked query:
    the innermost level whose columns its arguments use, its own when they use none."""
    used = set()
    for alias in (a for arg in call.args for a in _column_aliases(arg)):
        used |= {depth for depth, aliases in enumerate(levels) if alias in aliases} or {-1}
    owner = max(used) if used else len(levels) - 1
    return owner == 0


_PLAIN = (ast.ResolvedColumn, ast.MergedColumn, ast.IntegerLiteral, ast.RealLiteral)


def _own_aggregates(node: ast.Node, clause: str, levels: tuple[frozenset[str], ...]) -> Iterator[_Aggregate]:
    """The aggregates in ``node`` that belong to the checked query (not those inside them)."""
    if isinstance(node, _PLAIN) or (isinstance(node, ast.SelectItem) and isinstance(node.expr, _PLAIN)):
        return  # a column or a number as it is (most of a select list): nothing to look into
    if isinstance(node, ast.FunctionCall) and is_aggregate(node) and _belongs_here(node, levels):
        yield _Aggregate(node, clause, levels)
        return
    if isinstance(node, ast.Query):
        levels = (*levels, own_aliases(node.from_))
    for child in ast.children(node):
        yield from _own_aggregates(child, clause, levels)


def _check_place(aggregate: _Aggregate) -> None:
    call = aggregate.call
    why = _NO_AGGREGATES.get(aggregate.clause)
    if why is not None:
        raise ADQLError.at(
            ADQLCode.GROUPING, f"{aggregate.clause} cannot use the aggregate function {call.name}: {why}", call
        )
    for arg in call.args:
        inner = next(_own_aggregates(arg, aggregate.clause, aggregate.levels), None)
        if inner is not None:
            raise ADQLError.at(
                ADQLCode.GROUPING,
                f"{inner.call.name} inside {call.name}: aggregate functions cannot be nested; compute the "
                f"inner one per group in a subquery (FROM (SELECT ... GROUP BY ...) AS g) and apply {call.name} to that",
                inner.call,
            )


def _check_group_by_aliases(query: ast.Query, own: frozenset[str]) -> None:
    for term in query.group_by:
        if not isinstance(term, ast.OutputRef):
            continue
        item = query.select[term.position - 1]
        assert isinstance(item, ast.SelectItem)
        if next(_own_aggregates(item.expr, "GROUP BY", (own,)), None) is not None:
            raise ADQLError.at(
                ADQLCode.GROUPING,
                f"GROUP BY {term.name}: that is the select list's {term.name}, an aggregate, and groups "
                "cannot be formed by an aggregate; to group by a table's column of that name, qualify it",
                term,
            )


# --- grouped queries ------------------------------------------------------------------------------
def _grouping_keys(query: ast.Query) -> list[ast.Expr]:
    keys = []
    for term in query.group_by:
        if isinstance(term, ast.OutputRef):  # GROUP BY a select-list name: that output column's value
            item = query.select[term.position - 1]
            assert isinstance(item, ast.SelectItem)
            keys.append(item.expr)
        else:
            keys.append(term)
    return keys


def _whole_tables(keys: list[ast.Expr], primary_keys: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    """Tables grouped by every column of their primary key: one row per group, so PostgreSQL lets
    the query show any of their columns."""
    grouped = {(k.table_alias, k.column.name) for k in keys if isinstance(k, ast.ResolvedColumn)}
    return frozenset(
        alias for alias, columns in primary_keys.items() if columns and all((alias, c) in grouped for c in columns)
    )


def _check_grouped_columns(
    query: ast.Query, own: frozenset[str], primary_keys: Mapping[str, tuple[str, ...]], aggregate: _Aggregate | None
) -> None:
    keys = _grouping_keys(query)
    whole = _whole_tables(keys, primary_keys)

    def ungrouped(current: ast.Node, levels: tuple[frozenset[str], ...]) -> tuple[ast.Expr, bool] | None:
        """The first column of the query in ``current`` that is neither grouped nor aggregated,
        and whether it stands in a subquery."""
        if isinstance(current, ast.Expr) and current in keys:
            return None
        if isinstance(current, ast.FunctionCall) and is_aggregate(current) and _belongs_here(current, levels):
            return None
        if isinstance(current, ast.ResolvedColumn | ast.MergedColumn):
            aliases = {current.table_alias} if isinstance(current, ast.ResolvedColumn) else set(current.table_aliases)
            return (current, len(levels) > 1) if aliases & own and not aliases <= whole else None
        if isinstance(current, ast.Query):
            levels = (*levels, own_aliases(current.from_))
        for child in ast.children(current):
            found = ungrouped(child, levels)
            if found is not None:
                return found
        return None

    for clause, node in _clauses(query):
        if clause not in ("SELECT", "HAVING", "ORDER BY"):
            continue
        if isinstance(node, ast.SortItem) and isinstance(node.expr, ast.OutputRef | ast.IntegerLiteral):
            continue  # an output column, checked in the select list
        found = ungrouped(node, (own,))
        if found is not None:
            column, in_subquery = found
            message = _ungrouped_message(column, in_subquery, query, aggregate)
            if any(_has_subquery(k) for k in keys):
                message += f"; {_SUBQUERY_TWICE}, and GROUP BY that alias"
            raise ADQLError.at(ADQLCode.GROUPING, message, column)


# The translation names each table occurrence anew, so PostgreSQL never finds a subquery written
# twice the same expression (nor does this check): the way out is an alias.
_SUBQUERY_TWICE = "a subquery written twice is never the same expression: give the select list's one an alias (AS v)"


def _has_subquery(node: ast.Node) -> bool:
    return any(isinstance(n, _QUERIES) for n in ast.walk(node))


def _ungrouped_message(column: ast.Expr, in_subquery: bool, query: ast.Query, aggregate: _Aggregate | None) -> str:
    assert isinstance(column, ast.ResolvedColumn | ast.MergedColumn)
    name = column.column.name
    where = "of the outer query, used in a subquery, " if in_subquery else ""
    if query.group_by:
        why = "the query gives one row per group, and this column can differ within a group"
        fix = f"add {name} to GROUP BY, or use it inside an aggregate such as MAX({name})"
    elif aggregate is not None:
        why = f"the aggregate {aggregate.call.name} makes the query one row for all rows it reads"
        fix = f"use it inside an aggregate such as MAX({name}) too, or add GROUP BY {name}"
    else:
        why = "HAVING makes the query one group of all rows it reads"
        fix = f"use it inside an aggregate such as MAX({name}), or add GROUP BY {name}"
    return f"column '{name}' {where}is neither grouped nor inside an aggregate function: {why}; {fix}"


def _check_distinct_order(query: ast.Query) -> None:
    shown = [item.expr for item in query.select if isinstance(item, ast.SelectItem)]
    for sort in query.order_by:
        if isinstance(sort.expr, ast.OutputRef | ast.IntegerLiteral) or sort.expr in shown:
            continue
        message = (
            "with SELECT DISTINCT, ORDER BY can only use what the select list shows (a duplicate removed "
            "could have had another value here): add this to the select list, or order by an output column"
        )
        if _has_subquery(sort.expr):
            message += f"; {_SUBQUERY_TWICE}, and ORDER BY that alias"
        raise ADQLError.at(ADQLCode.GROUPING, message, sort.expr)
