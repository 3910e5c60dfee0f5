"""The key-cover pass: after the index rewrites, a point-in-region test on a table with a HEALPix
position key gets ``AND healpix_nest(...) BETWEEN a AND b OR ...`` beside it, so the key's B-tree
serves it (or the key's partitions are pruned); the exact test stays as the recheck, so the rows
are the same.

Which tests: ``CONTAINS(POINT(t.ra, t.dec), region)`` and ``INTERSECTS`` with a point, as the
index rewrites leave them (``CONTAINS(...) = 1`` in either order, and ``DISTANCE(...) < r``,
which they give a circle test), where ``t.ra, t.dec`` are exactly the key's columns and the
region is a constant CIRCLE, POLYGON, BOX or ``MOC('...')``. Anything else gets no cover.

Where: only where the cover is implied by the query's truth. A cover is added in a WHERE or a
JOIN ... ON, through AND and OR (inside the OR's branch, next to its own test), never under
NOT, and nowhere else (a CASE, a select list, HAVING). In those places a NULL condition and a
false one both drop the row, so ``test AND cover`` keeps exactly the rows ``test`` keeps.
"""

from __future__ import annotations

from adql import ast
from adql.catalog import PositionKey
from adql.constant import constant_value
from adql.healpix_cover import Ranges, box_vertices, cone_cover, moc_cover, polygon_cover


def add_key_covers(query: ast.QueryExpr) -> ast.QueryExpr:
    """``query`` with a range cover beside every point-in-region test on a keyed table."""
    keys = {
        node.sql_alias: node.position_key
        for node in ast.walk(query)
        if isinstance(node, ast.ResolvedTable) and node.position_key is not None
    }
    if not keys:
        return query

    def rewrite(node: ast.Node) -> ast.Node:
        if isinstance(node, ast.Query) and node.where is not None:
            return ast.copy_with(node, where=_covered(node.where, keys))
        if isinstance(node, ast.Join) and node.on is not None:
            return ast.copy_with(node, on=_covered(node.on, keys))
        return node

    return ast.transform(query, rewrite)


def _covered(condition: ast.Condition, keys: dict[str, PositionKey]) -> ast.Condition:
    if isinstance(condition, ast.And | ast.Or):
        left, right = _covered(condition.left, keys), _covered(condition.right, keys)
        if left is condition.left and right is condition.right:
            return condition
        return ast.copy_with(condition, left=left, right=right)
    if isinstance(condition, ast.GeometryTest):
        cover = _cover_of(condition, keys)
        if cover is not None:
            return ast.And(condition, cover, pos=condition.pos)
    return condition


def _keyed_point(expr: ast.Expr, keys: dict[str, PositionKey]) -> tuple[ast.Expr, ast.Expr, PositionKey] | None:
    """(ra, dec, key) when ``expr`` is POINT of exactly a keyed table's key columns."""
    if not (isinstance(expr, ast.FunctionCall) and expr.name == "POINT" and len(expr.args) == 2):
        return None
    ra, dec = expr.args
    if not (isinstance(ra, ast.ResolvedColumn) and isinstance(dec, ast.ResolvedColumn)):
        return None
    key = keys.get(ra.table_alias)
    if key is None or dec.table_alias != ra.table_alias:
        return None
    if (ra.column.name, dec.column.name) != (key.ra_column, key.dec_column):
        return None
    return ra, dec, key


def _cover_of(test: ast.GeometryTest, keys: dict[str, PositionKey]) -> ast.KeyCover | None:
    if test.op == "CONTAINS":
        point, region = test.left, test.right
    else:  # INTERSECTS is symmetric: a point in the region, whichever side it stands
        point, region = test.left, test.right
        if _keyed_point(point, keys) is None:
            point, region = region, point
    found = _keyed_point(point, keys)
    if found is None:
        return None
    ra, dec, key = found
    ranges = region_ranges(region, key.order)
    if ranges is None:
        return None
    return ast.KeyCover(ra, dec, key.order, ranges, pos=test.pos)


def _constant_point(expr: ast.Expr) -> tuple[float, float] | None:
    if isinstance(expr, ast.FunctionCall) and expr.name == "POINT" and len(expr.args) == 2:
        ra, dec = (constant_value(a) for a in expr.args)
        if ra is not None and dec is not None:
            return ra, dec
    return None


def region_ranges(region: ast.Expr, key_order: int) -> Ranges | None:
    """The key ranges of a constant region (None: not constant, or no useful cover)."""
    if not isinstance(region, ast.FunctionCall):
        return None
    if region.name == "CIRCLE" and len(region.args) == 2:
        centre, radius = _constant_point(region.args[0]), constant_value(region.args[1])
        if centre is None or radius is None:
            return None
        return cone_cover(*centre, radius, key_order=key_order)
    if region.name == "POLYGON":
        vertices = [_constant_point(v) for v in region.args]
        if any(v is None for v in vertices):
            return None
        return polygon_cover([v for v in vertices if v is not None], key_order=key_order)
    if region.name == "BOX" and len(region.args) == 3:
        centre = _constant_point(region.args[0])
        width, height = constant_value(region.args[1]), constant_value(region.args[2])
        if centre is None or width is None or height is None:
            return None
        return polygon_cover(box_vertices(*centre, width, height), key_order=key_order)
    if region.name == "MOC" and len(region.args) == 1 and isinstance(region.args[0], ast.StringLiteral):
        return moc_cover(region.args[0].value, key_order=key_order)
    return None
