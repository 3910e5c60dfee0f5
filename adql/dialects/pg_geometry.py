"""ADQL geometry as pgsphere SQL, for calls already checked and put in canonical form by
adql/typecheck.py: ``POINT(ra, dec)``, ``CIRCLE(point, r)``, ``BOX(point, w, h)``,
``POLYGON(point, point, point, ...)``, ``DISTANCE(point, point)``.

pgsphere works in radians, ADQL in degrees. Points are written ``spoint(radians(ra),
radians(dec))``, exactly the expression the position indexes are built on.
"""

from __future__ import annotations

from collections.abc import Callable

from adql import ast
from adql.constant import constant_value
from adql.dialects.pgsphere import scircle_sql, spoint_sql, spoly_literal, spoly_of_points_sql
from adql.kinds import Kind, expr_kind

Render = Callable[[ast.Node], str]


def _literal_point(expr: ast.Expr) -> tuple[float, float] | None:
    if isinstance(expr, ast.FunctionCall) and expr.name == "POINT":
        ra, dec = (constant_value(a) for a in expr.args)
        if ra is not None and dec is not None:
            return ra, dec
    return None


def point(sql: Render, call: ast.FunctionCall) -> str:
    ra, dec = call.args
    return spoint_sql(sql(ra), sql(dec))


def circle(sql: Render, call: ast.FunctionCall) -> str:
    centre, radius = call.args
    return scircle_sql(sql(centre), sql(radius))


def polygon(sql: Render, call: ast.FunctionCall) -> str:
    vertices = [_literal_point(v) for v in call.args]
    if all(v is not None for v in vertices):
        return spoly_literal(v for v in vertices if v is not None)
    return spoly_of_points_sql(sql(v) for v in call.args)


_CORNERS = (("-", "-"), ("+", "-"), ("+", "+"), ("-", "+"))


def box(sql: Render, call: ast.FunctionCall) -> str:
    """An ADQL BOX spans width x height around its centre: a four-vertex polygon."""
    centre, width, height = call.args
    known = _literal_point(centre)
    w, h = constant_value(width), constant_value(height)
    if known is not None and w is not None and h is not None:
        ra, dec = known
        signs = {"-": -0.5, "+": 0.5}
        return spoly_literal((ra + signs[sx] * w, dec + signs[sy] * h) for sx, sy in _CORNERS)
    if isinstance(centre, ast.FunctionCall) and centre.name == "POINT":
        ra_sql, dec_sql = (sql(a) for a in centre.args)
    else:
        rendered = sql(centre)
        ra_sql, dec_sql = f"degrees(long({rendered}))", f"degrees(lat({rendered}))"
    w_sql, h_sql = sql(width), sql(height)
    corners = (
        f"spoint(radians({ra_sql} {sx} ({w_sql}) / 2.0), radians({dec_sql} {sy} ({h_sql}) / 2.0))"
        for sx, sy in _CORNERS
    )
    return spoly_of_points_sql(corners)


def distance(sql: Render, call: ast.FunctionCall) -> str:
    a, b = call.args
    return f"degrees({sql(a)} <-> {sql(b)})"


def coord1(sql: Render, call: ast.FunctionCall) -> str:
    return f"degrees(long({sql(call.args[0])}))"


def coord2(sql: Render, call: ast.FunctionCall) -> str:
    return f"degrees(lat({sql(call.args[0])}))"


def centroid(sql: Render, call: ast.FunctionCall) -> str:
    (arg,) = call.args
    return f"center({sql(arg)})"


def area(sql: Render, call: ast.FunctionCall) -> str:
    return f"degrees(degrees(area({sql(call.args[0])})))"  # steradians to square degrees


def predicate(sql: Render, op: str, left: ast.Expr, right: ast.Expr) -> str:
    """CONTAINS(left, right) or INTERSECTS(left, right) as a boolean pgsphere expression."""
    a, b = sql(left), sql(right)
    left_point, right_point = expr_kind(left) is Kind.POINT, expr_kind(right) is Kind.POINT
    if left_point and right_point:
        return f"({a} = {b})"
    if op == "CONTAINS":
        if right_point:
            # Only a circle of radius 0 on the point lies within a point; pgsphere compares
            # circles, not a circle with a point ("operator is not unique").
            return f"({a} <@ scircle({b}))"
        return f"({a} <@ {b})"
    if left_point:
        return f"({a} <@ {b})"
    if right_point:
        return f"({b} <@ {a})"
    return f"({a} && {b})"


def predicate_value(sql: Render, call: ast.FunctionCall) -> str:
    """CONTAINS or INTERSECTS used as a number (1, 0, or NULL for a NULL geometry)."""
    left, right = call.args
    return f"CAST({predicate(sql, call.name, left, right)} AS integer)"


RENDERERS: dict[str, Callable[[Render, ast.FunctionCall], str]] = {
    "POINT": point,
    "CIRCLE": circle,
    "POLYGON": polygon,
    "BOX": box,
    "DISTANCE": distance,
    "COORD1": coord1,
    "COORD2": coord2,
    "CENTROID": centroid,
    "AREA": area,
    "CONTAINS": predicate_value,
    "INTERSECTS": predicate_value,
}
