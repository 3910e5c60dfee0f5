"""ADQL's typing rules, applied by the resolver to every expression and condition once its
operands are resolved: the one place an ``ADQL-TYPE`` error is raised, so that no ill-typed
query reaches SQL.

Each check returns the node with its VO type set (``Expr.meta``); calls that ADQL allows in
several equivalent forms come back in one canonical form, which the dialects rely on:

* geometry constructors lose their coordinate-system argument (checked to be ICRS), and centres
  and vertices given as coordinates become POINTs: ``CIRCLE(POINT(ra, dec), r)``,
  ``BOX(POINT, w, h)``, ``POLYGON(POINT, POINT, POINT, ...)``, ``DISTANCE(POINT, POINT)``;
* ``REGION('STC-S')`` becomes the POINT, CIRCLE, BOX or POLYGON it describes;
* ``IN_UNIT(x, 'unit')`` becomes ``x * factor``, ``COORDSYS(g)`` the literal 'ICRS',
  ``CENTROID(point)`` the point and ``AREA(point)`` zero.
"""

from __future__ import annotations

from collections.abc import Callable

from adql import ast
from adql.catalog import ColumnMeta
from adql.constant import constant_value
from adql.errors import ADQLCode, ADQLError, suggestion
from adql.functions import (
    CIRCLE_META,
    DOUBLE,
    LONG,
    POINT_META,
    POLYGON_META,
    SIGNATURES,
    TEXT,
    Form,
    Signature,
    strip,
    udf_signature,
)
from adql.kinds import GEOMETRIC, NUMERIC, Arg, Kind, comparable, expr_kind, kind_of
from adql.stcs import parse_stcs
from adql.udf import USER_FUNCTIONS, find_user_function
from adql.units import combined, powered, unit_factor

MAX_CIRCLE_RADIUS = 90.0  # pgsphere's scircle takes radii of 0 to 90 degrees
_ORDERING = frozenset({"<", "<=", ">", ">="})


def _fail(message: str, node: ast.Node) -> ADQLError:
    return ADQLError.at(ADQLCode.TYPE, message, node)


def _with(node: ast.Expr, meta: ColumnMeta | None) -> ast.Expr:
    return ast.copy_with(node, meta=meta)


# --- literals and operators ------------------------------------------------------------------------
MAX_INTEGER = 2**63 - 1  # ADQL's integers are BIGINT


def _integer(node: ast.Expr) -> ast.Expr:
    # PostgreSQL would read a larger literal as an exact numeric, which a BIGINT result column
    # cannot hold: the answer came back as -9223372036854775808.
    assert isinstance(node, ast.IntegerLiteral)
    if not ast.integer_within(node, -MAX_INTEGER - 1, MAX_INTEGER):
        raise _fail(
            f"the integer {node.text} is outside {-MAX_INTEGER - 1} to {MAX_INTEGER}, the range of ADQL's "
            f"integers; write it as a floating-point number ({float(node.text):.17g})",
            node,
        )
    return _with(node, LONG)


def _real(node: ast.Expr) -> ast.Expr:
    return _with(node, DOUBLE)


def _string(node: ast.Expr) -> ast.Expr:
    return _with(node, TEXT)


def _unary(node: ast.Unary) -> ast.Expr:
    kind = expr_kind(node.operand)
    if node.op == "~":
        if kind not in (Kind.INTEGER, Kind.NULL):
            raise _fail(f"~ takes an integer, not {kind.value}", node.operand)
        return _with(node, LONG)
    if kind not in NUMERIC and kind is not Kind.NULL:
        raise _fail(f"- takes a number, not {kind.value}", node.operand)
    if kind is Kind.NULL:  # PostgreSQL cannot choose a "-" for an untyped NULL (SQLSTATE 42725)
        return _with(ast.copy_with(node, operand=_with(node.operand, DOUBLE)), DOUBLE)
    inner = strip(node.operand.meta)
    return _with(node, ColumnMeta("", inner.datatype, unit=inner.unit))


def _binary(node: ast.Binary) -> ast.Expr:
    left, right = expr_kind(node.left), expr_kind(node.right)
    op = node.op
    if op == "||":
        for side, kind in ((node.left, left), (node.right, right)):
            if kind not in (Kind.STRING, Kind.NULL):
                raise _fail(f"|| joins strings, not {kind.value}; CAST it AS VARCHAR first", side)
        return _with(node, TEXT)
    if op in ("&", "|", "^"):
        for side, kind in ((node.left, left), (node.right, right)):
            if kind not in (Kind.INTEGER, Kind.NULL):
                raise _fail(f"the bitwise operator {op} takes integers, not {kind.value}", side)
        if left is Kind.NULL and right is Kind.NULL:
            node = ast.copy_with(node, left=_typed_null(node.left, LONG), right=_typed_null(node.right, LONG))
        return _with(node, LONG)
    for side, kind in ((node.left, left), (node.right, right)):
        if kind not in NUMERIC and kind is not Kind.NULL:
            raise _fail(f"the operator {op} takes numbers, not {kind.value}", side)
    if left is Kind.NULL and right is Kind.NULL:  # PostgreSQL cannot choose a "+" for two NULLs (42725)
        return _with(
            ast.copy_with(node, left=_typed_null(node.left, DOUBLE), right=_typed_null(node.right, DOUBLE)), DOUBLE
        )
    lmeta, rmeta = node.left.meta, node.right.meta
    lunit, runit = (lmeta.unit if lmeta else None), (rmeta.unit if rmeta else None)
    # A sum keeps its operands' common unit; products and quotients combine them.
    unit = combined(op, lunit, runit) if op in ("*", "/") else (lunit if lunit == runit else None)
    datatype = "long" if left is not Kind.REAL and right is not Kind.REAL else "double"
    return _with(node, ColumnMeta("", datatype, unit=unit))


MAX_CHAR_LENGTH = 10_485_760  # PostgreSQL's longest CHAR(n) and VARCHAR(n)


def _cast(node: ast.Cast) -> ast.Expr:
    kind = expr_kind(node.expr)
    if node.length is not None and not 1 <= node.length <= MAX_CHAR_LENGTH:
        raise _fail(f"CAST AS {node.target}({node.length}): a length must be 1 to {MAX_CHAR_LENGTH:,}", node)
    if kind in GEOMETRIC or kind in (Kind.OTHER, Kind.BOOLEAN):
        raise _fail(f"CAST cannot convert {kind.value} to {node.target}", node.expr)
    if node.target == "TIMESTAMP" and kind not in (Kind.STRING, Kind.TIMESTAMP, Kind.NULL):
        raise _fail(f"CAST AS TIMESTAMP takes a string or a timestamp, not {kind.value}", node.expr)
    if node.target not in ("CHAR", "VARCHAR", "TIMESTAMP") and kind is Kind.TIMESTAMP:
        raise _fail(f"CAST cannot convert a timestamp to {node.target}", node.expr)
    return _with(node, _cast_meta(node))


_CAST_TYPES = {
    "SMALLINT": "short",
    "INTEGER": "int",
    "BIGINT": "long",
    "REAL": "float",
    "DOUBLE PRECISION": "double",
}


def _cast_meta(node: ast.Cast) -> ColumnMeta:
    inner = strip(node.expr.meta)
    if node.target in ("CHAR", "VARCHAR"):
        size = str(node.length) if node.length else "*"
        if node.target == "VARCHAR" and node.length:
            size += "*"
        return ColumnMeta("", "char", arraysize=size)
    if node.target == "TIMESTAMP":
        return ColumnMeta("", "char", arraysize="*", xtype="timestamp")
    return ColumnMeta("", _CAST_TYPES[node.target], unit=inner.unit, ucd=inner.ucd)


def _case(node: ast.Case) -> ast.Expr:
    if node.operand is not None:
        operand = expr_kind(node.operand)
        values: list[ast.Expr] = []
        for when, _ in node.whens:
            assert isinstance(when, ast.Expr)  # a simple CASE's WHENs are values, not conditions
            values.append(when)
            if not comparable(operand, expr_kind(when)):
                raise _fail(f"CASE compares {operand.value} with {expr_kind(when).value}", when)
        if operand is Kind.TIMESTAMP or any(expr_kind(w) is Kind.TIMESTAMP for w in values):
            node = ast.copy_with(
                node,
                operand=_as_timestamp(node.operand),
                whens=tuple((_as_timestamp(w), r) for w, (_, r) in zip(values, node.whens, strict=True)),
            )
    results = [r for _, r in node.whens] + ([node.otherwise] if node.otherwise is not None else [])
    _check_compatible(results, "the results of CASE")
    if all(expr_kind(r) is Kind.NULL for r in results):
        return _null_value(node)
    if any(expr_kind(r) is Kind.TIMESTAMP for r in results):
        node = ast.copy_with(
            node,
            whens=tuple((w, _as_timestamp(r)) for w, r in node.whens),
            otherwise=_as_timestamp(node.otherwise) if node.otherwise is not None else None,
        )
        results = [r for _, r in node.whens] + ([node.otherwise] if node.otherwise is not None else [])
    return _with(node, common_meta(results))


def _null_value(node: ast.Expr) -> ast.Expr:
    """An expression every result of which is NULL is NULL: PostgreSQL would make it a text, so
    that ``CASE WHEN c THEN NULL END + 1`` failed (SQLSTATE 42883) where ADQL means NULL."""
    return ast.NullLiteral(pos=node.pos)


def common_meta(values: list[ast.Expr]) -> ColumnMeta | None:
    """The type of values that CASE, COALESCE or a set operation mixes, as PostgreSQL resolves
    it: one type if all share it, double precision for numbers of which one is real, bigint for
    integers of different widths."""
    typed = [strip(v.meta) for v in values if expr_kind(v) is not Kind.NULL]
    if not typed:
        return None
    first = typed[0]
    if all(t.datatype == first.datatype for t in typed):
        return first
    kinds = {kind_of(t) for t in typed}
    if kinds <= NUMERIC:
        datatype = "double" if Kind.REAL in kinds else "long"
        units = {t.unit for t in typed}
        return ColumnMeta("", datatype, unit=units.pop() if len(units) == 1 else None)
    return first


def _typed_null(expr: ast.Expr, meta: ColumnMeta) -> ast.Expr:
    return _with(expr, meta) if isinstance(expr, ast.NullLiteral) and expr.meta is None else expr


def _as_timestamp(expr: ast.Expr) -> ast.Expr:
    """A string met with a timestamp, read as a timestamp: ADQL compares a timestamp with its ISO
    8601 text, but PostgreSQL converts only a literal by itself (SQLSTATE 42883 otherwise)."""
    if expr_kind(expr) is not Kind.STRING or isinstance(expr, ast.StringLiteral):
        return expr
    return _cast(ast.Cast(expr, "TIMESTAMP", pos=expr.pos))


def _meeting_timestamps(*values: ast.Expr) -> tuple[ast.Expr, ...]:
    if any(expr_kind(v) is Kind.TIMESTAMP for v in values):
        return tuple(_as_timestamp(v) for v in values)
    return values


def _check_compatible(values: list[ast.Expr], what: str) -> None:
    """Values that must share a type (CASE results, COALESCE arguments)."""
    first: ast.Expr | None = None
    for value in values:
        kind = expr_kind(value)
        if kind is Kind.NULL:
            continue
        if first is None:
            first = value
        elif not comparable(expr_kind(first), kind):
            raise _fail(f"{what} mix {expr_kind(first).value} and {kind.value}", value)


# --- conditions ----------------------------------------------------------------------------------
def _comparison(node: ast.Comparison) -> ast.Condition:
    left, right = expr_kind(node.left), expr_kind(node.right)
    if not comparable(left, right):
        raise _fail(f"cannot compare {left.value} with {right.value}", node)
    if node.op in _ORDERING and (left in GEOMETRIC or right in GEOMETRIC):
        raise _fail(f"geometries have no order: {node.op} cannot compare them", node)
    for side, kind in ((node.left, left), (node.right, right)):
        if kind in (Kind.OTHER, Kind.REGION):
            raise _fail(f"{kind.value} cannot be compared", side)
    a, b = _meeting_timestamps(node.left, node.right)
    return ast.copy_with(node, left=a, right=b) if (a, b) != (node.left, node.right) else node


def _between(node: ast.Between) -> ast.Condition:
    value = expr_kind(node.value)
    for bound in (node.low, node.high):
        kind = expr_kind(bound)
        if not comparable(value, kind) or kind in GEOMETRIC or value in GEOMETRIC:
            raise _fail(f"BETWEEN cannot compare {value.value} with {kind.value}", bound)
    v, low, high = _meeting_timestamps(node.value, node.low, node.high)
    return ast.copy_with(node, value=v, low=low, high=high)


def _in_list(node: ast.InList) -> ast.Condition:
    value = expr_kind(node.value)
    for item in node.items:
        if not comparable(value, expr_kind(item)):
            raise _fail(f"IN compares {value.value} with {expr_kind(item).value}", item)
    v, *items = _meeting_timestamps(node.value, *node.items)
    return ast.copy_with(node, value=v, items=tuple(items))


def _like(node: ast.Like) -> ast.Condition:
    op = "ILIKE" if node.case_insensitive else "LIKE"
    for side in (node.value, node.pattern):
        kind = expr_kind(side)
        if kind not in (Kind.STRING, Kind.NULL):
            raise _fail(f"{op} matches strings, not {kind.value}", side)
    escape = node.escape
    if escape is not None and not (isinstance(escape, ast.StringLiteral) and len(escape.value) == 1):
        raise _fail(f"the ESCAPE of {op} must be a string literal of one character", escape)
    if isinstance(escape, ast.StringLiteral) and isinstance(node.pattern, ast.StringLiteral):
        _check_escapes(node.pattern, escape.value, op)
    return node


def _check_escapes(pattern: ast.StringLiteral, escape: str, op: str) -> None:
    """A pattern may not end with its escape character: PostgreSQL refuses it only when a row's
    value matches up to there, so the same query would fail on some data and not on other."""
    text, i = pattern.value, 0
    while i < len(text):
        if text[i] == escape:
            if i + 1 == len(text):
                raise _fail(
                    f"the {op} pattern {pattern.value!r} ends with its ESCAPE character {escape!r}, which must be "
                    "followed by the character it makes literal (%, _ or itself)",
                    pattern,
                )
            i += 1
        i += 1


def check_subquery_value(value: ast.Expr, column: ColumnMeta, node: ast.Node) -> ast.Expr:
    """``value IN (SELECT column ...)``: the two must be comparable; the value as compared."""
    left, right = expr_kind(value), kind_of(column)
    if not comparable(left, right):
        raise _fail(f"IN compares {left.value} with a subquery of {right.value}", node)
    if left is Kind.TIMESTAMP and right is Kind.STRING:
        raise _fail("IN compares a timestamp with a subquery of strings: CAST its column AS TIMESTAMP", node)
    return _as_timestamp(value) if right is Kind.TIMESTAMP else value


def check_set_columns(op: str, left: list[ColumnMeta], right: list[ColumnMeta], node: ast.Node) -> None:
    """The columns of UNION, EXCEPT and INTERSECT pair up by position and must be comparable."""
    for index, (a, b) in enumerate(zip(left, right, strict=True), start=1):
        ka, kb = kind_of(a), kind_of(b)
        if not comparable(ka, kb):
            raise _fail(f"{op}: column {index} is {ka.value} on the left and {kb.value} on the right", node)
        if {ka, kb} == {Kind.TIMESTAMP, Kind.STRING}:  # PostgreSQL would not mix them (SQLSTATE 42804)
            raise _fail(
                f"{op}: column {index} is {ka.value} on the left and {kb.value} on the right; "
                "CAST the string AS TIMESTAMP",
                node,
            )


# --- function calls ------------------------------------------------------------------------------
def _signature(call: ast.FunctionCall) -> Signature:
    if call.user_defined:
        udf = find_user_function(call.name)
        if udf is None:
            raise ADQLError.at(
                ADQLCode.UNKNOWN_FUNCTION,
                f"function '{call.name}' is not known to this service" + suggestion(call.name, list(USER_FUNCTIONS)),
                call,
            )
        return udf_signature(udf)
    sig = SIGNATURES.get(call.name)
    if sig is None:
        raise ADQLError.at(ADQLCode.UNSUPPORTED, f"function {call.name} is not supported by this service", call)
    return sig


def _describe_counts(forms: tuple[Form, ...]) -> str:
    counts = sorted({f.describe() for f in forms}, key=lambda c: (c.startswith("at"), c))
    return " or ".join(counts)


def _match(call: ast.FunctionCall, sig: Signature) -> Form:
    """The form ``call`` is written in; else the ADQL-TYPE error that explains best why not."""
    count = len(call.args)
    fitting = [f for f in sig.forms if f.fits(count)]
    if not fitting:
        raise _fail(f"{call.name} takes {_describe_counts(sig.forms)} arguments, not {count}", call)
    best: tuple[int, Form] | None = None
    for form in fitting:
        mismatch = next((i for i, a in enumerate(call.args) if not form.arg(i).accepts(a)), None)
        if mismatch is None:
            return form
        if best is None or mismatch > best[0]:
            best = (mismatch, form)
    assert best is not None
    index, form = best
    arg = call.args[index]
    wanted = form.arg(index)
    kind = expr_kind(arg)
    got = "a value computed at run time" if wanted in (Arg.COORDSYS, Arg.UNIT, Arg.STCS) else kind.value
    raise _fail(f"argument {index + 1} of {call.name} must be {wanted.value}, not {got}", arg)


def _function(call: ast.FunctionCall) -> ast.Expr:
    if call.star:
        if call.name != "COUNT" or call.user_defined:
            raise ADQLError.at(ADQLCode.SYNTAX, f"{call.name}(*) is not allowed; only COUNT(*)", call)
        return _with(call, LONG)
    sig = _signature(call)
    form = _match(call, sig)
    if call.distinct:
        _check_distinct_argument(call)
    call = _typed_nulls(call, form)
    canonical = _CANONICAL.get(call.name) if not call.user_defined else None
    if canonical is not None:
        return canonical(call, form)
    return _with(call, sig.result_of(call))


# A NULL argument takes the type its parameter asks for: PostgreSQL cannot choose among SUM's,
# AVG's, AREA's or <@'s overloads for an untyped NULL (SQLSTATE 42725); the dialect casts it.
_NULL_AS = {Arg.NUMBER: DOUBLE, Arg.INTEGER: LONG, Arg.STRING: TEXT, Arg.GEOMETRY: POLYGON_META, Arg.POINT: POINT_META}


def _typed_nulls(call: ast.FunctionCall, form: Form) -> ast.FunctionCall:
    if not any(isinstance(a, ast.NullLiteral) and a.meta is None for a in call.args):
        return call
    args = tuple(
        _with(a, _NULL_AS.get(form.arg(i))) if isinstance(a, ast.NullLiteral) and a.meta is None else a
        for i, a in enumerate(call.args)
    )
    return ast.copy_with(call, args=args)


def _check_distinct_argument(call: ast.FunctionCall) -> None:
    """COUNT(DISTINCT g) must compare geometries, which have no equality PostgreSQL can sort or
    hash (SQLSTATE 42883)."""
    for arg in call.args:
        kind = expr_kind(arg)
        if kind in GEOMETRIC:
            raise _fail(
                f"{call.name}(DISTINCT ...) of {kind.value}: geometries have no equality to tell them apart "
                "by; count distinct numbers instead, e.g. COUNT(DISTINCT COORD1(p))",
                arg,
            )


def check_key(clause: str, kind: Kind, node: ast.Node) -> None:
    """A GROUP BY or ORDER BY term (or what DISTINCT, UNION, EXCEPT or INTERSECT compare) must be
    a value PostgreSQL can sort or compare: geometries cannot (SQLSTATE 42883)."""
    if kind not in GEOMETRIC:
        return
    if clause == "ORDER BY":
        raise _fail(
            f"ORDER BY cannot sort by {kind.value}: geometries have no order; sort by a number, "
            "e.g. DISTANCE(...) or COORD1(CENTROID(...))",
            node,
        )
    raise _fail(
        f"{clause} of {kind.value}: geometries have no equality to {_COMPARING[clause]} by; "
        "use numbers such as COORD1(...), COORD2(...) or ivo_healpix_index(...) instead",
        node,
    )


_COMPARING = {
    "GROUP BY": "group them",
    "DISTINCT": "remove duplicates",
    "UNION": "remove duplicates",
    "EXCEPT": "compare them",
    "INTERSECT": "compare them",
}


def _strip_frame(call: ast.FunctionCall, form: Form) -> tuple[ast.Expr, ...]:
    if form.params and form.params[0] is Arg.COORDSYS:
        check_frame(call.args[0], call.name)
        return call.args[1:]
    return call.args


_ACCEPTED_FRAME = "ICRS"


def check_frame(arg: ast.Expr, function: str) -> None:
    assert isinstance(arg, ast.StringLiteral)
    frame = arg.value.strip().upper()
    if frame and not frame.startswith(_ACCEPTED_FRAME):
        raise ADQLError.at(
            ADQLCode.UNSUPPORTED,
            f"{function}: coordinate system '{arg.value}' is not supported; use 'ICRS' (or '')",
            arg,
        )


def _point_of(ra: ast.Expr, dec: ast.Expr, at: ast.Node) -> ast.FunctionCall:
    return ast.FunctionCall("POINT", (ra, dec), pos=at.pos, meta=POINT_META)


def _points(args: tuple[ast.Expr, ...], at: ast.Node) -> tuple[ast.Expr, ...]:
    """Coordinates pairwise as POINTs; POINT arguments as they are."""
    if all(expr_kind(a) is Kind.POINT for a in args):
        return args
    return tuple(_point_of(args[i], args[i + 1], args[i]) for i in range(0, len(args), 2))


def _canonical_point(call: ast.FunctionCall, form: Form) -> ast.Expr:
    ra, dec = _strip_frame(call, form)
    return _point_of(ra, dec, call)


def _canonical_circle(call: ast.FunctionCall, form: Form) -> ast.Expr:
    *centre, radius = _strip_frame(call, form)
    check_radius(radius)
    (point,) = _points(tuple(centre), call) if len(centre) == 2 else centre
    return ast.FunctionCall("CIRCLE", (point, radius), pos=call.pos, meta=CIRCLE_META)


def check_radius(radius: ast.Expr) -> None:
    value = constant_value(radius)
    if value is not None and not 0 <= value <= MAX_CIRCLE_RADIUS:
        raise ADQLError.at(
            ADQLCode.UNSUPPORTED,
            f"CIRCLE radius {value:g} is outside 0 to 90 degrees, the range this service supports",
            radius,
        )


def _canonical_box(call: ast.FunctionCall, form: Form) -> ast.Expr:
    args = _strip_frame(call, form)
    if len(args) == 4:
        args = (_point_of(args[0], args[1], call), args[2], args[3])
    return ast.FunctionCall("BOX", args, pos=call.pos, meta=POLYGON_META)


def _canonical_polygon(call: ast.FunctionCall, form: Form) -> ast.Expr:
    vertices = _points(_strip_frame(call, form), call)
    return ast.FunctionCall("POLYGON", vertices, pos=call.pos, meta=POLYGON_META)


def _canonical_distance(call: ast.FunctionCall, form: Form) -> ast.Expr:
    return ast.FunctionCall(
        "DISTANCE", _points(call.args, call), pos=call.pos, meta=SIGNATURES["DISTANCE"].result_of(call)
    )


def _literal(value: float, at: ast.Node) -> ast.Expr:
    return ast.RealLiteral(repr(value), pos=at.pos, meta=DOUBLE)


def _canonical_region(call: ast.FunctionCall, form: Form) -> ast.Expr:
    (arg,) = call.args
    assert isinstance(arg, ast.StringLiteral)
    shape = parse_stcs(arg.value, arg)
    n = [_literal(x, arg) for x in shape.numbers]
    if shape.shape == "point":
        return _point_of(n[0], n[1], call)
    if shape.shape == "circle":
        check_radius(n[2])
        return ast.FunctionCall("CIRCLE", (_point_of(n[0], n[1], call), n[2]), pos=call.pos, meta=CIRCLE_META)
    if shape.shape == "box":
        return ast.FunctionCall("BOX", (_point_of(n[0], n[1], call), n[2], n[3]), pos=call.pos, meta=POLYGON_META)
    vertices = tuple(_point_of(n[i], n[i + 1], call) for i in range(0, len(n), 2))
    return ast.FunctionCall("POLYGON", vertices, pos=call.pos, meta=POLYGON_META)


def _canonical_coordsys(call: ast.FunctionCall, form: Form) -> ast.Expr:
    return ast.StringLiteral("ICRS", pos=call.pos, meta=TEXT)  # the only frame this service has


def _canonical_centroid(call: ast.FunctionCall, form: Form) -> ast.Expr:
    (arg,) = call.args
    kind = expr_kind(arg)
    if kind is Kind.POINT:
        return arg
    return _with(call, POINT_META)


def _canonical_area(call: ast.FunctionCall, form: Form) -> ast.Expr:
    meta = SIGNATURES["AREA"].result_of(call)
    if expr_kind(call.args[0]) is Kind.POINT:
        return ast.RealLiteral("0.0", pos=call.pos, meta=meta)
    return _with(call, meta)


def _canonical_in_unit(call: ast.FunctionCall, form: Form) -> ast.Expr:
    value, target = call.args
    assert isinstance(target, ast.StringLiteral)
    source = value.meta.unit if value.meta else None
    if not source:
        raise _fail(
            "IN_UNIT needs a value with a declared unit; this one has none (a column's unit, or one that "
            "follows from products, quotients and powers of such columns)",
            value,
        )
    factor = unit_factor(source, target.value, call)
    meta = ColumnMeta("", "double", unit=target.value, ucd=value.meta.ucd if value.meta else None)
    return ast.Binary("*", value, _literal(factor, call), pos=call.pos, meta=meta)


def _canonical_sqrt(call: ast.FunctionCall, form: Form) -> ast.Expr:
    meta = call.args[0].meta
    return _with(call, ColumnMeta("", "double", unit=powered(meta.unit if meta else None, 0.5)))


def _canonical_power(call: ast.FunctionCall, form: Form) -> ast.Expr:
    base, exponent = call.args
    value = constant_value(exponent)
    unit = powered(base.meta.unit if base.meta else None, value) if value is not None else None
    return _with(call, ColumnMeta("", "double", unit=unit))


def _canonical_coalesce(call: ast.FunctionCall, form: Form) -> ast.Expr:
    _check_compatible(list(call.args), f"the arguments of {call.name}")
    args = _meeting_timestamps(*call.args)
    if call.name == "NULLIF":
        if expr_kind(args[0]) is Kind.NULL:
            return _null_value(call)
        return _with(ast.copy_with(call, args=args), strip(args[0].meta))
    if all(expr_kind(a) is Kind.NULL for a in args):
        return _null_value(call)
    return _with(ast.copy_with(call, args=args), common_meta(list(args)))


_CANONICAL: dict[str, Callable[[ast.FunctionCall, Form], ast.Expr]] = {
    "POINT": _canonical_point,
    "CIRCLE": _canonical_circle,
    "BOX": _canonical_box,
    "POLYGON": _canonical_polygon,
    "DISTANCE": _canonical_distance,
    "REGION": _canonical_region,
    "COORDSYS": _canonical_coordsys,
    "CENTROID": _canonical_centroid,
    "AREA": _canonical_area,
    "IN_UNIT": _canonical_in_unit,
    "SQRT": _canonical_sqrt,
    "POWER": _canonical_power,
    "COALESCE": _canonical_coalesce,
    "NULLIF": _canonical_coalesce,
}

_CHECKS: dict[type, Callable[..., ast.Node]] = {
    ast.IntegerLiteral: _integer,
    ast.RealLiteral: _real,
    ast.StringLiteral: _string,
    ast.Unary: _unary,
    ast.Binary: _binary,
    ast.Cast: _cast,
    ast.Case: _case,
    ast.FunctionCall: _function,
    ast.Comparison: _comparison,
    ast.Between: _between,
    ast.InList: _in_list,
    ast.Like: _like,
}


def check(node: ast.Node) -> ast.Node:
    """``node`` typed (and in canonical form), its operands being typed already."""
    rule = _CHECKS.get(type(node))
    return node if rule is None else rule(node)
