"""The typed, immutable ADQL syntax tree; every node knows where it came from in the query text.

Nodes are frozen dataclasses. The resolver returns a new tree in which column references are
replaced by ``ResolvedColumn`` and ``*`` is expanded; dialects only ever see resolved trees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adql.catalog import ColumnMeta


@dataclass(frozen=True)
class Pos:
    line: int = 0
    column: int = 0


@dataclass(frozen=True)
class Node:
    pos: Pos = field(default=Pos(), compare=False, kw_only=True)


@dataclass(frozen=True)
class Identifier(Node):
    name: str
    delimited: bool = False

    def matches(self, stored: str) -> bool:
        """ADQL case rules: regular identifiers compare case-insensitively, delimited exactly."""
        return self.name == stored if self.delimited else self.name.lower() == stored.lower()


# --- value expressions ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Expr(Node):
    pass


@dataclass(frozen=True)
class ColumnRef(Expr):
    parts: tuple[Identifier, ...]

    @property
    def text(self) -> str:
        return ".".join(p.name for p in self.parts)


@dataclass(frozen=True)
class ResolvedColumn(Expr):
    """A column reference bound to the table occurrence (by its SQL alias) it comes from."""

    table_alias: str
    column: ColumnMeta


@dataclass(frozen=True)
class IntegerLiteral(Expr):
    text: str


@dataclass(frozen=True)
class RealLiteral(Expr):
    text: str


@dataclass(frozen=True)
class StringLiteral(Expr):
    value: str


@dataclass(frozen=True)
class NullLiteral(Expr):
    pass


@dataclass(frozen=True)
class Unary(Expr):
    op: str
    operand: Expr


@dataclass(frozen=True)
class Binary(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class MergedColumn(Expr):
    """A column of a NATURAL or USING join, named once for both sides."""

    table_aliases: tuple[str, ...]
    column: ColumnMeta


@dataclass(frozen=True)
class OutputRef(Expr):
    """A reference to an output column of the same query (ORDER BY alias, set operations)."""

    name: str
    meta: ColumnMeta


@dataclass(frozen=True)
class ScalarSubquery(Expr):
    query: QueryExpr
    meta: ColumnMeta | None = None  # type of its one output column, once resolved


@dataclass(frozen=True)
class Case(Expr):
    operand: Expr | None  # simple CASE compares it with each WHEN value
    whens: tuple[tuple[Node, Expr], ...]  # (Condition, or Expr for simple CASE; result)
    otherwise: Expr | None = None


@dataclass(frozen=True)
class Cast(Expr):
    expr: Expr
    target: str  # SMALLINT, INTEGER, BIGINT, REAL, DOUBLE PRECISION, CHAR, VARCHAR, TIMESTAMP
    length: int | None = None


@dataclass(frozen=True)
class FunctionCall(Expr):
    name: str  # upper-case for built-ins, as written for user-defined functions
    args: tuple[Expr, ...] = ()
    star: bool = False  # COUNT(*)
    distinct: bool = False
    user_defined: bool = False


# --- predicates -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition(Node):
    pass


@dataclass(frozen=True)
class Comparison(Condition):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Between(Condition):
    value: Expr
    low: Expr
    high: Expr
    negated: bool = False


@dataclass(frozen=True)
class InList(Condition):
    value: Expr
    items: tuple[Expr, ...]
    negated: bool = False


@dataclass(frozen=True)
class Like(Condition):
    value: Expr
    pattern: Expr
    negated: bool = False
    case_insensitive: bool = False
    escape: Expr | None = None


@dataclass(frozen=True)
class InSubquery(Condition):
    value: Expr
    query: QueryExpr
    negated: bool = False


@dataclass(frozen=True)
class Exists(Condition):
    query: QueryExpr


@dataclass(frozen=True)
class IsNull(Condition):
    value: Expr
    negated: bool = False


@dataclass(frozen=True)
class And(Condition):
    left: Condition
    right: Condition


@dataclass(frozen=True)
class Or(Condition):
    left: Condition
    right: Condition


@dataclass(frozen=True)
class Not(Condition):
    operand: Condition


# --- query structure ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SelectItem(Node):
    expr: Expr
    alias: Identifier | None = None


@dataclass(frozen=True)
class SelectStar(Node):
    """``*`` (qualifier None) or ``t.*``; replaced by SelectItems during resolution."""

    qualifier: tuple[Identifier, ...] | None = None


@dataclass(frozen=True)
class TableRef(Node):
    schema: Identifier | None
    name: Identifier
    alias: Identifier | None = None


@dataclass(frozen=True)
class ResolvedTable(Node):
    schema: str | None  # None for a common table expression
    name: str
    sql_alias: str
    sql_name: str | None = None  # the table's SQL name, when not schema.name


@dataclass(frozen=True)
class DerivedTable(Node):
    query: QueryExpr
    alias: Identifier
    column_names: tuple[Identifier, ...] = ()
    sql_alias: str = ""


@dataclass(frozen=True)
class Join(Node):
    left: FromItem
    right: FromItem
    kind: str = "INNER"  # INNER, LEFT, RIGHT, FULL, CROSS
    natural: bool = False
    on: Condition | None = None
    using: tuple[Identifier, ...] = ()


FromItem = TableRef | ResolvedTable | DerivedTable | Join


@dataclass(frozen=True)
class CommonTable(Node):
    name: Identifier
    query: QueryExpr
    column_names: tuple[Identifier, ...] = ()


@dataclass(frozen=True)
class SortItem(Node):
    expr: Expr
    descending: bool = False


@dataclass(frozen=True)
class Query(Node):
    select: tuple[SelectItem | SelectStar, ...]
    from_: tuple[FromItem, ...]
    distinct: bool = False
    top: int | None = None
    where: Condition | None = None
    group_by: tuple[Expr, ...] = ()
    having: Condition | None = None
    order_by: tuple[SortItem, ...] = ()
    offset: int | None = None
    with_: tuple[CommonTable, ...] = ()


@dataclass(frozen=True)
class SetQuery(Node):
    """UNION, EXCEPT or INTERSECT of two queries; ORDER BY and OFFSET apply to the whole."""

    op: str
    all: bool
    left: QueryExpr
    right: QueryExpr
    order_by: tuple[SortItem, ...] = ()
    offset: int | None = None
    with_: tuple[CommonTable, ...] = ()


QueryExpr = Query | SetQuery
