"""Render a resolved ADQL tree as PostgreSQL + pgsphere SQL.

Only SQL built here from the tree comes out: identifiers are always quoted, literals escaped, and
only functions in the mapping below can be called. Geometry predicates are written in the form
the GiST indexes serve (``spoint(radians(ra), radians(dec)) <@ scircle(...)``), which is exactly
the expression the position indexes are built on.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable

from adql import ast
from adql.dialects.pgsphere import spoly_literal
from adql.dialects.sql_text import quote_ident, quote_string
from adql.errors import ADQLError
from adql.functions import result_meta, signature
from adql.resolve import ResolvedQuery
from adql.stcs import parse_stcs
from adql.udf import find_user_function
from adql.units import unit_factor


def _has_columns(*exprs: ast.Node) -> bool:
    """Whether any of ``exprs`` reads a column (else it is the same for every row)."""
    for expr in exprs:
        if isinstance(expr, ast.ResolvedColumn):
            return True
        for f in dataclasses.fields(expr):
            value = getattr(expr, f.name)
            children = value if isinstance(value, tuple) else (value,)
            if any(isinstance(c, ast.Node) and _has_columns(c) for c in children):
                return True
    return False


def _constant(expr: ast.Expr) -> float | None:
    """The value of an arithmetic expression over numeric literals (2/3600.0), else None."""
    if isinstance(expr, ast.IntegerLiteral | ast.RealLiteral):
        return float(int(expr.text, 0) if expr.text.lower().startswith("0x") else expr.text)
    if isinstance(expr, ast.Unary) and expr.op in ("-", "+"):
        value = _constant(expr.operand)
        return None if value is None else (-value if expr.op == "-" else value)
    if isinstance(expr, ast.Binary) and expr.op in ("+", "-", "*", "/"):
        left, right = _constant(expr.left), _constant(expr.right)
        if left is None or right is None or (expr.op == "/" and right == 0):
            return None
        return _ARITHMETIC[expr.op](left, right)
    return None


_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


def _is_small_radius(expr: ast.Expr) -> bool:
    value = _constant(expr)
    return value is not None and 0 <= value <= 90


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
_BITWISE = {"&": "&", "|": "|", "^": "#"}  # PostgreSQL's ^ is exponentiation, # is xor


class PostgresDialect:
    """Turns a ``ResolvedQuery`` into one SELECT statement."""

    def __init__(self) -> None:
        self._render: dict[type, Callable[[ast.Node], str]] = {
            ast.ResolvedColumn: self._column,
            ast.MergedColumn: self._merged,
            ast.OutputRef: lambda n: quote_ident(n.name),  # type: ignore[attr-defined]
            ast.ScalarSubquery: lambda n: f"({self.query_sql(n.query)})",  # type: ignore[attr-defined]
            ast.Case: self._case,
            ast.Cast: self._cast,
            ast.InSubquery: self._in_subquery,
            ast.Exists: lambda n: f"(EXISTS ({self.query_sql(n.query)}))",  # type: ignore[attr-defined]
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
            raise ADQLError.at("ADQL-UNSUPPORTED", f"{type(node).__name__} is not supported yet", node)
        return render(node)

    # --- statements -----------------------------------------------------------------------------
    def translate(self, resolved: ResolvedQuery, row_limit: int | None = None) -> str:
        """The SELECT for ``resolved``; ``row_limit`` caps the rows on top of any TOP."""
        geometry_outputs = {i for i, o in enumerate(resolved.output) if o.meta.is_geometry}
        return self.query_sql(resolved.query, row_limit, geometry_outputs)

    def query_sql(self, q: ast.Node, row_limit: int | None = None, text_outputs: set[int] | None = None) -> str:
        with_ = ""
        if q.with_:  # type: ignore[attr-defined]
            with_ = "WITH " + ", ".join(self._common_table(c) for c in q.with_) + " "  # type: ignore[attr-defined]
        if isinstance(q, ast.SetQuery):
            body = self._set_query(q, row_limit, text_outputs)
        else:
            assert isinstance(q, ast.Query)
            body = self._select(q, row_limit, text_outputs or set())
        return with_ + body

    def _common_table(self, cte: ast.CommonTable) -> str:
        names = ""
        if cte.column_names:
            names = "(" + ", ".join(quote_ident(n.name) for n in cte.column_names) + ")"
        return f"{quote_ident(cte.name.name)}{names} AS ({self.query_sql(cte.query)})"

    def _set_query(self, q: ast.SetQuery, row_limit: int | None, text_outputs: set[int] | None) -> str:
        quantifier = " ALL" if q.all else ""
        left = self.query_sql(q.left, None, text_outputs)
        right = self.query_sql(q.right, None, text_outputs)
        parts = [f"({left}) {q.op}{quantifier} ({right})"]
        if q.order_by:
            parts.append("ORDER BY " + ", ".join(self._sort(s) for s in q.order_by))
        if row_limit is not None:
            parts.append(f"LIMIT {row_limit}")
        if q.offset:
            parts.append(f"OFFSET {q.offset}")
        return " ".join(parts)

    def _select(self, q: ast.Query, row_limit: int | None, text_outputs: set[int]) -> str:
        items = []
        for position, item in enumerate(q.select):
            assert isinstance(item, ast.SelectItem) and item.alias is not None
            expr = self.sql(item.expr)
            if position in text_outputs:
                # pgsphere types have no binary output; their text (in degrees) becomes DALI.
                expr = f"CAST({expr} AS text)"
            items.append(f"{expr} AS {quote_ident(item.alias.name)}")
        parts = ["SELECT"]
        if q.distinct:
            parts.append("DISTINCT")
        parts.append(", ".join(items))
        parts.append("FROM " + ", ".join(self._from_item(t) for t in q.from_))
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

    def _from_item(self, item: ast.Node) -> str:
        if isinstance(item, ast.ResolvedTable):
            if item.sql_name is not None:
                return f"{item.sql_name} AS {item.sql_alias}"
            if item.schema is None:
                return f"{quote_ident(item.name)} AS {item.sql_alias}"
            return f"{quote_ident(item.schema)}.{quote_ident(item.name)} AS {item.sql_alias}"
        if isinstance(item, ast.DerivedTable):
            names = ""
            if item.column_names:
                names = "(" + ", ".join(quote_ident(n.name) for n in item.column_names) + ")"
            return f"({self.query_sql(item.query)}) AS {item.sql_alias}{names}"
        if isinstance(item, ast.Join):
            left, right = self._from_item(item.left), self._from_item(item.right)
            if item.kind == "CROSS":
                return f"({left} CROSS JOIN {right})"
            natural = "NATURAL " if item.natural else ""
            kind = "INNER" if item.kind == "INNER" else f"{item.kind} OUTER"
            spec = ""
            if item.on is not None:
                spec = f" ON {self.sql(item.on)}"
            elif item.using:
                spec = " USING (" + ", ".join(quote_ident(i.name) for i in item.using) + ")"
            return f"({left} {natural}{kind} JOIN {right}{spec})"
        raise ADQLError.at("ADQL-UNSUPPORTED", f"unsupported FROM item {type(item).__name__}", item)

    def _sort(self, sort: ast.SortItem) -> str:
        direction = " DESC" if sort.descending else " ASC"
        return self.sql(sort.expr) + direction

    # --- expressions ----------------------------------------------------------------------------
    def _column(self, node: ast.ResolvedColumn) -> str:  # type: ignore[override]
        return f"{node.table_alias}.{quote_ident(node.column.name)}"

    def _merged(self, node: ast.MergedColumn) -> str:  # type: ignore[override]
        # NATURAL/USING columns: equal on matched rows, either side may be null in outer joins.
        return "COALESCE(" + ", ".join(f"{a}.{quote_ident(node.column.name)}" for a in node.table_aliases) + ")"

    def _case(self, node: ast.Case) -> str:  # type: ignore[override]
        parts = ["CASE"]
        if node.operand is not None:
            parts.append(self.sql(node.operand))
        for when, result in node.whens:
            parts.append(f"WHEN {self.sql(when)} THEN {self.sql(result)}")
        if node.otherwise is not None:
            parts.append(f"ELSE {self.sql(node.otherwise)}")
        parts.append("END")
        return "(" + " ".join(parts) + ")"

    def _cast(self, node: ast.Cast) -> str:  # type: ignore[override]
        target = node.target
        if target in ("CHAR", "VARCHAR") and node.length is not None:
            target = f"{target}({node.length})"
        elif target == "CHAR" or target == "VARCHAR":
            target = "text"
        elif target == "TIMESTAMP":
            target = "timestamp"
        return f"CAST({self.sql(node.expr)} AS {target})"

    def _in_subquery(self, node: ast.InSubquery) -> str:  # type: ignore[override]
        neg = "NOT " if node.negated else ""
        return f"({self.sql(node.value)} {neg}IN ({self.query_sql(node.query)}))"

    def _real(self, node: ast.RealLiteral) -> str:  # type: ignore[override]
        # Keep PostgreSQL from reading 0.1 as numeric and comparing exactly against float8.
        return f"CAST({node.text} AS double precision)"

    def _unary(self, node: ast.Unary) -> str:  # type: ignore[override]
        if node.op == "~":
            return f"(~ CAST({self.sql(node.operand)} AS bigint))"
        return f"(- {self.sql(node.operand)})"

    def _binary(self, node: ast.Binary) -> str:  # type: ignore[override]
        left, right = self.sql(node.left), self.sql(node.right)
        if node.op in _BITWISE:
            return f"(CAST({left} AS bigint) {_BITWISE[node.op]} CAST({right} AS bigint))"
        if node.op == "||":
            return f"(CAST({left} AS text) || CAST({right} AS text))"
        return f"({left} {node.op} {right})"

    # --- predicates -----------------------------------------------------------------------------
    def _comparison(self, node: ast.Comparison) -> str:  # type: ignore[override]
        predicate = self._distance_comparison(node) or self._geometry_predicate_comparison(node)
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
        escape = self.sql(node.escape) if node.escape is not None else "''"
        return f"({self.sql(node.value)} {neg}{op} {self.sql(node.pattern)} ESCAPE {escape})"

    def _is_null(self, node: ast.IsNull) -> str:  # type: ignore[override]
        neg = "NOT " if node.negated else ""
        return f"({self.sql(node.value)} IS {neg}NULL)"

    # --- functions ------------------------------------------------------------------------------
    def _function(self, node: ast.FunctionCall) -> str:  # type: ignore[override]
        signature(node)
        if node.user_defined:
            udf = find_user_function(node.name)
            assert udf is not None
            return udf.sql.format(*(self.sql(a) for a in node.args))
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
        if name == "COALESCE":
            return f"coalesce({', '.join(args)})"
        if name == "NULLIF":
            return f"nullif({args[0]}, {args[1]})"
        if name == "IN_UNIT":
            return self._in_unit(node, args[0])
        if name == "PI":
            return "pi()"
        if name == "RAND":
            return "random()"  # a seed argument cannot be honoured per call in PostgreSQL
        if name in ("ROUND", "TRUNCATE"):
            return self._rounding(node, args)
        if name in _RENAMED:
            distinct = "DISTINCT " if node.distinct else ""
            return f"{_RENAMED[name]}({distinct}{', '.join(args)})"
        raise ADQLError.at("ADQL-UNSUPPORTED", f"function {name} is not supported yet", node)

    def _in_unit(self, node: ast.FunctionCall, value: str) -> str:
        target = node.args[1]
        if not isinstance(target, ast.StringLiteral):
            raise ADQLError.at("ADQL-TYPE", "the unit of IN_UNIT must be a string literal", target)
        source = result_meta(node.args[0]).unit
        if not source:
            raise ADQLError.at(
                "ADQL-TYPE", "IN_UNIT needs a value with a declared unit; this one has none", node.args[0]
            )
        factor = unit_factor(source, target.value, node)
        return f"({value} * CAST({factor!r} AS double precision))"

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
            raise ADQLError.at("ADQL-TYPE", f"the coordinate system of {call.name} must be a string literal", call)
        frame = node.value.strip().upper()
        if frame and not frame.startswith(_ACCEPTED_FRAMES[1]):
            raise ADQLError.at(
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
            raise ADQLError.at("ADQL-TYPE", "POINT takes a coordinate system and two coordinates", call)
        return self._spoint(args[0], args[1])

    def _spoint(self, ra: ast.Expr, dec: ast.Expr) -> str:
        return f"spoint(radians({self.sql(ra)}), radians({self.sql(dec)}))"

    def _circle_args(self, call: ast.FunctionCall) -> tuple[tuple[ast.Expr, ...], ast.Expr]:
        """(centre, radius) of CIRCLE(...): the centre a point, or ra and dec; the frame checked."""
        args = call.args
        if args and isinstance(args[0], ast.StringLiteral):
            self._check_frame(args[0], call)
            args = args[1:]
        if len(args) == 3 or (len(args) == 2 and self._is_point(args[0])):
            return args[:-1], args[-1]
        raise ADQLError.at("ADQL-TYPE", "CIRCLE takes a centre (a point, or two coordinates) and a radius", call)

    def _point_sql(self, point: tuple[ast.Expr, ...]) -> str:
        """A point given as (ra, dec) or as (a point expression,)."""
        return self._spoint(point[0], point[1]) if len(point) == 2 else self.sql(point[0])

    def _circle(self, call: ast.FunctionCall) -> str:
        centre, radius = self._circle_args(call)
        center = self._point_sql(centre)
        if isinstance(radius, ast.IntegerLiteral | ast.RealLiteral) and not 0 <= float(radius.text) <= 90:
            raise ADQLError.at(
                "ADQL-UNSUPPORTED",
                f"CIRCLE radius {radius.text} is outside 0 to 90 degrees, the range this service supports",
                radius,
            )
        return f"scircle({center}, radians({self.sql(radius)}))"

    def _is_point(self, expr: ast.Expr) -> bool:
        return result_meta(expr).xtype == "point"

    def _geometry_arg(self, expr: ast.Expr, call: ast.FunctionCall) -> str:
        meta = result_meta(expr)
        if not meta.is_geometry:
            raise ADQLError.at(
                "ADQL-TYPE", f"the arguments of {call.name} must be geometries (POINT, CIRCLE, ...)", expr
            )
        return self.sql(expr)

    def _predicate(self, call: ast.FunctionCall) -> str:
        signature(call)
        left, right = call.args
        a, b = self._geometry_arg(left, call), self._geometry_arg(right, call)
        if call.name == "CONTAINS" and self._is_point(left):
            mirrored = self._mirrored_cone(left, right)
            return f"({a} <@ {b}{mirrored})"
        if call.name == "CONTAINS" or self._is_point(left):
            return f"({a} <@ {b})"
        if self._is_point(right):
            return f"({b} <@ {a})"
        return f"({a} && {b})"

    # --- cross-matches ---------------------------------------------------------------------------
    # A join on "point of one table in a circle around the other's" or "DISTANCE < r" can only use
    # the index of the table whose position stands alone left of <@. Which table is indexed is not
    # known here, so both orientations are written (point-in-circle is symmetric); the planner
    # picks the one an index serves. Only for radii known to be 0-90 degrees (pgsphere's range).
    def _mirrored_cone(self, point: ast.Expr, circle: ast.Expr) -> str:
        if not isinstance(circle, ast.FunctionCall) or circle.name != "CIRCLE":
            return ""
        centre, radius = self._circle_args(circle)
        if not (_has_columns(point) and _has_columns(*centre) and _is_small_radius(radius)):
            return ""
        return f" AND {self._point_sql(centre)} <@ scircle({self.sql(point)}, radians({self.sql(radius)}))"

    def _distance_comparison(self, node: ast.Comparison) -> str | None:
        """``DISTANCE(a, b) < r`` (or ``r > DISTANCE(a, b)``) with the cone conditions an index can serve."""
        if isinstance(node.left, ast.FunctionCall) and node.left.name == "DISTANCE" and node.op in ("<", "<="):
            call, radius = node.left, node.right
        elif isinstance(node.right, ast.FunctionCall) and node.right.name == "DISTANCE" and node.op in (">", ">="):
            call, radius = node.right, node.left
        else:
            return None
        if not _is_small_radius(radius):
            return None
        sides = self._distance_args(call)
        exact = f"({self.sql(node.left)} {node.op} {self.sql(node.right)})"
        a, b = self._point_sql(sides[0]), self._point_sql(sides[1])
        cones = []
        r = f"radians({self.sql(radius)})"
        if _has_columns(*sides[0]):
            cones.append(f"{a} <@ scircle({b}, {r})")
        if _has_columns(*sides[1]):
            cones.append(f"{b} <@ scircle({a}, {r})")
        return "(" + " AND ".join([*cones, exact]) + ")"

    def _distance_args(self, call: ast.FunctionCall) -> tuple[tuple[ast.Expr, ...], tuple[ast.Expr, ...]]:
        """The two points of DISTANCE(...), each as (ra, dec) or (a point expression,)."""
        args = call.args
        if len(args) == 4:
            return (args[0], args[1]), (args[2], args[3])
        if len(args) != 2:
            raise ADQLError.at("ADQL-TYPE", "DISTANCE takes two points or four coordinates", call)
        for arg in args:
            if not self._is_point(arg):
                raise ADQLError.at("ADQL-TYPE", "DISTANCE takes two points or four coordinates", arg)
        return (args[0],), (args[1],)

    def _distance(self, call: ast.FunctionCall) -> str:
        a, b = self._distance_args(call)
        return f"degrees({self._point_sql(a)} <-> {self._point_sql(b)})"

    def _coord(self, call: ast.FunctionCall) -> str:
        (arg,) = call.args
        if not self._is_point(arg):
            raise ADQLError.at("ADQL-TYPE", f"{call.name} takes a point", arg)
        accessor = "long" if call.name == "COORD1" else "lat"
        return f"degrees({accessor}({self.sql(arg)}))"

    def _polygon_from_points(self, points: list[tuple[ast.Expr, ast.Expr] | ast.Expr], call: ast.Node) -> str:
        if len(points) < 3:
            raise ADQLError.at("ADQL-TYPE", "a polygon needs at least three vertices", call)
        literal = all(
            isinstance(p, tuple) and all(isinstance(c, ast.IntegerLiteral | ast.RealLiteral) for c in p) for p in points
        )
        if literal:
            return spoly_literal((float(p[0].text), float(p[1].text)) for p in points)  # type: ignore[index,union-attr]
        # Vertices computed per row: build the polygon with pgsphere's ordered aggregate.
        rows = ", ".join(
            f"({i}, {self._spoint(*p) if isinstance(p, tuple) else self.sql(p)})" for i, p in enumerate(points)
        )
        return f"(SELECT spoly(v.p ORDER BY v.i) FROM (VALUES {rows}) AS v(i, p))"

    def _polygon(self, call: ast.FunctionCall) -> str:
        args = list(call.args)
        if args and isinstance(args[0], ast.StringLiteral):
            self._check_frame(args[0], call)
            args = args[1:]
        if args and all(self._is_point(a) for a in args):
            return self._polygon_from_points(list(args), call)
        if len(args) % 2 or any(result_meta(a).is_geometry for a in args):
            raise ADQLError.at("ADQL-TYPE", "POLYGON takes points, or pairs of coordinates", call)
        return self._polygon_from_points([(args[i], args[i + 1]) for i in range(0, len(args), 2)], call)

    def _box(self, call: ast.FunctionCall) -> str:
        args = list(call.args)
        if args and isinstance(args[0], ast.StringLiteral):
            self._check_frame(args[0], call)
            args = args[1:]
        if len(args) == 3 and self._is_point(args[0]):
            centre = self.sql(args[0])
            ra, dec = f"degrees(long({centre}))", f"degrees(lat({centre}))"
            width, height = self.sql(args[1]), self.sql(args[2])
        elif len(args) == 4:
            ra, dec, width, height = (self.sql(a) for a in args)
        else:
            raise ADQLError.at("ADQL-TYPE", "BOX takes a centre (point or two coordinates), a width and a height", call)
        # An ADQL BOX spans width x height around its centre, as a four-vertex polygon.
        corners = [
            f"spoint(radians({ra} {sx} ({width}) / 2.0), radians({dec} {sy} ({height}) / 2.0))"
            for sx, sy in (("-", "-"), ("+", "-"), ("+", "+"), ("-", "+"))
        ]
        rows = ", ".join(f"({i}, {c})" for i, c in enumerate(corners))
        return f"(SELECT spoly(v.p ORDER BY v.i) FROM (VALUES {rows}) AS v(i, p))"

    def _region(self, call: ast.FunctionCall) -> str:
        (arg,) = call.args
        if not isinstance(arg, ast.StringLiteral):
            raise ADQLError.at("ADQL-TYPE", "REGION takes an STC-S string literal", call)
        shape = parse_stcs(arg.value, arg)
        n = shape.numbers
        if shape.shape == "point":
            return f"spoint(radians({n[0]!r}), radians({n[1]!r}))"
        if shape.shape == "circle":
            return f"scircle(spoint(radians({n[0]!r}), radians({n[1]!r})), radians({n[2]!r}))"
        if shape.shape == "box":
            ra, dec, w, h = n
            corners = [
                (ra - w / 2, dec - h / 2),
                (ra + w / 2, dec - h / 2),
                (ra + w / 2, dec + h / 2),
                (ra - w / 2, dec + h / 2),
            ]
        else:
            corners = [(n[i], n[i + 1]) for i in range(0, len(n), 2)]
        return spoly_literal(corners)

    def _centroid(self, call: ast.FunctionCall) -> str:
        (arg,) = call.args
        xtype = result_meta(arg).xtype
        if xtype == "point":
            return self.sql(arg)
        if xtype == "circle":
            return f"center({self.sql(arg)})"
        raise ADQLError.at("ADQL-UNSUPPORTED", "CENTROID is supported for points and circles, not polygons", call)

    def _area(self, call: ast.FunctionCall) -> str:
        (arg,) = call.args
        meta = result_meta(arg)
        if not meta.is_geometry:
            raise ADQLError.at("ADQL-TYPE", "AREA takes a geometry", arg)
        if meta.xtype == "point":
            return "CAST(0 AS double precision)"
        return f"degrees(degrees(area({self.sql(arg)})))"  # steradians to square degrees

    def _coordsys(self, call: ast.FunctionCall) -> str:
        (arg,) = call.args
        if not result_meta(arg).is_geometry:
            raise ADQLError.at("ADQL-TYPE", "COORDSYS takes a geometry", arg)
        return "'ICRS'"


_GEOMETRY_RENDERERS: dict[str, Callable[[PostgresDialect, ast.FunctionCall], str]] = {
    "POINT": PostgresDialect._point,
    "CIRCLE": PostgresDialect._circle,
    "POLYGON": PostgresDialect._polygon,
    "BOX": PostgresDialect._box,
    "REGION": PostgresDialect._region,
    "CENTROID": PostgresDialect._centroid,
    "AREA": PostgresDialect._area,
    "COORDSYS": PostgresDialect._coordsys,
    "DISTANCE": PostgresDialect._distance,
    "COORD1": PostgresDialect._coord,
    "COORD2": PostgresDialect._coord,
}
