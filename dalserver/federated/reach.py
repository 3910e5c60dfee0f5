"""Where a search looks, as circles: a circle around each POS shape, from which the live services
to ask are chosen (their coverage MOC must touch it) and the regions they are asked for are made. A circle is a superset of its shape: what a service sends back is filtered
exactly here afterwards, by the same SQL as the cache's rows.

Pure functions on DALI shapes (``dalserver.dali.values``); angles in ICRS degrees.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from dalserver.dali.values import Circle, Polygon, Range, Shape, parse_pos

# The edges of a RANGE are parallels, not great circles: sampled every degree, then the circle is
# widened a little, so that it holds the range between the samples too.
_SAMPLE_DEGREES = 1.0
_MARGIN_DEGREES = 0.05
# A circle this large says little: the search is then made without a position.
_LARGEST_RADIUS = 89.0
# How far a footprint may reach beyond its centre: a service's coverage is the MOC of its rows'
# centres, so a region is widened by this much before it is compared with it.
FOOTPRINT_REACH_DEGREES = 1.0


def _vectors(points: Iterable[tuple[float, float]]) -> np.ndarray:
    ra, dec = np.radians(np.array(list(points), dtype=float)).T
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=1)


def _around(points: list[tuple[float, float]]) -> Circle | None:
    """A circle holding ``points`` (and so a region bounded by them, when it is under 90 degrees):
    centred on their mean direction, reaching the farthest one."""
    vectors = _vectors(points)
    mean = vectors.sum(axis=0)
    norm = float(np.linalg.norm(mean))
    if norm < 1e-9:
        return None
    centre = mean / norm
    radius = math.degrees(float(np.arccos(np.clip(vectors @ centre, -1.0, 1.0)).max())) + _MARGIN_DEGREES
    if radius > _LARGEST_RADIUS:
        return None
    ra = math.degrees(math.atan2(centre[1], centre[0])) % 360.0
    dec = math.degrees(math.asin(max(-1.0, min(1.0, float(centre[2])))))
    return Circle(ra, dec, radius)


def _steps(start: float, stop: float) -> list[float]:
    count = max(1, math.ceil(abs(stop - start) / _SAMPLE_DEGREES))
    return [start + (stop - start) * k / count for k in range(count + 1)]


def _range_circle(shape: Range) -> Circle | None:
    if shape.full_ra:  # a band around the sky: a polar cap holds it only when it stays in one hemisphere
        if shape.dec_min >= 0.0:
            return Circle(0.0, 90.0, 90.0 - shape.dec_min) if 90.0 - shape.dec_min <= _LARGEST_RADIUS else None
        if shape.dec_max <= 0.0:
            return Circle(0.0, -90.0, 90.0 + shape.dec_max) if 90.0 + shape.dec_max <= _LARGEST_RADIUS else None
        return None
    width = (shape.ra_max - shape.ra_min) % 360.0
    ras = _steps(shape.ra_min, shape.ra_min + width)
    decs = _steps(shape.dec_min, shape.dec_max)
    edges = [(ra, shape.dec_min) for ra in ras] + [(ra, shape.dec_max) for ra in ras]
    edges += [(shape.ra_min, dec) for dec in decs] + [((shape.ra_min + width) % 360.0, dec) for dec in decs]
    return _around([(ra % 360.0, dec) for ra, dec in edges])


def bounding_circle(shape: Shape) -> Circle | None:
    """A circle holding ``shape``; None when none under about a hemisphere does."""
    if isinstance(shape, Circle):
        return shape if shape.radius <= _LARGEST_RADIUS else None
    if isinstance(shape, Polygon):
        return _around(list(shape.vertices))
    return _range_circle(shape)


def search_circles(pos_values: list[str]) -> list[Circle] | None:
    """The circles a search with these POS values looks in (values OR-ed); None for the whole sky
    (no POS, or a shape too large for a circle). The values are parsed (and so checked) already."""
    if not pos_values:
        return None
    circles = []
    for value in pos_values:
        circle = bounding_circle(parse_pos(value))
        if circle is None:
            return None
        circles.append(circle)
    return circles


def widened(circle: Circle, by: float = FOOTPRINT_REACH_DEGREES) -> Circle:
    """The circle reaching ``by`` degrees further (at most a hemisphere)."""
    return Circle(circle.ra, circle.dec, min(90.0, circle.radius + by))


def enclosing(circles: list[Circle]) -> Circle:
    """One circle holding all of ``circles`` (for a service that takes one region only); the
    whole sky's circle when none under a hemisphere does."""
    if len(circles) == 1:
        return circles[0]
    points = []
    for c in circles:
        points += [_offset(c, angle) for angle in range(0, 360, 10)]
    around = _around(points)
    return around if around is not None else Circle(0.0, 90.0, 180.0)


def _offset(c: Circle, angle: float) -> tuple[float, float]:
    """The point of the circle's edge at position angle ``angle`` (degrees east of north)."""
    ra0, dec0, r, theta = (math.radians(v) for v in (c.ra, c.dec, c.radius, angle))
    sin_dec = math.sin(dec0) * math.cos(r) + math.cos(dec0) * math.sin(r) * math.cos(theta)
    dec = math.asin(max(-1.0, min(1.0, sin_dec)))
    east = math.atan2(math.sin(theta) * math.sin(r) * math.cos(dec0), math.cos(r) - math.sin(dec0) * sin_dec)
    return (c.ra + math.degrees(east)) % 360.0, math.degrees(dec)
