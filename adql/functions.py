"""The ADQL functions this library knows: arity and the VO type of their result.

How each is written in SQL is the dialect's business (adql/dialects/); this table is shared so
that every dialect accepts the same functions and types results the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from adql import ast
from adql.catalog import ColumnMeta
from adql.errors import ADQLError


@dataclass(frozen=True)
class Signature:
    min_args: int
    max_args: int
    result: ColumnMeta | None  # None: the type of the first argument


_DOUBLE = ColumnMeta("", "double")
_INT = ColumnMeta("", "int")
_LONG = ColumnMeta("", "long")
_TEXT = ColumnMeta("", "char", arraysize="*")
_DEG = ColumnMeta("", "double", unit="deg")

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
    # aggregates
    "COUNT": Signature(0, 1, _LONG),
    "AVG": Signature(1, 1, _DOUBLE),
    "MIN": Signature(1, 1, None),
    "MAX": Signature(1, 1, None),
    "SUM": Signature(1, 1, None),
    # geometry (ADQL 2.1 section 4.2)
    "POINT": Signature(2, 3, ColumnMeta("", "double", arraysize="2", xtype="point", unit="deg")),
    "CIRCLE": Signature(3, 5, ColumnMeta("", "double", arraysize="3", xtype="circle", unit="deg")),
    "CONTAINS": Signature(2, 2, _INT),
    "INTERSECTS": Signature(2, 2, _INT),
    "DISTANCE": Signature(2, 5, _DEG),
    "COORD1": Signature(1, 1, _DEG),
    "COORD2": Signature(1, 1, _DEG),
}

AGGREGATES = {"COUNT", "AVG", "MIN", "MAX", "SUM"}


def signature(call: ast.FunctionCall) -> Signature:
    if call.user_defined:
        raise ADQLError(
            "ADQL-UNKNOWN-FUNCTION",
            f"function '{call.name}' is not known to this service",
            call.pos.line or None,
            call.pos.column or None,
        )
    sig = SIGNATURES.get(call.name)
    if sig is None:
        raise ADQLError(
            "ADQL-UNSUPPORTED",
            f"function {call.name} is not supported yet by this service",
            call.pos.line or None,
            call.pos.column or None,
        )
    count = len(call.args)
    if call.star and call.name != "COUNT":
        raise ADQLError("ADQL-SYNTAX", f"{call.name}(*) is not allowed; only COUNT(*)", call.pos.line, call.pos.column)
    if not call.star and not sig.min_args <= count <= sig.max_args:
        wanted = str(sig.min_args) if sig.min_args == sig.max_args else f"{sig.min_args} to {sig.max_args}"
        raise ADQLError(
            "ADQL-TYPE",
            f"{call.name} takes {wanted} arguments, not {count}",
            call.pos.line or None,
            call.pos.column or None,
        )
    return sig


def result_meta(expr: ast.Expr) -> ColumnMeta:
    """The VO type of an expression's value (datatype, unit, UCD where derivable)."""
    if isinstance(expr, ast.ResolvedColumn):
        return expr.column
    if isinstance(expr, ast.IntegerLiteral):
        return _LONG
    if isinstance(expr, ast.RealLiteral):
        return _DOUBLE
    if isinstance(expr, ast.StringLiteral):
        return _TEXT
    if isinstance(expr, ast.NullLiteral):
        return _TEXT
    if isinstance(expr, ast.Unary):
        inner = result_meta(expr.operand)
        return ColumnMeta("", inner.datatype, unit=inner.unit)
    if isinstance(expr, ast.Binary):
        if expr.op == "||":
            return _TEXT
        left, right = result_meta(expr.left), result_meta(expr.right)
        integral = {"short", "int", "long"}
        if left.datatype in integral and right.datatype in integral:
            return _LONG
        unit = left.unit if expr.op in "+-" and left.unit == right.unit else None
        return ColumnMeta("", "double", unit=unit)
    if isinstance(expr, ast.FunctionCall):
        sig = signature(expr)
        if sig.result is not None:
            return sig.result
        first = result_meta(expr.args[0])
        if expr.name == "SUM" and first.datatype in ("short", "int"):
            return ColumnMeta("", "long", unit=first.unit, ucd=first.ucd)
        return ColumnMeta("", first.datatype, arraysize=first.arraysize, unit=first.unit, ucd=first.ucd)
    return _TEXT
