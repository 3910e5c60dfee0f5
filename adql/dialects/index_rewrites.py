"""The index rewrites: a pass over the resolved tree, before rendering, that puts spatial
conditions in the form a GiST index on ``spoint(radians(ra), radians(dec))`` (or on a region
column) can serve. Each rewrite keeps the query's meaning exactly.

* ``CONTAINS(a, b) = 1`` (or ``1 = ...``, ``<> 0``, and INTERSECTS) becomes the bare predicate
  ``GeometryTest``; ``= 0`` its negation. A number compared with 1 is opaque to the planner.
* Cross-match: ``CONTAINS(POINT(t1), CIRCLE(POINT(t2), r)) = 1`` can only use the index of the
  table whose position stands alone left of ``<@``. Which table is indexed is not known here, so
  both orientations are written (point-in-circle is symmetric); the planner picks the one an
  index serves.
* ``DISTANCE(a, b) < r`` (or ``r > DISTANCE(a, b)``, ``<=``) keeps the exact comparison and adds
  ``a <@ CIRCLE(b, r)`` (and the mirror image when both sides read columns).

The cone forms are added only for radii known to be 0-90 degrees, pgsphere's range for circles.
"""

from __future__ import annotations

from adql import ast
from adql.constant import constant_value
from adql.functions import CIRCLE_META
from adql.typecheck import MAX_CIRCLE_RADIUS

_PREDICATES = ("CONTAINS", "INTERSECTS")


def rewrite_for_indexes(query: ast.QueryExpr) -> ast.QueryExpr:
    """``query`` with every spatial comparison in its indexable form, subqueries included."""
    return ast.transform(query, _rewrite)


def _rewrite(node: ast.Node) -> ast.Node:
    if isinstance(node, ast.Comparison):
        return _predicate_comparison(node) or _distance_comparison(node) or node
    return node


def _reads_columns(expr: ast.Node) -> bool:
    """Whether ``expr`` reads a column (else it is the same for every row)."""
    return any(isinstance(n, ast.ResolvedColumn) for n in ast.walk(expr))


def _is_small_radius(expr: ast.Expr) -> bool:
    value = constant_value(expr)
    return value is not None and 0 <= value <= MAX_CIRCLE_RADIUS


def _is_call(expr: ast.Expr, *names: str) -> bool:
    return isinstance(expr, ast.FunctionCall) and expr.name in names


def _predicate_comparison(node: ast.Comparison) -> ast.Condition | None:
    call, other = node.left, node.right
    if not _is_call(call, *_PREDICATES):
        call, other = node.right, node.left
    if not _is_call(call, *_PREDICATES) or not isinstance(other, ast.IntegerLiteral):
        return None
    assert isinstance(call, ast.FunctionCall)
    if node.op not in ("=", "<>") or ast.number_text(other) not in ("0", "1"):
        return None
    left, right = call.args
    test: ast.Condition = ast.GeometryTest(call.name, left, right, pos=call.pos)
    mirror = _mirrored_cone(call)
    if mirror is not None:
        test = ast.And(test, mirror, pos=call.pos)
    truth = (ast.number_text(other) == "1") == (node.op == "=")
    return test if truth else ast.Not(test, pos=node.pos)


def _circle(centre: ast.Expr, radius: ast.Expr, at: ast.Node) -> ast.FunctionCall:
    return ast.FunctionCall("CIRCLE", (centre, radius), pos=at.pos, meta=CIRCLE_META)


def _mirrored_cone(call: ast.FunctionCall) -> ast.Condition | None:
    """For CONTAINS(point, CIRCLE(centre, r)) over two tables' columns: centre in CIRCLE(point, r)."""
    point, circle = call.args
    if call.name != "CONTAINS" or not _is_call(point, "POINT") or not _is_call(circle, "CIRCLE"):
        return None
    assert isinstance(circle, ast.FunctionCall)
    centre, radius = circle.args
    if not (_reads_columns(point) and _reads_columns(centre) and _is_small_radius(radius)):
        return None
    return ast.GeometryTest("CONTAINS", centre, _circle(point, radius, circle), pos=call.pos)


def _distance_comparison(node: ast.Comparison) -> ast.Condition | None:
    if _is_call(node.left, "DISTANCE") and node.op in ("<", "<="):
        call, radius = node.left, node.right
    elif _is_call(node.right, "DISTANCE") and node.op in (">", ">="):
        call, radius = node.right, node.left
    else:
        return None
    assert isinstance(call, ast.FunctionCall)
    if not _is_small_radius(radius):
        return None
    a, b = call.args
    result: ast.Condition = node
    # Prepended, so that the cheap indexable tests come first.
    if _reads_columns(b):
        result = ast.And(ast.GeometryTest("CONTAINS", b, _circle(a, radius, call), pos=call.pos), result)
    if _reads_columns(a):
        result = ast.And(ast.GeometryTest("CONTAINS", a, _circle(b, radius, call), pos=call.pos), result)
    return result
