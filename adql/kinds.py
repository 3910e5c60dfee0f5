"""What kind of value an ADQL expression has, and what kind each function argument accepts.

The VO metadata of a value (``ColumnMeta``: VOTable datatype, arraysize, xtype) is mapped onto a
few kinds that ADQL's typing rules speak about: numbers, strings, timestamps, geometries.
"""

from __future__ import annotations

from enum import Enum

from adql import ast
from adql.catalog import ColumnMeta


class Kind(Enum):
    """The kind of a value; the text is how messages name it."""

    INTEGER = "an integer"
    REAL = "a floating-point number"
    STRING = "a string"
    TIMESTAMP = "a timestamp"
    BOOLEAN = "a boolean"
    POINT = "a point"
    CIRCLE = "a circle"
    POLYGON = "a polygon"
    REGION = "a region"  # any other geometry (MOC, shape): only the generic operations
    NULL = "NULL"
    OTHER = "an array"  # numeric arrays and other VOTable values ADQL has no operators for


NUMERIC = frozenset({Kind.INTEGER, Kind.REAL})
GEOMETRIC = frozenset({Kind.POINT, Kind.CIRCLE, Kind.POLYGON, Kind.REGION})
_INTEGRAL = frozenset({"short", "int", "long", "unsignedByte"})
_REAL = frozenset({"float", "double"})
_TEXT = frozenset({"char", "unicodeChar"})
_GEOMETRY_XTYPES = {"point": Kind.POINT, "circle": Kind.CIRCLE, "polygon": Kind.POLYGON}


def kind_of(meta: ColumnMeta | None) -> Kind:
    if meta is None:
        return Kind.NULL
    xtype = meta.xtype
    if xtype is not None:
        geometric = _GEOMETRY_XTYPES.get(xtype)
        if geometric is not None:
            return geometric
        if meta.is_geometry:
            return Kind.REGION
        if xtype in ("timestamp", "adql:TIMESTAMP"):
            return Kind.TIMESTAMP
    datatype = meta.datatype
    if datatype in _TEXT:
        return Kind.STRING
    if meta.arraysize not in (None, "1"):
        return Kind.OTHER
    if datatype in _REAL:
        return Kind.REAL
    if datatype in _INTEGRAL:
        return Kind.INTEGER
    if datatype == "boolean":
        return Kind.BOOLEAN
    return Kind.OTHER


def expr_kind(expr: ast.Expr) -> Kind:
    """The kind of a resolved expression (NULL for the literal NULL)."""
    if isinstance(expr, ast.NullLiteral):
        return Kind.NULL
    return kind_of(expr.meta)


def comparable(a: Kind, b: Kind) -> bool:
    """Whether ADQL can compare (or CASE/COALESCE/UNION can mix) values of these kinds."""
    if a is Kind.NULL or b is Kind.NULL or a is b:
        return True
    if a in NUMERIC and b in NUMERIC:
        return True
    # A timestamp compares with its ISO 8601 text: t_start > '2004-01-01'.
    return {a, b} == {Kind.TIMESTAMP, Kind.STRING}


class Arg(Enum):
    """What a function argument accepts; the text is how messages and capabilities name it."""

    NUMBER = "a number"
    INTEGER = "an integer"
    STRING = "a string"
    VALUE = "a number, a string or a timestamp"  # anything but a geometry
    ANY = "any value"
    GEOMETRY = "a geometry"
    POINT = "a point"
    COORDSYS = "a coordinate system given as a string literal, e.g. 'ICRS'"
    UNIT = "a unit given as a string literal, e.g. 'arcsec'"
    STCS = "an STC-S string literal, e.g. 'Circle ICRS 10 20 1'"

    def accepts(self, expr: ast.Expr) -> bool:
        kind = expr_kind(expr)
        if self in _LITERAL_ARGS:
            return isinstance(expr, ast.StringLiteral)
        if kind is Kind.NULL:
            return True
        return kind in _ACCEPTED[self]

    @property
    def adql_type(self) -> str:
        """The ADQL type name TAPRegExt signatures use for this argument."""
        return _ADQL_TYPES[self]


_LITERAL_ARGS = frozenset({Arg.COORDSYS, Arg.UNIT, Arg.STCS})
_SCALAR = frozenset(Kind) - GEOMETRIC - {Kind.OTHER}
_ACCEPTED: dict[Arg, frozenset[Kind]] = {
    Arg.NUMBER: NUMERIC,
    Arg.INTEGER: frozenset({Kind.INTEGER}),
    Arg.STRING: frozenset({Kind.STRING}),
    Arg.VALUE: _SCALAR,
    Arg.ANY: frozenset(Kind),
    Arg.GEOMETRY: GEOMETRIC,
    Arg.POINT: frozenset({Kind.POINT}),
}
_ADQL_TYPES = {
    Arg.NUMBER: "DOUBLE",
    Arg.INTEGER: "INTEGER",
    Arg.STRING: "VARCHAR(*)",
    Arg.VALUE: "VARCHAR(*)",
    Arg.ANY: "VARCHAR(*)",
    Arg.GEOMETRY: "REGION",
    Arg.POINT: "POINT",
    Arg.COORDSYS: "VARCHAR(*)",
    Arg.UNIT: "VARCHAR(*)",
    Arg.STCS: "VARCHAR(*)",
}
