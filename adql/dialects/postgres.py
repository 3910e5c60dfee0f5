"""Render a resolved, type-checked ADQL tree as PostgreSQL + pgsphere SQL.

The tree comes from adql/resolve.py with every name bound and every type checked (nothing here
refuses a query for its types), and through adql/dialects/index_rewrites.py and key_covers.py. What is left is a
table of the places where PostgreSQL differs from ADQL (names and forms of functions and
operators), the geometry of adql/dialects/pg_geometry.py, and the user-defined functions' SQL.

Only SQL built here from the tree comes out: identifiers are always quoted, literals escaped
(``pgsql_text.quoting``; the parser and the resolver refused what SQL text cannot carry), and
only functions in the tables below can be called. Input columns are always qualified with
their table's SQL alias and select-list names are referred to by position, so PostgreSQL cannot
bind a name differently from the resolver (a GROUP BY name is an input column to PostgreSQL, an
output column to ADQL's resolver when the select list has that alias).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adql import ast
from adql.dialects import pg_geometry
from adql.dialects.index_rewrites import rewrite_for_indexes
from adql.dialects.key_covers import add_key_covers
from adql.resolve import ResolvedQuery
from pgsql_text.healpix_cells import healpix_cell_sql
from pgsql_text.pgsphere import healpix_key_sql
from pgsql_text.quoting import quote_ident, quote_string

FunctionRenderer = Callable[["PostgresDialect", ast.FunctionCall], str]


def _named(pg_name: str) -> FunctionRenderer:
    """A function PostgreSQL has under ``pg_name`` with the same arguments (and DISTINCT)."""

    def render(d: PostgresDialect, call: ast.FunctionCall) -> str:
        distinct = "DISTINCT " if call.distinct else ""
        return f"{pg_name}({distinct}{', '.join(d.sql(a) for a in call.args)})"

    return render


def _template(sql: str) -> FunctionRenderer:
    """SQL with {0}, {1}, ... standing for the rendered arguments."""

    def render(d: PostgresDialect, call: ast.FunctionCall) -> str:
        return sql.format(*(d.sql(a) for a in call.args))

    return render


def _count(d: PostgresDialect, call: ast.FunctionCall) -> str:
    if call.star:
        return "count(*)"
    return _named("count")(d, call)


def _rounding(d: PostgresDialect, call: ast.FunctionCall) -> str:
    # Through numeric: it rounds half away from zero (float8 rounds half to even) and is the
    # only type PostgreSQL rounds to n places; then back to the argument's type.
    pg = "round" if call.name == "ROUND" else "trunc"
    value = d.sql(call.args[0])
    places = f"CAST({d.sql(call.args[1])} AS integer)" if len(call.args) == 2 else "0"
    back = "double precision" if call.meta is not None and call.meta.datatype == "double" else "bigint"
    return f"CAST({pg}(CAST({value} AS numeric), {places}) AS {back})"


def _mod(d: PostgresDialect, call: ast.FunctionCall) -> str:
    a, b = (d.sql(x) for x in call.args)
    if call.meta is not None and call.meta.datatype == "long":
        return f"mod({a}, {b})"
    # PostgreSQL has no mod(float8, float8), and numeric's would round the operands to 15
    # digits. a - b * trunc(a / b) is C's fmod (the sign of the dividend) in float8, exact
    # unless a / b rounds up to a whole number; then the remainder comes out on the wrong side
    # of zero, and one b puts it back.
    if any(isinstance(n, ast.FunctionCall) and n.name == "RAND" for x in call.args for n in ast.walk(x)):
        # A random operand must be drawn once, not at each use in _fmod: numeric's mod, whose
        # 15 digits are plenty for a random number.
        return f"CAST(mod(CAST({a} AS numeric), CAST({b} AS numeric)) AS double precision)"
    return _fmod(a, b)


def _fmod(a: str, b: str) -> str:
    r = f"({a} - {b} * trunc({a} / {b}))"
    return f"(CASE WHEN {r} * {a} < 0 THEN {r} + sign({a}) * abs({b}) ELSE {r} END)"


def _geometry(render: Callable[[pg_geometry.Render, ast.FunctionCall], str]) -> FunctionRenderer:
    return lambda d, call: render(d.sql, call)


# ADQL function -> how PostgreSQL writes it, where names or forms differ.
FUNCTIONS: dict[str, FunctionRenderer] = {
    **{
        name: _named(name.lower())
        for name in (
            "ABS",
            "ACOS",
            "ASIN",
            "ATAN",
            "ATAN2",
            "COS",
            "COT",
            "DEGREES",
            "EXP",
            "FLOOR",
            "LOWER",
            "POWER",
            "RADIANS",
            "SIN",
            "SQRT",
            "TAN",
            "UPPER",
            "AVG",
            "MIN",
            "MAX",
            "SUM",
            "COALESCE",
            "NULLIF",
        )
    },  # fmt: skip
    "CEILING": _named("ceil"),
    "LOG": _named("ln"),  # ADQL LOG is the natural logarithm
    "LOG10": _named("log"),
    "PI": _template("pi()"),
    "RAND": _template("random()"),  # a seed cannot be honoured per call in PostgreSQL
    "MOD": _mod,
    "ROUND": _rounding,
    "TRUNCATE": _rounding,
    "COUNT": _count,
    **{name: _geometry(render) for name, render in pg_geometry.RENDERERS.items()},
}

# ivo_hasword's test: the stemmed words of the needle all among those of the haystack.
HASWORD = "to_tsvector('english', {0}) @@ plainto_tsquery('english', {1})"

# User-defined functions (adql/udf.py declares them) as PostgreSQL + pgsphere.
USER_FUNCTIONS_SQL: dict[str, str] = {
    "ivo_nocasematch": "(CASE WHEN {0} ILIKE {1} ESCAPE '' THEN 1 ELSE 0 END)",
    # Words match by their English stems ("galaxies" finds "galaxy"), as RegTAP allows; the
    # comparison "1 = ivo_hasword(...)" is written so that a text-search index serves it.
    "ivo_hasword": "(CASE WHEN " + HASWORD + " THEN 1 ELSE 0 END)",
    "ivo_hashlist_has": "(CASE WHEN lower({1}) = ANY(string_to_array(lower({0}), '#')) THEN 1 ELSE 0 END)",
    "ivo_string_agg": "string_agg(CAST({0} AS text), {1})",
    "ivo_interval_overlaps": "(CASE WHEN {0} <= {3} AND {2} <= {1} THEN 1 ELSE 0 END)",
    # The true cell, also on a base face's edge, where pgsphere's healpix_nest is one to three faces out.
    "ivo_healpix_index": healpix_cell_sql("CAST({0} AS integer)", "{1}", "{2}"),
    "ivo_healpix_center": "centre_of_healpix_nest(CAST({0} AS integer), CAST({1} AS bigint))",
}

_BITWISE = {"&": "&", "|": "|", "^": "#"}  # PostgreSQL's ^ is exponentiation, # is xor
_CAST_TARGETS = {"CHAR": "text", "VARCHAR": "text", "TIMESTAMP": "timestamp"}
_NULL_TYPES = {
    "double": "double precision",
    "long": "bigint",
    "char": "text",
    "point": "spoint",
    "polygon": "spoly",
}


class PostgresDialect:
    """Turns a ``ResolvedQuery`` into one SELECT statement."""

    def __init__(self) -> None:
        self._render: dict[type, Callable[[Any], str]] = {
            ast.ResolvedColumn: self._column,
            ast.MergedColumn: self._merged,
            ast.OutputRef: self._output_ref,
            ast.ScalarSubquery: self._scalar_subquery,
            ast.Case: self._case,
            ast.Cast: self._cast,
            ast.InSubquery: self._in_subquery,
            ast.Exists: self._exists,
            ast.IntegerLiteral: self._integer,
            ast.RealLiteral: self._real,
            ast.StringLiteral: self._string,
            ast.NullLiteral: self._null,
            ast.Unary: self._unary,
            ast.Binary: self._binary,
            ast.FunctionCall: self._function,
            ast.Comparison: self._comparison,
            ast.Between: self._between,
            ast.InList: self._in_list,
            ast.Like: self._like,
            ast.IsNull: self._is_null,
            ast.And: self._and,
            ast.Or: self._or,
            ast.Not: self._not,
            ast.GeometryTest: self._geometry_test,
            ast.KeyCover: self._key_cover,
        }

    def sql(self, node: ast.Node) -> str:
        return self._render[type(node)](node)

    # --- statements -----------------------------------------------------------------------------
    def translate(self, resolved: ResolvedQuery, row_limit: int | None = None) -> str:
        """The SELECT for ``resolved``; ``row_limit`` caps the rows on top of any TOP."""
        geometry_outputs = {i for i, o in enumerate(resolved.output) if o.meta.is_geometry}
        rewritten = add_key_covers(rewrite_for_indexes(resolved.query))
        return self.query_sql(rewritten, row_limit, geometry_outputs)

    def query_sql(self, q: ast.QueryExpr, row_limit: int | None = None, text_outputs: set[int] | None = None) -> str:
        with_ = ""
        if q.with_:
            with_ = "WITH " + ", ".join(self._common_table(c) for c in q.with_) + " "
        if isinstance(q, ast.SetQuery):
            return with_ + self._set_query(q, row_limit, text_outputs)
        return with_ + self._select(q, row_limit, text_outputs or set())

    def _common_table(self, cte: ast.CommonTable) -> str:
        return f"{quote_ident(cte.name.name)}{self._names(cte.column_names)} AS ({self.query_sql(cte.query)})"

    @staticmethod
    def _names(names: tuple[ast.Identifier, ...]) -> str:
        return "(" + ", ".join(quote_ident(n.name) for n in names) + ")" if names else ""

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
            parts.append("GROUP BY " + ", ".join(self._group(g) for g in q.group_by))
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

    def _group(self, expr: ast.Expr) -> str:
        if isinstance(expr, ast.IntegerLiteral):
            # ADQL's GROUP BY 1 groups by the constant 1; PostgreSQL would read a position.
            return f"CAST({expr.text} AS bigint)"
        return self._constant_key(expr)

    def _constant_key(self, expr: ast.Expr) -> str:
        # PostgreSQL refuses a bare string or NULL in GROUP BY and ORDER BY ("non-integer
        # constant", SQLSTATE 42601); as an expression it is the constant ADQL means.
        if isinstance(expr, ast.StringLiteral) or (isinstance(expr, ast.NullLiteral) and expr.meta is None):
            return f"CAST({self.sql(expr)} AS text)"
        return self.sql(expr)

    def _from_item(self, item: ast.Node) -> str:
        if isinstance(item, ast.ResolvedTable):
            if item.sql_name is not None:
                return f"{item.sql_name} AS {item.sql_alias}"
            if item.schema is None:
                return f"{quote_ident(item.name)} AS {item.sql_alias}"
            return f"{quote_ident(item.schema)}.{quote_ident(item.name)} AS {item.sql_alias}"
        if isinstance(item, ast.DerivedTable):
            return f"({self.query_sql(item.query)}) AS {item.sql_alias}{self._names(item.column_names)}"
        assert isinstance(item, ast.Join), item
        left, right = self._from_item(item.left), self._from_item(item.right)
        if item.kind == "CROSS":
            return f"({left} CROSS JOIN {right})"
        natural = "NATURAL " if item.natural else ""
        kind = "INNER" if item.kind == "INNER" else f"{item.kind} OUTER"
        spec = ""
        if item.on is not None:
            spec = f" ON {self.sql(item.on)}"
        elif item.using:
            spec = " USING " + self._names(item.using)
        return f"({left} {natural}{kind} JOIN {right}{spec})"

    def _sort(self, sort: ast.SortItem) -> str:
        direction = " DESC" if sort.descending else " ASC"
        return self._constant_key(sort.expr) + direction

    # --- values ---------------------------------------------------------------------------------
    def _column(self, node: ast.ResolvedColumn) -> str:
        return f"{node.table_alias}.{quote_ident(node.column.name)}"

    def _merged(self, node: ast.MergedColumn) -> str:
        # NATURAL/USING columns: equal on matched rows, either side may be null in outer joins.
        return "COALESCE(" + ", ".join(f"{a}.{quote_ident(node.column.name)}" for a in node.table_aliases) + ")"

    def _output_ref(self, node: ast.OutputRef) -> str:
        return str(node.position)

    def _scalar_subquery(self, node: ast.ScalarSubquery) -> str:
        return f"({self.query_sql(node.query)})"

    def _integer(self, node: ast.IntegerLiteral) -> str:
        return node.text

    def _real(self, node: ast.RealLiteral) -> str:
        # Keep PostgreSQL from reading 0.1 as numeric and comparing exactly against float8.
        return f"CAST({node.text} AS double precision)"

    def _string(self, node: ast.StringLiteral) -> str:
        return quote_string(node.value)

    def _null(self, node: ast.NullLiteral) -> str:
        if node.meta is None:
            return "NULL"
        # typed by the type checker where PostgreSQL could not choose an overload for NULL
        return f"CAST(NULL AS {_NULL_TYPES[node.meta.xtype or node.meta.datatype]})"

    def _case(self, node: ast.Case) -> str:
        parts = ["CASE"]
        if node.operand is not None:
            parts.append(self.sql(node.operand))
        for when, result in node.whens:
            parts.append(f"WHEN {self.sql(when)} THEN {self.sql(result)}")
        if node.otherwise is not None:
            parts.append(f"ELSE {self.sql(node.otherwise)}")
        parts.append("END")
        return "(" + " ".join(parts) + ")"

    def _cast(self, node: ast.Cast) -> str:
        target = _CAST_TARGETS.get(node.target, node.target) if node.length is None else f"{node.target}({node.length})"
        return f"CAST({self.sql(node.expr)} AS {target})"

    def _unary(self, node: ast.Unary) -> str:
        if node.op == "~":
            return f"(~ CAST({self.sql(node.operand)} AS bigint))"
        return f"(- {self.sql(node.operand)})"

    def _binary(self, node: ast.Binary) -> str:
        left, right = self.sql(node.left), self.sql(node.right)
        if node.op in _BITWISE:
            return f"(CAST({left} AS bigint) {_BITWISE[node.op]} CAST({right} AS bigint))"
        if node.op == "||":
            return f"(CAST({left} AS text) || CAST({right} AS text))"
        return f"({left} {node.op} {right})"

    def _function(self, node: ast.FunctionCall) -> str:
        if node.user_defined:
            return USER_FUNCTIONS_SQL[node.name.lower()].format(*(self.sql(a) for a in node.args))
        return FUNCTIONS[node.name](self, node)

    # --- conditions -----------------------------------------------------------------------------
    def _comparison(self, node: ast.Comparison) -> str:
        hasword = self._hasword_test(node)
        if hasword is not None:
            return hasword
        return f"({self.sql(node.left)} {node.op} {self.sql(node.right)})"

    def _hasword_test(self, node: ast.Comparison) -> str | None:
        """``1 = ivo_hasword(h, n)`` (and ``0 =``, ``<>``) as a bare text-search condition, which
        a GIN index on ``to_tsvector('english', h)`` serves. Exactly the CASE form's truth: a
        NULL haystack or needle is a non-match (0), not an unknown."""
        call, other = node.left, node.right
        if not (isinstance(call, ast.FunctionCall) and call.user_defined):
            call, other = node.right, node.left
        if not (
            isinstance(call, ast.FunctionCall)
            and call.user_defined
            and call.name.lower() == "ivo_hasword"
            and isinstance(other, ast.IntegerLiteral)
            and ast.number_text(other) in ("0", "1")
            and node.op in ("=", "<>")
        ):
            return None
        haystack, needle = (self.sql(a) for a in call.args)
        test = f"({haystack} IS NOT NULL AND {needle} IS NOT NULL AND {HASWORD.format(haystack, needle)})"
        matches = (ast.number_text(other) == "1") == (node.op == "=")
        return test if matches else f"(NOT {test})"

    def _between(self, node: ast.Between) -> str:
        neg = "NOT " if node.negated else ""
        return f"({self.sql(node.value)} {neg}BETWEEN {self.sql(node.low)} AND {self.sql(node.high)})"

    def _in_list(self, node: ast.InList) -> str:
        neg = "NOT " if node.negated else ""
        items = ", ".join(self.sql(i) for i in node.items)
        return f"({self.sql(node.value)} {neg}IN ({items}))"

    def _in_subquery(self, node: ast.InSubquery) -> str:
        neg = "NOT " if node.negated else ""
        return f"({self.sql(node.value)} {neg}IN ({self.query_sql(node.query)}))"

    def _exists(self, node: ast.Exists) -> str:
        return f"(EXISTS ({self.query_sql(node.query)}))"

    def _like(self, node: ast.Like) -> str:
        op = "ILIKE" if node.case_insensitive else "LIKE"
        neg = "NOT " if node.negated else ""
        # ADQL has no default escape character; PostgreSQL's is the backslash.
        escape = self.sql(node.escape) if node.escape is not None else "''"
        return f"({self.sql(node.value)} {neg}{op} {self.sql(node.pattern)} ESCAPE {escape})"

    def _is_null(self, node: ast.IsNull) -> str:
        neg = "NOT " if node.negated else ""
        return f"({self.sql(node.value)} IS {neg}NULL)"

    def _and(self, node: ast.And) -> str:
        return f"({self.sql(node.left)} AND {self.sql(node.right)})"

    def _or(self, node: ast.Or) -> str:
        return f"({self.sql(node.left)} OR {self.sql(node.right)})"

    def _not(self, node: ast.Not) -> str:
        return f"(NOT {self.sql(node.operand)})"

    def _geometry_test(self, node: ast.GeometryTest) -> str:
        return pg_geometry.predicate(self.sql, node.op, node.left, node.right)

    def _key_cover(self, node: ast.KeyCover) -> str:
        key = healpix_key_sql(node.order, self.sql(node.ra), self.sql(node.dec))
        return "(" + " OR ".join(f"{key} BETWEEN {low} AND {high}" for low, high in node.ranges) + ")"
