"""Render a resolved ADQL tree as PostgreSQL + pgsphere SQL.

Only SQL built here from the tree comes out: identifiers are always quoted, literals escaped, and
only functions in the mapping below can be called. Geometry predicates are written in the form
the GiST indexes serve (``spoint(radians(ra), radians(dec)) <@ scircle(...)``), which is exactly
the expression the position indexes are built on.
"""

from __future__ import annotations

from collections.abc import Callable

from adql import ast
from adql.errors import ADQLError
from adql.functions import result_meta, signature
from adql.resolve import ResolvedQuery

# ADQL name -> PostgreSQL function, where only the name differs.
_RENAMED = {
    "ABS": "abs",
    "ACOS": "acos",
    "ASIN": "asin",
    "ATAN": "atan",
    "ATAN2": "atan2",
    "CEILING": "ceil",
    "COS": "cos",
    "COT": "cot",
    "DEGREES": "degrees",
    "EXP": "exp",
    "FLOOR": "floor",
    "LOG": "ln",  # ADQL LOG is the natural logarithm
    "LOG10": "log",
    "LOWER": "lower",
    "MOD": "mod",
    "POWER": "power",
    "RADIANS": "radians",
    "SIN": "sin",
    "SQRT": "sqrt",
    "TAN": "tan",
    "UPPER": "upper",
    "AVG": "avg",
    "MIN": "min",
    "MAX": "max",
    "SUM": "sum",
}
_ACCEPTED_FRAMES = ("", "ICRS")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_string(value: str) -> str:
    # standard_conforming_strings is on for every connection dalserver opens, so only quotes
    # need doubling; NUL cannot be stored in PostgreSQL text at all.
    if "\x00" in value:
        raise ADQLError("ADQL-SYNTAX", "string literals cannot contain the NUL character")
    return "'" + value.replace("'", "''") + "'"


def _err(code: str, message: str, node: ast.Node) -> ADQLError:
    return ADQLError(code, message, node.pos.line or None, node.pos.column or None)


class PostgresDialect:
    """Turns a ``ResolvedQuery`` into one SELECT statement."""

    def __init__(self) -> None:
        self._render: dict[type, Callable[[ast.Node], str]] = {
            ast.ResolvedColumn: self._column,
            ast.ColumnRef: self._output_alias,
            ast.IntegerLiteral: lambda n: n.text,  # type: ignore[attr-defined]
            ast.RealLiteral: self._real,
            ast.StringLiteral: lambda n: quote_string(n.value),  # type: ignore[attr-defined]
            ast.NullLiteral: lambda n: "NULL",
            ast.Unary: self._unary,
            ast.Binary: self._binary,
            ast.FunctionCall: self._function,
            ast.Comparison: self._comparison,
            ast.Between: self._between,
            ast.InList: self._in_list,
            ast.Like: self._like,
            ast.IsNull: self._is_null,
            ast.And: lambda n: f"({self.sql(n.left)} AND {self.sql(n.right)})",  # type: ignore[attr-defined]
            ast.Or: lambda n: f"({self.sql(n.left)} OR {self.sql(n.right)})",  # type: ignore[attr-defined]
            ast.Not: lambda n: f"(NOT {self.sql(n.operand)})",  # type: ignore[attr-defined]
        }

    def sql(self, node: ast.Node) -> str:
        render = self._render.get(type(node))
        if render is None:
            raise _err("ADQL-UNSUPPORTED", f"{type(node).__name__} is not supported yet", node)
        return render(node)

    # --- statement ------------------------------------------------------------------------------
    def translate(self, resolved: ResolvedQuery, row_limit: int | None = None) -> str:
        """The SELECT for ``resolved``; ``row_limit`` caps the rows on top of any TOP."""
        q = resolved.query
        items = []
        for item, out in zip(q.select, resolved.output, strict=True):
            assert isinstance(item, ast.SelectItem)
            expr = self.sql(item.expr)
            if out.meta.is_geometry:
                # pgsphere types have no binary output; their text (in degrees) becomes DALI.
                expr = f"CAST({expr} AS text)"
            items.append(f"{expr} AS {quote_ident(out.name)}")
        parts = ["SELECT"]
        if q.distinct:
            parts.append("DISTINCT")
        parts.append(", ".join(items))
        tables = []
        for table in q.from_:
            assert isinstance(table, ast.ResolvedTable)
            tables.append(f"{quote_ident(table.schema)}.{quote_ident(table.name)} AS {table.sql_alias}")
        parts.append("FROM " + ", ".join(tables))
        if q.where is not None:
            parts.append("WHERE " + self.sql(q.where))
        if q.group_by:
            parts.append("GROUP BY " + ", ".join(self.sql(g) for g in q.group_by))
        if q.having is not None:
            parts.append("HAVING " + self.sql(q.having))
        if q.order_by:
            parts.append("ORDER BY " + ", ".join(self._sort(s) for s in q.order_by))
        limits = [n for n in (q.top, row_limit) if n is not None]
        if limits:
            parts.append(f"LIMIT {min(limits)}")
        if q.offset:
            parts.append(f"OFFSET {q.offset}")
        return " ".join(parts)

    def _sort(self, sort: ast.SortItem) -> str:
        direction = " DESC" if sort.descending else " ASC"
        return self.sql(sort.expr) + direction

    # --- expressions ----------------------------------------------------------------------------
    def _column(self, node: ast.ResolvedColumn) -> str:  # type: ignore[override]
        return f"{node.table_alias}.{quote_ident(node.column.name)}"

    def _output_alias(self, node: ast.ColumnRef) -> str:  # type: ignore[override]
        return quote_ident(node.parts[-1].name)

    def _real(self, node: ast.RealLiteral) -> str:  # type: ignore[override]
        # Keep PostgreSQL from reading 0.1 as numeric and comparing exactly against float8.
        return f"CAST({node.text} AS double precision)"

    def _unary(self, node: ast.Unary) -> str:  # type: ignore[override]
        return f"(-{self.sql(node.operand)})"

    def _binary(self, node: ast.Binary) -> str:  # type: ignore[override]
        return f"({self.sql(node.left)} {node.op} {self.sql(node.right)})"

    # --- predicates -----------------------------------------------------------------------------
    def _comparison(self, node: ast.Comparison) -> str:  # type: ignore[override]
        predicate = self._geometry_predicate_comparison(node)
        if predicate is not None:
            return predicate
        return f"({self.sql(node.left)} {node.op} {self.sql(node.right)})"

    def _geometry_predicate_comparison(self, node: ast.Comparison) -> str | None:
        """``CONTAINS(a, b) = 1`` becomes the bare operator, so PostgreSQL can use an index."""
        call, other = node.left, node.right
        if not self._is_predicate_call(call):
            call, other = node.right, node.left
        if not self._is_predicate_call(call) or not isinstance(other, ast.IntegerLiteral):
            return None
        assert isinstance(call, ast.FunctionCall)
        if node.op not in ("=", "<>") or other.text not in ("0", "1"):
            return None
        truth = (other.text == "1") == (node.op == "=")
        predicate = self._predicate(call)
        return predicate if truth else f"(NOT {predicate})"

    @staticmethod
    def _is_predicate_call(node: ast.Expr) -> bool:
        return isinstance(node, ast.FunctionCall) and node.name in ("CONTAINS", "INTERSECTS")

    def _between(self, node: ast.Between) -> str:  # type: ignore[override]
        neg = "NOT " if node.negated else ""
        return f"({self.sql(node.value)} {neg}BETWEEN {self.sql(node.low)} AND {self.sql(node.high)})"

    def _in_list(self, node: ast.InList) -> str:  # type: ignore[override]
        neg = "NOT " if node.negated else ""
        items = ", ".join(self.sql(i) for i in node.items)
        return f"({self.sql(node.value)} {neg}IN ({items}))"

    def _like(self, node: ast.Like) -> str:  # type: ignore[override]
        op = "ILIKE" if node.case_insensitive else "LIKE"
        neg = "NOT " if node.negated else ""
        # ADQL has no default escape character; PostgreSQL's is the backslash.
        return f"({self.sql(node.value)} {neg}{op} {self.sql(node.pattern)} ESCAPE '')"

    def _is_null(self, node: ast.IsNull) -> str:  # type: ignore[override]
        neg = "NOT " if node.negated else ""
        return f"({self.sql(node.value)} IS {neg}NULL)"

    # --- functions ------------------------------------------------------------------------------
    def _function(self, node: ast.FunctionCall) -> str:  # type: ignore[override]
        signature(node)
        name = node.name
        if name == "COUNT":
            if node.star:
                return "count(*)"
            distinct = "DISTINCT " if node.distinct else ""
            return f"count({distinct}{self.sql(node.args[0])})"
        if name in ("CONTAINS", "INTERSECTS"):
            return f"(CASE WHEN {self._predicate(node)} THEN 1 ELSE 0 END)"
        if name in _GEOMETRY_RENDERERS:
            return _GEOMETRY_RENDERERS[name](self, node)
        args = [self.sql(a) for a in node.args]
        if name == "PI":
            return "pi()"
        if name == "RAND":
            return "random()"  # a seed argument cannot be honoured per call in PostgreSQL
        if name in ("ROUND", "TRUNCATE"):
            return self._rounding(node, args)
        if name in _RENAMED:
            distinct = "DISTINCT " if node.distinct else ""
            return f"{_RENAMED[name]}({distinct}{', '.join(args)})"
        raise _err("ADQL-UNSUPPORTED", f"function {name} is not supported yet", node)

    def _rounding(self, node: ast.FunctionCall, args: list[str]) -> str:
        # Through numeric: it rounds half away from zero (float8 rounds half to even) and is the
        # only type PostgreSQL rounds to n places; then back to the argument's type.
        pg = "round" if node.name == "ROUND" else "trunc"
        places = f"CAST({args[1]} AS integer)" if len(args) == 2 else "0"
        meta = result_meta(node.args[0])
        back = "double precision" if meta.datatype in ("float", "double") else "bigint"
        return f"CAST({pg}(CAST({args[0]} AS numeric), {places}) AS {back})"

    # --- geometry -------------------------------------------------------------------------------
    def _check_frame(self, node: ast.Expr, call: ast.FunctionCall) -> None:
        if not isinstance(node, ast.StringLiteral):
            raise _err("ADQL-TYPE", f"the coordinate system of {call.name} must be a string literal", call)
        frame = node.value.strip().upper()
        if frame and not frame.startswith(_ACCEPTED_FRAMES[1]):
            raise _err(
                "ADQL-UNSUPPORTED",
                f"coordinate system '{node.value}' is not supported; use 'ICRS' (or '')",
                node,
            )

    def _strip_frame(self, call: ast.FunctionCall, plain_arity: int) -> tuple[ast.Expr, ...]:
        """Geometry constructors take an optional leading coordinate-system string."""
        args = call.args
        if len(args) == plain_arity + 1 or (args and isinstance(args[0], ast.StringLiteral)):
            self._check_frame(args[0], call)
            return args[1:]
        return args

    def _point(self, call: ast.FunctionCall) -> str:
        args = self._strip_frame(call, 2)
        if len(args) != 2:
            raise _err("ADQL-TYPE", "POINT takes a coordinate system and two coordinates", call)
        return self._spoint(args[0], args[1])

    def _spoint(self, ra: ast.Expr, dec: ast.Expr) -> str:
        return f"spoint(radians({self.sql(ra)}), radians({self.sql(dec)}))"

    def _circle(self, call: ast.FunctionCall) -> str:
        args = call.args
        if args and isinstance(args[0], ast.StringLiteral):
            self._check_frame(args[0], call)
            args = args[1:]
        if len(args) == 3:
            center = self._spoint(args[0], args[1])
        elif len(args) == 2 and self._is_point(args[0]):
            center = self.sql(args[0])
        else:
            raise _err("ADQL-TYPE", "CIRCLE takes a centre (a point, or two coordinates) and a radius", call)
        return f"scircle({center}, radians({self.sql(args[-1])}))"

    def _is_point(self, expr: ast.Expr) -> bool:
        return result_meta(expr).xtype == "point"

    def _geometry_arg(self, expr: ast.Expr, call: ast.FunctionCall) -> str:
        meta = result_meta(expr)
        if not meta.is_geometry:
            raise _err("ADQL-TYPE", f"the arguments of {call.name} must be geometries (POINT, CIRCLE, ...)", expr)
        return self.sql(expr)

    def _predicate(self, call: ast.FunctionCall) -> str:
        signature(call)
        left, right = call.args
        a, b = self._geometry_arg(left, call), self._geometry_arg(right, call)
        if call.name == "CONTAINS" or self._is_point(left):
            return f"({a} <@ {b})"
        if self._is_point(right):
            return f"({b} <@ {a})"
        return f"({a} && {b})"

    def _distance(self, call: ast.FunctionCall) -> str:
        args = call.args
        if len(args) == 4:
            return f"degrees({self._spoint(args[0], args[1])} <-> {self._spoint(args[2], args[3])})"
        if len(args) != 2:
            raise _err("ADQL-TYPE", "DISTANCE takes two points or four coordinates", call)
        for arg in args:
            if not self._is_point(arg):
                raise _err("ADQL-TYPE", "DISTANCE takes two points or four coordinates", arg)
        return f"degrees({self.sql(args[0])} <-> {self.sql(args[1])})"

    def _coord(self, call: ast.FunctionCall) -> str:
        (arg,) = call.args
        if not self._is_point(arg):
            raise _err("ADQL-TYPE", f"{call.name} takes a point", arg)
        accessor = "long" if call.name == "COORD1" else "lat"
        return f"degrees({accessor}({self.sql(arg)}))"


_GEOMETRY_RENDERERS: dict[str, Callable[[PostgresDialect, ast.FunctionCall], str]] = {
    "POINT": PostgresDialect._point,
    "CIRCLE": PostgresDialect._circle,
    "DISTANCE": PostgresDialect._distance,
    "COORD1": PostgresDialect._coord,
    "COORD2": PostgresDialect._coord,
}
