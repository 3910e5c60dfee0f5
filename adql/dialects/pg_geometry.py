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
from adql.kinds import Kind, expr_kind
from adql.spherical import polygon_centroid
from pgsql_text.pgsphere import scircle_sql, spoint_literal, spoint_sql, spoly_literal, spoly_of_points_sql
from pgsql_text.private_schema import refusal_sql
from pgsql_text.quoting import quote_string

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
    if constant_value(radius) is not None:
        return scircle_sql(sql(centre), sql(radius))  # checked to be 0-90 by the type checker
    # A radius known only per row: outside 0-90 degrees, stop the query with a message that says
    # so rather than pgsphere's (the support function is volatile, so PostgreSQL does not
    # evaluate it while planning).
    r = sql(radius)
    stop = refusal_sql(f"{quote_string(RADIUS_GUARD)} || CAST({r} AS text)")
    return scircle_sql(sql(centre), f"(CASE WHEN {r} < 0 OR {r} > 90 THEN {stop} ELSE {r} END)")


RADIUS_GUARD = "CIRCLE radii must be 0 to 90 degrees; this query computed "


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
    if expr_kind(arg) is Kind.CIRCLE:
        return f"center({sql(arg)})"
    vertices = _literal_vertices(arg)
    if vertices is not None:
        return spoint_literal(*polygon_centroid(vertices))
    return _polygon_centroid_sql(sql(arg))


def _literal_vertices(expr: ast.Expr) -> list[tuple[float, float]] | None:
    if not (isinstance(expr, ast.FunctionCall) and expr.name == "POLYGON"):
        return None
    vertices = [_literal_point(v) for v in expr.args]
    return None if any(v is None for v in vertices) else [v for v in vertices if v is not None]


# adql/spherical.py's polygon_centroid in SQL, for polygons known only per row (and region
# columns, which this archive stores as polygons: ObsCore's s_region). pgsphere 1.2 has
# no accessor for a polygon's vertices: they are read from its text form, which is in degrees
# ("{(34.5d , -5d),...}") on every connection dalserver opens (set_sphere_output('DEG')).
_VERTICES = (
    "SELECT o.i, cos(radians(CAST(o.m[2] AS float8))) * cos(radians(CAST(o.m[1] AS float8))) AS x, "
    "cos(radians(CAST(o.m[2] AS float8))) * sin(radians(CAST(o.m[1] AS float8))) AS y, "
    "sin(radians(CAST(o.m[2] AS float8))) AS z "
    "FROM regexp_matches(CAST({polygon} AS text), '\\(([^ ,()]+)d , ([^ ,()]+)d\\)', 'g') WITH ORDINALITY AS o(m, i)"
)
_EDGES = (
    "SELECT v.x, v.y, v.z, coalesce(lead(v.x) OVER w, first_value(v.x) OVER w) AS bx, "
    "coalesce(lead(v.y) OVER w, first_value(v.y) OVER w) AS by, "
    "coalesce(lead(v.z) OVER w, first_value(v.z) OVER w) AS bz FROM ({vertices}) AS v WINDOW w AS (ORDER BY v.i)"
)
_NORMALS = (
    "SELECT e.x, e.y, e.z, e.y * e.bz - e.z * e.by AS cx, e.z * e.bx - e.x * e.bz AS cy, "
    "e.x * e.by - e.y * e.bx AS cz, e.x * e.bx + e.y * e.by + e.z * e.bz AS d FROM ({edges}) AS e"
)
_MOMENTS = (
    "SELECT sum(atan2(c.n, c.d) * c.cx / c.n) AS mx, sum(atan2(c.n, c.d) * c.cy / c.n) AS my, "
    "sum(atan2(c.n, c.d) * c.cz / c.n) AS mz, sum(c.x) AS sx, sum(c.y) AS sy, sum(c.z) AS sz "
    "FROM (SELECT n.*, nullif(sqrt(n.cx * n.cx + n.cy * n.cy + n.cz * n.cz), 0) AS n FROM ({normals}) AS n) AS c"
)


def _polygon_centroid_sql(polygon: str) -> str:
    vertices = _VERTICES.format(polygon=polygon)
    moments = _MOMENTS.format(normals=_NORMALS.format(edges=_EDGES.format(vertices=vertices)))
    return (
        "(SELECT spoint(atan2(s.k * s.my, s.k * s.mx), atan2(s.k * s.mz, sqrt(s.mx * s.mx + s.my * s.my))) "
        f"FROM (SELECT m.*, sign(m.mx * m.sx + m.my * m.sy + m.mz * m.sz) AS k FROM ({moments}) AS m) AS s)"
    )


def area(sql: Render, call: ast.FunctionCall) -> str:
    return f"degrees(degrees(area({sql(call.args[0])})))"  # steradians to square degrees


# The order a circle or polygon is turned into a MOC at when compared with one: finer than any
# coverage a registry record gives (about order 6), so the comparison is made at the MOC's
# own resolution.
MOC_COMPARISON_ORDER = 10


def is_moc(expr: ast.Expr) -> bool:
    return expr.meta is not None and expr.meta.xtype == "moc"


def moc(sql: Render, call: ast.FunctionCall) -> str:
    """MOC('ASCII MOC') as pgsphere's smoc; MOC(order, geometry): the geometry's cells at
    ``order`` (pgsphere counts every cell the shape touches), a MOC degraded to ``order``."""
    if len(call.args) == 1:
        return f"CAST({sql(call.args[0])} AS smoc)"
    order, shape = call.args
    level = f"CAST({sql(order)} AS integer)"
    if is_moc(shape):
        return f"smoc_degrade({level}, {sql(shape)})"
    # pgsphere's smoc of a circle at a low order takes cells the circle does not touch (five at
    # order 6 for a 0.1 degree circle); made at order 10 or finer and degraded, it takes the
    # cells the shape is really in.
    fine = f"GREATEST({level}, {MOC_COMPARISON_ORDER})"
    shape_sql = sql(shape)
    if expr_kind(shape) is not Kind.POINT:
        fine = _moc_size_guard(fine, shape_sql)
    return f"smoc_degrade({level}, smoc({fine}, {shape_sql}))"


# pgsphere makes a MOC without ever checking for a cancel: a large shape at a fine order (a 10
# degree circle at order 29) runs past the statement timeout, out of memory. The work grows with
# the cells along the boundary, perimeter / cell size; about two million of them take 4 s (an
# 89 degree circle at order 18), so a larger MOC stops the query before it starts.
MOC_MAX_BOUNDARY_CELLS = 2_000_000
_CELL_SIZE_ORDER_0 = 1.0233  # radians: the square root of a HEALPix cell's area at order 0
MOC_GUARD = (
    "MOC(order, geometry): at order %s this geometry (perimeter %s degrees) has about %s cells on its "
    f"boundary, more than the {MOC_MAX_BOUNDARY_CELLS:,} this service makes one MOC of; use a lower order"
)


def _moc_size_guard(order_sql: str, shape_sql: str) -> str:
    """``order_sql``, or a refusal when the MOC of ``shape_sql`` at that order would be too big."""
    perimeter = f"circum({shape_sql})"
    cells = f"({perimeter} * power(2.0, {order_sql}) / {_CELL_SIZE_ORDER_0})"
    message = (
        f"format({quote_string(MOC_GUARD)}, {order_sql}, round(CAST(degrees({perimeter}) AS numeric), 1), "
        f"CAST(round({cells}) AS bigint))"
    )
    stop = f"CAST({refusal_sql(message)} AS integer)"
    return f"(CASE WHEN {cells} > {MOC_MAX_BOUNDARY_CELLS} THEN {stop} ELSE {order_sql} END)"


def _moc_predicate(sql: Render, op: str, left: ast.Expr, right: ast.Expr) -> str:
    def as_moc(side: ast.Expr) -> str:
        return sql(side) if is_moc(side) else f"smoc({MOC_COMPARISON_ORDER}, {sql(side)})"

    left_point, right_point = expr_kind(left) is Kind.POINT, expr_kind(right) is Kind.POINT
    if left_point:
        return f"({sql(left)} <@ {sql(right)})"  # a point in a MOC: pgsphere's own test
    if right_point:
        if op == "CONTAINS":
            return f"({as_moc(left)} <@ smoc(29, {sql(right)}))"
        return f"({sql(right)} <@ {sql(left)})"
    if op == "CONTAINS":
        return f"({as_moc(left)} <@ {as_moc(right)})"
    return f"({as_moc(left)} && {as_moc(right)})"


def predicate(sql: Render, op: str, left: ast.Expr, right: ast.Expr) -> str:
    """CONTAINS(left, right) or INTERSECTS(left, right) as a boolean pgsphere expression."""
    if is_moc(left) or is_moc(right):
        return _moc_predicate(sql, op, left, right)
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
    "MOC": moc,
}
