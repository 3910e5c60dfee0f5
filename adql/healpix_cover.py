"""Range covers of constant sky regions on a HEALPix position key: the key ranges
``[a, b]`` (inclusive, at the key order) that hold every point of a cone, a polygon or a MOC.

A table keyed on ``healpix_nest(12, spoint(...))`` answers ``key BETWEEN a AND b OR ...`` from
its B-tree (or prunes its partitions by it); the exact pgsphere predicate stays beside the cover,
so a cover only has to be a superset, and coarse is fine. It is computed at the finest order
(at most the key order) that gives at most ``MAX_RANGES`` ranges after merging adjacent cells:
few ranges plan fast, and a cell of order k is one contiguous range of keys.

Conservative by construction: cones are widened by ``MARGIN_RAD`` (well above pgsphere's own
tolerance of 1e-9 rad, within which it counts a point on a circle's edge as inside) before
cdshealpix lists the cells they overlap; polygons (and BOXes, which are polygons) are covered
by a cone around them; MOC cells only grow when degraded. ``None`` means no useful cover: the
region covers the whole sky, or its numbers are not a region pgsphere would accept.

pgsphere 1.2's ``healpix_nest`` (its copy of healpix_bare) gives a point lying exactly on a base
face's far edge (face coordinate x or y exactly 1: the poles, RA 0/90/180/270 at |dec| > 41.8,
RA 45 + 90k at dec 0, ...) a key one, two or three faces further on: x = nside carries into the
face bits. Such rows are indexed (and partitioned) under that key, so every cover also holds
the carried key of each face-edge cell it holds (``with_carried_keys``: up to 16 more ranges,
only near face edges); a carried key can reach past the last face (up to 16 * 4^order - 1).

cdshealpix (and astropy, whose angles it takes) are imported on the first cover: a worker that
never sees a keyed table never loads them.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence

import numpy as np

KEY_ORDER = 12  # the key order of the agreed key expression, healpix_nest(12, spoint(...))
# Each range is a B-tree descent the planner also has to cost: on 1 M rows a 0.5 degree cone took
# 0.33 ms with at most 8 ranges, 0.8-1.0 ms with 30, and 0.02 degree cones 0.20 against 0.23 ms
# (bench/position_index.py's cones); rechecking the few more rows of a coarser cover is cheaper.
MAX_RANGES = 8
MARGIN_RAD = 1e-7  # about 0.02 arcsec
_CELL_SIZE_ORDER_0_DEG = 58.6  # square root of an order-0 cell's area, in degrees
_CELLS_PER_RADIUS = 4  # the first cover's cells are about radius / 4 wide: finer ones are merged away

Ranges = tuple[tuple[int, int], ...]


def cells_at(order: int) -> int:
    return int(12 * 4**order)


def merged_ranges(lows: np.ndarray, highs: np.ndarray) -> Ranges:
    """Inclusive key ranges, sorted and with touching or overlapping ones merged."""
    if lows.size == 0:
        return ()
    order = np.argsort(lows, kind="stable")
    lows, highs = lows[order], np.maximum.accumulate(highs[order])
    # A new range starts where a low lies beyond everything before it (+1: touching ranges merge).
    starts = np.ones(lows.size, dtype=bool)
    starts[1:] = lows[1:] > highs[:-1] + 1
    begin = lows[starts]
    end_index = np.append(np.flatnonzero(starts)[1:] - 1, lows.size - 1)
    return tuple(zip(begin.tolist(), highs[end_index].tolist(), strict=True))


def cell_ranges(cells: Iterable[int] | np.ndarray, order: int, key_order: int = KEY_ORDER) -> Ranges:
    """The key ranges (at ``key_order``) of nested HEALPix ``cells`` of ``order`` <= key_order."""
    shift = 2 * (key_order - order)
    ids = np.unique(np.asarray(list(cells) if not isinstance(cells, np.ndarray) else cells, dtype=np.int64))
    return merged_ranges(ids << shift, ((ids + 1) << shift) - 1)


def coarsened(ranges: Ranges, key_order: int = KEY_ORDER, max_ranges: int = MAX_RANGES) -> Ranges:
    """``ranges`` widened to whole cells of the finest order that leaves at most ``max_ranges``."""
    if len(ranges) <= max_ranges:
        return ranges
    lows = np.fromiter((a for a, _ in ranges), dtype=np.int64, count=len(ranges))
    highs = np.fromiter((b for _, b in ranges), dtype=np.int64, count=len(ranges))
    for order in range(key_order - 1, -1, -1):
        shift = 2 * (key_order - order)
        result = merged_ranges((lows >> shift) << shift, (((highs >> shift) + 1) << shift) - 1)
        if len(result) <= max_ranges:
            return result
    raise AssertionError("order 0 has at most 16 cells (12 faces and carried keys), fewer than max_ranges")


@functools.cache
def _face_edges(key_order: int) -> tuple[np.ndarray, np.ndarray]:
    """The keys of the cells along each face's far edges (x or y = nside - 1), sorted, and the
    key pgsphere 1.2 gives a point on that edge (x or y = nside: carried into the face bits)."""
    nside = 1 << key_order
    per_face = nside * nside
    along = np.arange(nside, dtype=np.int64)
    last = _spread_bits(np.array([nside - 1], dtype=np.int64))[0]
    keys, carried = [], []
    for face in range(12):
        base = face * per_face
        # x = nside - 1: a point with x = 1 gets x = 0 in face + 1.
        keys.append(base + last + 2 * _spread_bits(along))
        carried.append(base + per_face + 2 * _spread_bits(along))
        # y = nside - 1: a point with y = 1 gets y = 0 in face + 2.
        keys.append(base + _spread_bits(along) + 2 * last)
        carried.append(base + 2 * per_face + _spread_bits(along))
        # The far corner (x = y = 1, e.g. a pole): both carry, face + 3.
        keys.append(np.array([base + 3 * last], dtype=np.int64))
        carried.append(np.array([base + 3 * per_face], dtype=np.int64))
    all_keys, all_carried = np.concatenate(keys), np.concatenate(carried)
    order = np.argsort(all_keys, kind="stable")
    return all_keys[order], all_carried[order]


def _spread_bits(v: np.ndarray) -> np.ndarray:
    """Interleave zeros between the bits of ``v`` (the nested index's x part)."""
    result = np.zeros_like(v)
    for bit in range(31):
        result |= ((v >> bit) & 1) << (2 * bit)
    return result


def carried_keys(ranges: Ranges, key_order: int = KEY_ORDER) -> np.ndarray:
    """The keys pgsphere 1.2 gives points on the far face edges that ``ranges`` hold (sorted)."""
    if not ranges:
        return np.zeros(0, dtype=np.int64)
    edges, carried = _face_edges(key_order)
    lows = np.fromiter((a for a, _ in ranges), dtype=np.int64, count=len(ranges))
    highs = np.fromiter((b for _, b in ranges), dtype=np.int64, count=len(ranges))
    starts, ends = np.searchsorted(edges, lows, "left"), np.searchsorted(edges, highs, "right")
    return np.unique(np.concatenate([carried[a:b] for a, b in zip(starts, ends, strict=True)]))


def with_carried_keys(
    cover: Ranges, fine: Ranges | None = None, key_order: int = KEY_ORDER, max_ranges: int = MAX_RANGES
) -> Ranges:
    """``cover`` plus the keys pgsphere 1.2 gives points on the far face edges that ``fine`` (the
    cover before coarsening; by default ``cover``) holds. Those keys lie in other faces, far from
    the rest in key order, so they are coarsened on their own to at most twice ``max_ranges``: a
    cover near a face's corner (a pole) stays small instead of being widened to whole faces to
    bring everything under one count."""
    picked = carried_keys(cover if fine is None else fine, key_order)
    if picked.size == 0:
        return cover
    extra = coarsened(merged_ranges(picked, picked), key_order, 2 * max_ranges)
    bounds = (*cover, *extra)
    lows = np.fromiter((a for a, _ in bounds), dtype=np.int64, count=len(bounds))
    highs = np.fromiter((b for _, b in bounds), dtype=np.int64, count=len(bounds))
    return merged_ranges(lows, highs)


def _finished(fine: Ranges, key_order: int, max_ranges: int) -> Ranges | None:
    """The cover as emitted: coarsened to ``max_ranges``, the carried keys of the fine cover
    added (coarsened apart), None for the whole sky."""
    cover = coarsened(fine, key_order, max_ranges)
    return _useful(with_carried_keys(cover, fine, key_order, max_ranges), key_order)


def _useful(ranges: Ranges, key_order: int) -> Ranges | None:
    """None for a cover of the whole sky: it would only cost planning."""
    if not ranges or (ranges[0][0] == 0 and ranges[0][1] >= cells_at(key_order) - 1):
        return None
    return ranges


def _start_order(radius_deg: float, key_order: int) -> int:
    """The order whose cells are about radius / 4 wide (never finer than the key order)."""
    if radius_deg <= 0:
        return key_order
    order = math.floor(math.log2(_CELL_SIZE_ORDER_0_DEG * _CELLS_PER_RADIUS / radius_deg))
    return max(0, min(key_order, order))


def cone_cover(
    ra: float, dec: float, radius: float, key_order: int = KEY_ORDER, max_ranges: int = MAX_RANGES
) -> Ranges | None:
    """Key ranges holding every point within ``radius`` degrees of (ra, dec), degrees."""
    if not all(math.isfinite(v) for v in (ra, dec, radius)) or abs(dec) > 90 or radius < 0:
        return None
    widened = math.radians(radius) + MARGIN_RAD
    if widened >= math.pi:
        return None
    import astropy.units as u
    from astropy.coordinates import Latitude, Longitude
    from cdshealpix import nested

    order = _start_order(radius, key_order)
    ipix, _, _ = nested.cone_search(
        Longitude(ra % 360.0, unit=u.deg), Latitude(dec, unit=u.deg), widened * u.rad, depth=order, flat=True
    )
    return _finished(cell_ranges(np.asarray(ipix), order, key_order), key_order, max_ranges)


def _unit_vector(ra: float, dec: float) -> np.ndarray:
    a, d = math.radians(ra), math.radians(dec)
    return np.array([math.cos(d) * math.cos(a), math.cos(d) * math.sin(a), math.sin(d)])


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    """The angle between two unit vectors, radians (atan2: accurate for tiny and large angles)."""
    return math.atan2(float(np.linalg.norm(np.cross(a, b))), float(np.dot(a, b)))


def bounding_cone(vertices: Sequence[tuple[float, float]]) -> tuple[float, float, float] | None:
    """A cone (ra, dec, radius in degrees) around a spherical polygon's vertices, or None when
    they do not fit in a hemisphere. Under 90 degrees a cone is convex: the great-circle edges
    between its points, and so the polygon they bound, lie within it."""
    if len(vertices) < 3 or any(not (math.isfinite(r) and math.isfinite(d) and abs(d) <= 90) for r, d in vertices):
        return None
    points = [_unit_vector(r, d) for r, d in vertices]
    total = np.sum(points, axis=0)
    norm = float(np.linalg.norm(total))
    if norm < 1e-9:
        return None
    centre = total / norm
    radius = max(_angle(centre, p) for p in points)
    if radius >= math.pi / 2 - 1e-6:
        return None
    ra = math.degrees(math.atan2(centre[1], centre[0])) % 360.0
    dec = math.degrees(math.asin(max(-1.0, min(1.0, float(centre[2])))))
    return ra, dec, math.degrees(radius)


# Polygon covers start this many orders finer than a cone of the same size: a thin or slanted
# polygon fills little of the cone around it.
_POLYGON_EXTRA_ORDERS = 3


def polygon_cover(
    vertices: Sequence[tuple[float, float]], key_order: int = KEY_ORDER, max_ranges: int = MAX_RANGES
) -> Ranges | None:
    """Key ranges holding every point of the polygon with these vertices (degrees): the cells of
    the cone around it (conservative by convexity) that are also within one cell of the cells
    cdshealpix finds the polygon in (a margin for the two libraries' arithmetic). Should cdshealpix
    read the polygon as the other side of its edges (more cells than the cone), the cone alone."""
    cone = bounding_cone(vertices)
    if cone is None:
        return None
    import astropy.units as u
    from astropy.coordinates import Latitude, Longitude
    from cdshealpix import nested

    ra, dec, radius = cone
    order = min(key_order, _start_order(radius, key_order) + _POLYGON_EXTRA_ORDERS)
    around, _, _ = nested.cone_search(
        Longitude(ra, unit=u.deg), Latitude(dec, unit=u.deg), math.radians(radius) * u.rad + MARGIN_RAD * u.rad,
        depth=order, flat=True,
    )  # fmt: skip
    around = np.unique(np.asarray(around, dtype=np.int64))
    try:
        inside, _, _ = nested.polygon_search(
            Longitude([v[0] % 360.0 for v in vertices], unit=u.deg), Latitude([v[1] for v in vertices], unit=u.deg),
            order, flat=True,
        )  # fmt: skip
    except (ValueError, IndexError):  # degenerate to cdshealpix (repeated vertices): the cone
        inside = np.zeros(0, dtype=np.int64)
    inside = np.asarray(inside, dtype=np.uint64)
    cells = around
    if 0 < inside.size <= around.size:
        near = nested.neighbours(inside, order).ravel()
        cells = np.intersect1d(around, near[near >= 0].astype(np.int64))
    return _finished(cell_ranges(cells, order, key_order), key_order, max_ranges)


def box_vertices(ra: float, dec: float, width: float, height: float) -> list[tuple[float, float]]:
    """The corners of an ADQL BOX, as the translator writes it (a four-vertex polygon)."""
    return [(ra + sx * width / 2, dec + sy * height / 2) for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]


_MOC_TOKEN = re.compile(r"(\d+)/|(\d+)(?:-(\d+))?")
MAX_MOC_ORDER = 29


def moc_cover(ascii_moc: str, key_order: int = KEY_ORDER, max_ranges: int = MAX_RANGES) -> Ranges | None:
    """Key ranges holding every cell of a MOC in its ASCII serialisation (``3/1-4 5/100``):
    cells finer than the key order are their key cell, coarser ones their range of keys. None
    for text that is not a MOC (pgsphere refuses it with its own message)."""
    text = ascii_moc.strip()
    if not re.fullmatch(r"[\d/\-,\s]*", text):
        return None
    order: int | None = None
    lows: list[int] = []
    highs: list[int] = []
    position = 0
    for match in _MOC_TOKEN.finditer(text):
        if text[position : match.start()].strip(" ,\t\r\n"):
            return None
        position = match.end()
        if match.group(1) is not None:
            order = int(match.group(1))
            if order > MAX_MOC_ORDER:
                return None
            continue
        if order is None:
            return None
        first = int(match.group(2))
        last = int(match.group(3)) if match.group(3) is not None else first
        if last < first or last >= cells_at(order):
            return None
        if order >= key_order:
            shift = 2 * (order - key_order)
            lows.append(first >> shift)
            highs.append(last >> shift)
        else:
            shift = 2 * (key_order - order)
            lows.append(first << shift)
            highs.append(((last + 1) << shift) - 1)
    if text[position:].strip(" ,\t\r\n") or not lows:
        return None  # an empty MOC holds no point: the exact test answers quickly anyway
    ranges = merged_ranges(np.array(lows, dtype=np.int64), np.array(highs, dtype=np.int64))
    return _finished(ranges, key_order, max_ranges)
