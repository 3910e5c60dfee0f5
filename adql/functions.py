"""The ADQL functions this library knows: arity and the VO type of their result.

How each is written in SQL is the dialect's business (adql/dialects/); this table is shared so
that every dialect accepts the same functions and types results the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from adql import ast
from adql.catalog import ColumnMeta
from adql.errors import ADQLError, suggestion
from adql.udf import USER_FUNCTIONS, find_user_function


@dataclass(frozen=True)
class Signature:
    min_args: int
    max_args: int
    result: ColumnMeta | None  # None: derived from the arguments


_DOUBLE = ColumnMeta("", "double")
_INT = ColumnMeta("", "int")
_LONG = ColumnMeta("", "long")
_TEXT = ColumnMeta("", "char", arraysize="*")
_DEG = ColumnMeta("", "double", unit="deg")
POINT_META = ColumnMeta("", "double", arraysize="2", xtype="point", unit="deg")
CIRCLE_META = ColumnMeta("", "double", arraysize="3", xtype="circle", unit="deg")
POLYGON_META = ColumnMeta("", "double", arraysize="*", xtype="polygon", unit="deg")
BOX_META = POLYGON_META  # a BOX is rendered as a four-vertex polygon
MANY = 10_000

SIGNATURES: dict[str, Signature] = {
    # mathematical and trigonometric (ADQL 2.1 section 2.3)
    **{
        name: Signature(1, 1, _DOUBLE)
        for name in (
            "ACOS",
            "ASIN",
            "ATAN",
            "COS",
            "COT",
            "SIN",
            "TAN",
            "EXP",
            "LOG",
            "LOG10",
            "SQRT",
            "DEGREES",
            "RADIANS",
        )
    },
    "ABS": Signature(1, 1, None),
    "CEILING": Signature(1, 1, _DOUBLE),
    "FLOOR": Signature(1, 1, _DOUBLE),
    "ATAN2": Signature(2, 2, _DOUBLE),
    "MOD": Signature(2, 2, None),
    "PI": Signature(0, 0, _DOUBLE),
    "POWER": Signature(2, 2, _DOUBLE),
    "RAND": Signature(0, 1, _DOUBLE),
    "ROUND": Signature(1, 2, None),
    "TRUNCATE": Signature(1, 2, None),
    "LOWER": Signature(1, 1, _TEXT),
    "UPPER": Signature(1, 1, _TEXT),
    "COALESCE": Signature(1, MANY, None),
    "NULLIF": Signature(2, 2, None),
    "IN_UNIT": Signature(2, 2, None),
    # aggregates
    "COUNT": Signature(1, 1, _LONG),  # COUNT(*) is the star form, checked separately
    "AVG": Signature(1, 1, None),
    "MIN": Signature(1, 1, None),
    "MAX": Signature(1, 1, None),
    "SUM": Signature(1, 1, None),
    # geometry (ADQL 2.1 section 4.2)
    "POINT": Signature(1, 3, POINT_META),
    "CIRCLE": Signature(2, 5, CIRCLE_META),
    "BOX": Signature(3, 5, BOX_META),
    "POLYGON": Signature(3, MANY, POLYGON_META),
    "REGION": Signature(1, 1, None),
    "CENTROID": Signature(1, 1, POINT_META),
    "AREA": Signature(1, 1, ColumnMeta("", "double", unit="deg**2")),
    "CONTAINS": Signature(2, 2, _INT),
    "INTERSECTS": Signature(2, 2, _INT),
    "DISTANCE": Signature(2, 5, _DEG),
    "COORD1": Signature(1, 1, _DEG),
    "COORD2": Signature(1, 1, _DEG),
    "COORDSYS": Signature(1, 1, _TEXT),
}


def signature(call: ast.FunctionCall) -> Signature:
    count = len(call.args)
    if call.user_defined:
        udf = find_user_function(call.name)
        if udf is None:
            raise ADQLError.at(
                "ADQL-UNKNOWN-FUNCTION",
                f"function '{call.name}' is not known to this service" + suggestion(call.name, list(USER_FUNCTIONS)),
                call,
            )
        if count != len(udf.params):
            raise ADQLError.at("ADQL-TYPE", f"{udf.name} takes {len(udf.params)} arguments, not {count}", call)
        return Signature(count, count, udf.result)
    sig = SIGNATURES.get(call.name)
    if sig is None:
        raise ADQLError.at("ADQL-UNSUPPORTED", f"function {call.name} is not supported by this service", call)
    if call.star and call.name != "COUNT":
        raise ADQLError.at("ADQL-SYNTAX", f"{call.name}(*) is not allowed; only COUNT(*)", call)
    if not call.star and not sig.min_args <= count <= sig.max_args:
        if sig.max_args == MANY:
            wanted = f"at least {sig.min_args}"
        elif sig.min_args == sig.max_args:
            wanted = str(sig.min_args)
        else:
            wanted = f"{sig.min_args} to {sig.max_args}"
        raise ADQLError.at("ADQL-TYPE", f"{call.name} takes {wanted} arguments, not {count}", call)
    return sig


_CAST_TYPES = {
    "SMALLINT": ColumnMeta("", "short"),
    "INTEGER": ColumnMeta("", "int"),
    "BIGINT": ColumnMeta("", "long"),
    "REAL": ColumnMeta("", "float"),
    "DOUBLE PRECISION": ColumnMeta("", "double"),
    "TIMESTAMP": ColumnMeta("", "char", arraysize="*", xtype="timestamp"),
}


def result_meta(expr: ast.Expr) -> ColumnMeta:
    """The VO type of an expression's value (datatype, unit, UCD where derivable)."""
    if isinstance(expr, ast.ResolvedColumn | ast.MergedColumn):
        return expr.column
    if isinstance(expr, ast.OutputRef):
        return expr.meta
    if isinstance(expr, ast.ScalarSubquery):
        return expr.meta or _TEXT
    if isinstance(expr, ast.IntegerLiteral):
        return _LONG
    if isinstance(expr, ast.RealLiteral):
        return _DOUBLE
    if isinstance(expr, ast.StringLiteral | ast.NullLiteral):
        return _TEXT
    if isinstance(expr, ast.Unary):
        inner = result_meta(expr.operand)
        return ColumnMeta("", "long" if expr.op == "~" else inner.datatype, unit=inner.unit)
    if isinstance(expr, ast.Binary):
        return _binary_meta(expr)
    if isinstance(expr, ast.Case):
        results = [r for _, r in expr.whens] + ([expr.otherwise] if expr.otherwise is not None else [])
        typed = [r for r in results if not isinstance(r, ast.NullLiteral)]
        return _strip(result_meta(typed[0])) if typed else _TEXT
    if isinstance(expr, ast.Cast):
        if expr.target in ("CHAR", "VARCHAR"):
            size = str(expr.length) if expr.length else "*"
            return ColumnMeta(
                "", "char", arraysize=size if expr.target == "CHAR" else size + ("*" if size != "*" else "")
            )
        inner = result_meta(expr.expr)
        return replace(_CAST_TYPES[expr.target], unit=inner.unit, ucd=inner.ucd)
    if isinstance(expr, ast.FunctionCall):
        return _function_meta(expr)
    return _TEXT


def _strip(meta: ColumnMeta) -> ColumnMeta:
    """The type of a value computed from a column: keep type and unit, drop identity (utype)."""
    return ColumnMeta("", meta.datatype, meta.arraysize, meta.xtype, meta.unit, meta.ucd)


def _binary_meta(expr: ast.Binary) -> ColumnMeta:
    if expr.op == "||":
        return _TEXT
    left, right = result_meta(expr.left), result_meta(expr.right)
    integral = {"short", "int", "long"}
    if expr.op in ("&", "|", "^"):
        return _LONG
    if left.datatype in integral and right.datatype in integral:
        return _LONG
    unit = left.unit if expr.op in "+-" and left.unit == right.unit else None
    return ColumnMeta("", "double", unit=unit)


def _function_meta(expr: ast.FunctionCall) -> ColumnMeta:
    sig = signature(expr)
    if sig.result is not None:
        return sig.result
    name = expr.name
    if name == "IN_UNIT":
        unit = expr.args[1].value if isinstance(expr.args[1], ast.StringLiteral) else None
        return ColumnMeta("", "double", unit=unit, ucd=result_meta(expr.args[0]).ucd)
    if name == "REGION":
        from adql.stcs import parse_stcs

        text = expr.args[0].value if isinstance(expr.args[0], ast.StringLiteral) else ""
        shape = parse_stcs(text, expr.args[0]).shape if text else "polygon"
        return {"point": POINT_META, "circle": CIRCLE_META, "box": BOX_META}.get(shape, POLYGON_META)
    if name == "COALESCE":
        typed = [a for a in expr.args if not isinstance(a, ast.NullLiteral)]
        return _strip(result_meta(typed[0])) if typed else _TEXT
    first = result_meta(expr.args[0])
    if name == "AVG":
        return ColumnMeta("", "double", unit=first.unit, ucd=first.ucd)
    if name == "SUM" and first.datatype in ("short", "int"):
        return ColumnMeta("", "long", unit=first.unit, ucd=first.ucd)
    if name in ("ROUND", "TRUNCATE", "ABS", "MIN", "MAX", "SUM", "NULLIF", "MOD"):
        return _strip(first)
    return ColumnMeta("", first.datatype, arraysize=first.arraysize, unit=first.unit, ucd=first.ucd)
