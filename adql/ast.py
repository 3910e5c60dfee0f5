"""The typed, immutable ADQL syntax tree; every node knows where it came from in the query text.

Nodes are frozen dataclasses. The resolver returns a new tree in which column references are
replaced by ``ResolvedColumn``, ``*`` is expanded and every expression carries its VO type
(``Expr.meta``); dialects only ever see resolved trees. ``children``, ``walk`` and ``transform``
are the one generic way through a tree: the resolver and the rewrites use them instead of a
recursion per node type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar, cast

from adql.catalog import ColumnMeta, PositionKey


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
    # The value's VO type (datatype, xtype, unit, UCD), set by the resolver's type checker.
    meta: ColumnMeta | None = field(default=None, compare=False, kw_only=True)


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


class NumbersRead:
    """What a watched translation read of its numbers (adql.cache): the (line, column) of each
    number whose value it read, and the bounds of each integer it only checked the range of.
    A translation that read none of a query's numbers is the same for any other numbers within
    those bounds, but for their text in the SQL."""

    def __init__(self) -> None:
        self.values: set[tuple[int, int]] = set()
        self.bounds: dict[tuple[int, int], tuple[int, int]] = {}


_watched: ContextVar[NumbersRead | None] = ContextVar("adql_numbers_read", default=None)
# What a number's text starts with in a translation that makes an SQL template (adql.cache): a
# slot, whose value is checked against its bounds when the template is used.
SLOT_MARK = "\x00"


def number_text(node: IntegerLiteral | RealLiteral) -> str:
    """The text of a numeric literal read for its value (to compute with it, compare it, check
    it): every such read goes through here. Only the renderer, which copies the text into the
    SQL as it is, reads ``.text`` directly."""
    watched = _watched.get()
    if watched is not None:
        watched.values.add((node.pos.line, node.pos.column))
    return node.text


def integer_within(node: IntegerLiteral, low: int, high: int) -> bool:
    """Whether an integer literal is within ``low`` to ``high``: its value is read only as far as
    that (a template's slot keeps the bounds and checks every value put in it)."""
    watched = _watched.get()
    if watched is not None:
        watched.bounds.setdefault((node.pos.line, node.pos.column), (low, high))
        if node.text.startswith(SLOT_MARK):
            return True
    return low <= int(node.text) <= high


@contextmanager
def numbers_read() -> Iterator[NumbersRead]:
    """What is read of the numeric literals inside the block."""
    watched = NumbersRead()
    token = _watched.set(watched)
    try:
        yield watched
    finally:
        _watched.reset(token)


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
    """A reference to an output column of the same query (GROUP BY or ORDER BY of a select-list
    name, ORDER BY of a set operation): ``position`` counts from 1 in the select list."""

    name: str
    position: int


@dataclass(frozen=True)
class ScalarSubquery(Expr):
    query: QueryExpr  # its one output column's type is the node's meta, once resolved


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


@dataclass(frozen=True)
class GeometryTest(Condition):
    """``CONTAINS(a, b) = 1`` or ``INTERSECTS(a, b) = 1`` as a bare predicate (what a spatial
    index can serve); only made by the dialects' index rewrites, never by the parser."""

    op: str  # CONTAINS or INTERSECTS
    left: Expr
    right: Expr


@dataclass(frozen=True)
class KeyCover(Condition):
    """``healpix_nest(order, POINT(ra, dec))`` within one of the inclusive ``ranges``: the coarse
    range cover of a constant region on a table's HEALPix position key, made by the dialects'
    key-cover pass next to the exact predicate it is implied by, never by the parser."""

    ra: Expr
    dec: Expr
    order: int
    ranges: tuple[tuple[int, int], ...]


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
    catalog: Identifier | None = None  # catalog.schema.table: parsed, refused by the resolver


@dataclass(frozen=True)
class ResolvedTable(Node):
    schema: str | None  # None for a common table expression
    name: str
    sql_alias: str
    sql_name: str | None = None  # what FROM names, when not schema.name (a temporary table, a function)
    position_key: PositionKey | None = None  # the table's HEALPix key, for the translator's covers


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


# --- generic traversal ----------------------------------------------------------------------------
N = TypeVar("N", bound=Node)

# Field annotations that never hold sub-trees: names, flags, types, positions.
_LEAF_ANNOTATIONS = frozenset(
    {
        "str",
        "str | None",
        "bool",
        "int",
        "int | None",
        "Pos",
        "ColumnMeta",
        "ColumnMeta | None",
        "Identifier",
        "Identifier | None",
        "tuple[Identifier, ...]",
        "tuple[Identifier, ...] | None",
        "tuple[str, ...]",
        "PositionKey | None",
        "tuple[tuple[int, int], ...]",
    }
)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    names = _CHILD_FIELDS.get(cls)
    if names is None:
        names = tuple(f.name for f in fields(cls) if str(f.type) not in _LEAF_ANNOTATIONS)
        _CHILD_FIELDS[cls] = names
    return names


def _flatten(value: Any) -> Iterator[Node]:
    if isinstance(value, Node):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _flatten(item)


def children(node: Node) -> Iterator[Node]:
    """The sub-trees of ``node`` (expressions, conditions, queries, FROM items), in field order."""
    for name in _child_fields(type(node)):
        yield from _flatten(node.__dict__[name])


def walk(node: Node, leaves: tuple[type, ...] = ()) -> Iterator[Node]:
    """``node`` and everything below it, parents first; nodes of a ``leaves`` type are yielded
    but not entered."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if not isinstance(current, leaves):
            stack.extend(reversed(list(children(current))))


def copy_with(node: N, **changes: Any) -> N:
    """``dataclasses.replace`` without re-running ``__init__``: the tree is rebuilt often."""
    new = object.__new__(type(node))
    new.__dict__.update(node.__dict__)
    new.__dict__.update(changes)
    return new


def transform(node: N, fn: Callable[[Node], Node], leaves: tuple[type, ...] = ()) -> N:
    """Rebuild ``node`` bottom-up: each node's children first, then ``fn`` of the node with its
    new children. Nodes of a ``leaves`` type are kept as they are, ``fn`` is not called on them
    (the resolver passes queries so: a subquery needs its own scope). Unchanged sub-trees are
    shared, not copied."""

    def visit(value: Any) -> Any:
        if isinstance(value, Node):
            return value if isinstance(value, leaves) else rebuild(value)
        if isinstance(value, tuple):
            new = tuple(visit(v) for v in value)
            return value if all(a is b for a, b in zip(new, value, strict=True)) else new
        return value

    def rebuild(current: Node) -> Node:
        changes: dict[str, Any] = {}
        for name in _child_fields(type(current)):
            old = current.__dict__[name]
            new = visit(old)
            if new is not old:
                changes[name] = new
        return fn(copy_with(current, **changes) if changes else current)

    return cast(N, rebuild(node))
