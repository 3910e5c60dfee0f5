"""Which rows of an uploaded table each shard of a scattered cross-match needs: a shard holds one
HEALPix key range of the catalogue, and an upload row whose match circle lies wholly outside it
can match none of the shard's rows, so it is not sent there. Each shard then joins about 1/N of
the upload instead of all of it, and a shard that needs no row is not asked at all.

Only the plain cross-match is pruned: an upload joined to the sharded table by ``1 =
CONTAINS(POINT(<table's position>), CIRCLE(<upload's ra>, <upload's dec>, <constant radius>))``
(or ``DISTANCE(...) < <constant>``) as a conjunct that must hold (the WHERE clause's or an inner
join's). Every other query sends each shard the whole upload.

Conservative by construction: an upload row goes to each shard one of the nine cells around its
position overlaps (its own cell and the eight neighbours, at an order whose cells are at least
``_CELLS_PER_RADIUS`` radii wide, so the circle cannot reach past them); a row whose nine cells
touch a base face's edge goes everywhere (pgsphere gives points on a face's far edge a key in
another face: adql.healpix_cover), and so does a row whose position pgsphere might refuse or
read differently (NULL, NaN, a latitude beyond ±90°), so that the query meets it as it would
unsharded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adql import ast

KEY_ORDER = 12  # the sharded catalogue's partition key order (archive_io.shards.KEY_ORDER)
_CELL_SIZE_ORDER_0_DEG = 58.6  # square root of an order-0 cell's area
_CELLS_PER_RADIUS = 8  # cells are not square: a wide margin keeps the circle inside the nine
_MARGIN_DEG = 1e-6  # well above pgsphere's tolerance, which counts a point on the edge as inside


@dataclass(frozen=True)
class UploadReach:
    """The upload (as the query names it, lower case) whose rows match within ``radius_deg`` of
    their position columns ``ra``, ``dec``."""

    upload: str
    ra: str
    dec: str
    radius_deg: float


def upload_reach(query: ast.Query, table_alias: str, ra: str, dec: str, uploads: dict[str, str]) -> UploadReach | None:
    """The reach of the cross-match in ``query`` between the sharded table (SQL alias
    ``table_alias``, position columns ``ra``, ``dec``) and one upload (``uploads``: SQL alias to
    upload name), or None when the query is not such a plain cross-match."""
    for condition in _required_conditions(query):
        found = _circle_test(condition)
        if found is None:
            continue
        point, centre, radius = found
        if not _is_columns(point, table_alias, ra, dec):
            point, centre = centre, point  # DISTANCE is symmetric
            if not _is_columns(point, table_alias, ra, dec) or not _is_distance(condition):
                continue
        if not (isinstance(centre[0], ast.ResolvedColumn) and isinstance(centre[1], ast.ResolvedColumn)):
            continue
        alias = centre[0].table_alias
        if alias != centre[1].table_alias or alias not in uploads:
            continue
        if radius is None or not math.isfinite(radius) or radius < 0:
            continue
        return UploadReach(uploads[alias], centre[0].column.name, centre[1].column.name, radius)
    return None


def _required_conditions(query: ast.Query) -> list[ast.Condition]:
    """The conjuncts every answer row satisfies: the WHERE clause's and inner joins' ON clauses'
    (outer joins keep rows their ON clause rejects)."""
    found: list[ast.Condition] = []

    def conjuncts(condition: ast.Condition | None) -> None:
        if isinstance(condition, ast.And):
            conjuncts(condition.left)
            conjuncts(condition.right)
        elif condition is not None:
            found.append(condition)

    def joins(item: ast.Node) -> bool:
        if isinstance(item, ast.Join):
            if item.kind not in ("INNER", "CROSS"):
                return False
            conjuncts(item.on)
            return joins(item.left) and joins(item.right)
        return True

    if not all(joins(item) for item in query.from_):
        return []
    conjuncts(query.where)
    return found


def _circle_test(
    condition: ast.Condition,
) -> tuple[tuple[ast.Expr, ast.Expr], tuple[ast.Expr, ast.Expr], float | None] | None:
    """(point's ra and dec, circle centre's ra and dec, radius in degrees) of ``1 = CONTAINS(POINT,
    CIRCLE)`` or ``DISTANCE(POINT, POINT) < r`` (either way round), else None."""
    if not isinstance(condition, ast.Comparison):
        return None
    left, right, op = condition.left, condition.right, condition.op
    if op in (">", ">="):
        left, right, op = right, left, "<" if op == ">" else "<="
    if op == "=" and _constant(left) == 1:
        left, right = right, left
    if op == "=" and _constant(right) == 1 and _call(left, "CONTAINS", 2):
        assert isinstance(left, ast.FunctionCall)
        point, circle = left.args
        if _call(point, "POINT", 2) and _call(circle, "CIRCLE", 3):
            assert isinstance(point, ast.FunctionCall) and isinstance(circle, ast.FunctionCall)
            return (point.args[0], point.args[1]), (circle.args[0], circle.args[1]), _constant(circle.args[2])
        if _call(point, "POINT", 2) and _call(circle, "CIRCLE", 2):
            # CIRCLE(ra, dec, r) as the resolver writes it: CIRCLE(POINT(ra, dec), r)
            assert isinstance(point, ast.FunctionCall) and isinstance(circle, ast.FunctionCall)
            centre = circle.args[0]
            if not (isinstance(centre, ast.FunctionCall) and _call(centre, "POINT", 2)):
                return None
            return (point.args[0], point.args[1]), (centre.args[0], centre.args[1]), _constant(circle.args[1])
    if op in ("<", "<=") and _call(left, "DISTANCE", 2):
        assert isinstance(left, ast.FunctionCall)
        a, b = left.args
        if _call(a, "POINT", 2) and _call(b, "POINT", 2):
            assert isinstance(a, ast.FunctionCall) and isinstance(b, ast.FunctionCall)
            radius = _constant(right)
            return (a.args[0], a.args[1]), (b.args[0], b.args[1]), radius  # either may be the table's
    return None


def _is_distance(condition: ast.Condition) -> bool:
    return isinstance(condition, ast.Comparison) and (
        _call(condition.left, "DISTANCE", 2) or _call(condition.right, "DISTANCE", 2)
    )


def _call(node: ast.Node, name: str, arity: int) -> bool:
    return (
        isinstance(node, ast.FunctionCall) and not node.user_defined and node.name == name and len(node.args) == arity
    )


def _is_columns(pair: tuple[ast.Expr, ast.Expr], alias: str, ra: str, dec: str) -> bool:
    a, d = pair
    return (
        isinstance(a, ast.ResolvedColumn)
        and isinstance(d, ast.ResolvedColumn)
        and a.table_alias == alias == d.table_alias
        and a.column.name.lower() == ra.lower()
        and d.column.name.lower() == dec.lower()
    )


def _constant(expr: ast.Node) -> float | None:
    """The value of a numeric constant expression (literals and + - * /), else None."""
    if isinstance(expr, ast.IntegerLiteral | ast.RealLiteral):
        try:
            return float(expr.text)
        except ValueError:
            return None
    if isinstance(expr, ast.Unary) and expr.op in ("-", "+"):
        value = _constant(expr.operand)
        return None if value is None else (-value if expr.op == "-" else value)
    if isinstance(expr, ast.Binary) and expr.op in ("+", "-", "*", "/"):
        left, right = _constant(expr.left), _constant(expr.right)
        if left is None or right is None or (expr.op == "/" and right == 0):
            return None
        return {"+": left + right, "-": left - right, "*": left * right, "/": left / right if right else 0.0}[expr.op]
    return None


class UploadCells:
    """The cells around each upload row, computed once per query and asked once per shard."""

    def __init__(self, ra: np.ndarray, dec: np.ndarray, radius_deg: float):
        size = _CELLS_PER_RADIUS * (radius_deg + _MARGIN_DEG)
        order = math.floor(math.log2(_CELL_SIZE_ORDER_0_DEG / size)) if size > 0 else KEY_ORDER
        self.order = min(order, KEY_ORDER)
        valid = np.isfinite(ra) & np.isfinite(dec) & (np.abs(dec) <= 90)
        self.everywhere = ~valid
        self.cells = np.empty((ra.size, 9), dtype=np.int64)
        if self.order < 0:  # a circle wider than a base cell: no pruning
            self.everywhere[:] = True
            return
        if valid.any():
            import astropy.units as u  # imported on the first pruned upload only
            from cdshealpix.nested import lonlat_to_healpix, neighbours

            ipix = lonlat_to_healpix(np.mod(ra[valid], 360.0) * u.deg, dec[valid] * u.deg, self.order).astype(np.uint64)
            around = neighbours(ipix, self.order).astype(np.int64)  # -1 where a cell has 7 neighbours
            around = np.where(around < 0, around[:, 4:5], around)
            self.cells[valid] = around
            self.everywhere[valid] = _touches_face_edge(around, self.order).any(axis=1)
        self.cells[~valid] = 0

    def rows_for(self, low: int | None, high: int | None) -> np.ndarray:
        """The mask of the rows a shard holding the keys [low, high) (None: unbounded) needs."""
        shift = 2 * (KEY_ORDER - self.order)
        first, last = self.cells << shift, ((self.cells + 1) << shift) - 1
        overlaps = np.ones(self.cells.shape, dtype=bool)
        if low is not None:
            overlaps &= last >= low
        if high is not None:
            overlaps &= first < high
        mask: np.ndarray = overlaps.any(axis=1) | self.everywhere
        return mask


def _touches_face_edge(cells: np.ndarray, order: int) -> np.ndarray:
    """Whether each cell lies on an edge of its base face (x or y at 0 or at nside - 1)."""
    within = cells & ((1 << (2 * order)) - 1)
    x, y = _compact_bits(within), _compact_bits(within >> 1)
    edge = (1 << order) - 1
    touches: np.ndarray = (x == 0) | (y == 0) | (x == edge) | (y == edge)
    return touches


def _compact_bits(v: np.ndarray) -> np.ndarray:
    """The even bits of ``v``, packed together (the inverse of interleaving)."""
    v = v & 0x5555555555555555
    v = (v | (v >> 1)) & 0x3333333333333333
    v = (v | (v >> 2)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v >> 4)) & 0x00FF00FF00FF00FF
    v = (v | (v >> 8)) & 0x0000FFFF0000FFFF
    v = (v | (v >> 16)) & 0x00000000FFFFFFFF
    return v


def pruned(data: pa.Table, mask: np.ndarray) -> pa.Table:
    """The upload's rows the mask keeps."""
    return data.filter(pa.array(mask)) if not mask.all() else data


def column_values(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A numeric upload column as float64, NULL as NaN."""
    return np.asarray(pc.fill_null(pc.cast(column, pa.float64()), float("nan")).to_numpy(zero_copy_only=False))
