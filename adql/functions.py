"""The ADQL functions this library knows: for each, the forms it may be called in (the kind of
every argument, ADQL 2.1 sections 2.3 and 4.2) and the VO type of its result.

How each is written in SQL is the dialect's business (adql/dialects/); this table is shared so
that every dialect accepts the same calls and types their results the same way. The checks
themselves are made by adql/typecheck.py while the resolver binds names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from adql import ast
from adql.catalog import ColumnMeta
from adql.kinds import Arg
from adql.udf import UserFunction, find_user_function

A = Arg


@dataclass(frozen=True)
class Form:
    """One way of calling a function: fixed leading arguments, then ``repeat`` given
    ``min_repeat`` or more times (POLYGON's vertices)."""

    params: tuple[Arg, ...]
    repeat: tuple[Arg, ...] = ()
    min_repeat: int = 0

    def fits(self, count: int) -> bool:
        rest = count - len(self.params)
        if not self.repeat:
            return rest == 0
        return rest >= self.min_repeat * len(self.repeat) and rest % len(self.repeat) == 0

    def arg(self, index: int) -> Arg:
        if index < len(self.params):
            return self.params[index]
        return self.repeat[(index - len(self.params)) % len(self.repeat)]

    def describe(self) -> str:
        if not self.repeat:
            return str(len(self.params))
        least = len(self.params) + self.min_repeat * len(self.repeat)
        return f"at least {least}"


# The result type: a constant, or computed from the call with its typed arguments.
Result = ColumnMeta | Callable[[ast.FunctionCall], ColumnMeta]


@dataclass(frozen=True)
class Signature:
    forms: tuple[Form, ...]
    result: Result
    aggregate: bool = False

    def result_of(self, call: ast.FunctionCall) -> ColumnMeta:
        return self.result if isinstance(self.result, ColumnMeta) else self.result(call)


DOUBLE = ColumnMeta("", "double")
LONG = ColumnMeta("", "long")
INT = ColumnMeta("", "int")
TEXT = ColumnMeta("", "char", arraysize="*")
DEG = ColumnMeta("", "double", unit="deg")
POINT_META = ColumnMeta("", "double", arraysize="2", xtype="point", unit="deg")
CIRCLE_META = ColumnMeta("", "double", arraysize="3", xtype="circle", unit="deg")
POLYGON_META = ColumnMeta("", "double", arraysize="*", xtype="polygon", unit="deg")
MOC_META = ColumnMeta("", "char", arraysize="*", xtype="moc")


def strip(meta: ColumnMeta | None) -> ColumnMeta:
    """The type of a value computed from another: keep type, unit and UCD, drop identity."""
    if meta is None:
        return TEXT  # NULL alone: PostgreSQL's unknown, returned as text
    return ColumnMeta("", meta.datatype, meta.arraysize, meta.xtype, meta.unit, meta.ucd)


def _first_arg(call: ast.FunctionCall) -> ColumnMeta:
    return strip(call.args[0].meta)


def _first_typed(call: ast.FunctionCall) -> ColumnMeta:
    typed = [a.meta for a in call.args if not isinstance(a, ast.NullLiteral)]
    return strip(typed[0] if typed else None)


def _avg(call: ast.FunctionCall) -> ColumnMeta:
    first = _first_arg(call)
    return ColumnMeta("", "double", unit=first.unit, ucd=first.ucd)


def _sum(call: ast.FunctionCall) -> ColumnMeta:
    first = _first_arg(call)
    if first.datatype in ("short", "int"):
        return ColumnMeta("", "long", unit=first.unit, ucd=first.ucd)
    return first


def _unitless_double(call: ast.FunctionCall) -> ColumnMeta:
    return DOUBLE


def _rounded(call: ast.FunctionCall) -> ColumnMeta:
    first = _first_arg(call)
    datatype = "double" if first.datatype in ("float", "double") else "long"
    return ColumnMeta("", datatype, unit=first.unit, ucd=first.ucd)


def _mod(call: ast.FunctionCall) -> ColumnMeta:
    a, b = (strip(x.meta) for x in call.args)
    integral = a.datatype in ("short", "int", "long") and b.datatype in ("short", "int", "long")
    return ColumnMeta("", "long" if integral else "double", unit=a.unit)


def _same_kind(call: ast.FunctionCall) -> ColumnMeta:
    first = _first_arg(call)
    return ColumnMeta("", first.datatype, unit=first.unit, ucd=first.ucd)


_NUMBER_1 = (Form((A.NUMBER,)),)
_NUMBER_2 = (Form((A.NUMBER, A.NUMBER)),)
_COORDS = (A.NUMBER, A.NUMBER)


def _with_frame(*forms: Form) -> tuple[Form, ...]:
    """Geometry constructors take an optional leading coordinate-system literal."""
    framed = tuple(Form((A.COORDSYS, *f.params), f.repeat, f.min_repeat) for f in forms)
    return framed + forms


SIGNATURES: dict[str, Signature] = {
    # mathematical and trigonometric (ADQL 2.1 section 2.3)
    **{
        name: Signature(_NUMBER_1, DOUBLE)
        for name in ("ACOS", "ASIN", "ATAN", "COS", "COT", "SIN", "TAN", "EXP", "LOG", "LOG10", "DEGREES", "RADIANS")
    },
    "SQRT": Signature(_NUMBER_1, _unitless_double),  # the unit follows from the operand: typecheck
    "ABS": Signature(_NUMBER_1, _same_kind),
    "CEILING": Signature(_NUMBER_1, DOUBLE),
    "FLOOR": Signature(_NUMBER_1, DOUBLE),
    "ATAN2": Signature(_NUMBER_2, DOUBLE),
    "MOD": Signature(_NUMBER_2, _mod),
    "PI": Signature((Form(()),), DOUBLE),
    "POWER": Signature(_NUMBER_2, _unitless_double),
    "RAND": Signature((Form(()), Form((A.INTEGER,))), DOUBLE),
    "ROUND": Signature((Form((A.NUMBER,)), Form((A.NUMBER, A.INTEGER))), _rounded),
    "TRUNCATE": Signature((Form((A.NUMBER,)), Form((A.NUMBER, A.INTEGER))), _rounded),
    "LOWER": Signature((Form((A.STRING,)),), TEXT),
    "UPPER": Signature((Form((A.STRING,)),), TEXT),
    "COALESCE": Signature((Form((), (A.ANY,), 1),), _first_typed),
    "NULLIF": Signature((Form((A.ANY, A.ANY)),), _first_typed),
    "IN_UNIT": Signature((Form((A.NUMBER, A.UNIT)),), DOUBLE),  # unit and factor: typecheck
    # aggregates
    "COUNT": Signature((Form((A.ANY,)),), LONG, aggregate=True),  # and COUNT(*)
    "AVG": Signature((Form((A.NUMBER,)),), _avg, aggregate=True),
    "SUM": Signature((Form((A.NUMBER,)),), _sum, aggregate=True),
    "MIN": Signature((Form((A.VALUE,)),), _first_arg, aggregate=True),
    "MAX": Signature((Form((A.VALUE,)),), _first_arg, aggregate=True),
    # geometry (ADQL 2.1 section 4.2)
    "POINT": Signature(_with_frame(Form(_COORDS)), POINT_META),
    "CIRCLE": Signature(_with_frame(Form((*_COORDS, A.NUMBER)), Form((A.POINT, A.NUMBER))), CIRCLE_META),
    "BOX": Signature(
        _with_frame(Form((*_COORDS, A.NUMBER, A.NUMBER)), Form((A.POINT, A.NUMBER, A.NUMBER))), POLYGON_META
    ),
    "POLYGON": Signature(_with_frame(Form((), _COORDS, 3), Form((), (A.POINT,), 3)), POLYGON_META),
    "REGION": Signature((Form((A.STCS,)),), POLYGON_META),  # the shape's own type: typecheck
    "CENTROID": Signature((Form((A.GEOMETRY,)),), POINT_META),
    "AREA": Signature((Form((A.GEOMETRY,)),), ColumnMeta("", "double", unit="deg**2")),
    "CONTAINS": Signature((Form((A.GEOMETRY, A.GEOMETRY)),), INT),
    "INTERSECTS": Signature((Form((A.GEOMETRY, A.GEOMETRY)),), INT),
    "DISTANCE": Signature((Form((A.POINT, A.POINT)), Form((*_COORDS, *_COORDS))), DEG),
    "COORD1": Signature((Form((A.POINT,)),), DEG),
    "COORD2": Signature((Form((A.POINT,)),), DEG),
    "COORDSYS": Signature((Form((A.GEOMETRY,)),), TEXT),
    # MOC('ASCII MOC') or MOC(order, geometry): a coverage map (RegTAP 1.2's rr.stc_spatial)
    "MOC": Signature((Form((A.STRING,)), Form((A.INTEGER, A.GEOMETRY))), MOC_META),
}


def udf_signature(udf: UserFunction) -> Signature:
    return Signature((Form(tuple(p.arg for p in udf.params)),), udf.result, aggregate=udf.aggregate)


AGGREGATES = frozenset(name for name, sig in SIGNATURES.items() if sig.aggregate)


def is_aggregate(call: ast.FunctionCall) -> bool:
    if call.user_defined:
        udf = find_user_function(call.name)
        return udf is not None and udf.aggregate
    return call.name in AGGREGATES
