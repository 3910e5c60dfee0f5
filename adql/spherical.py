"""Spherical geometry computed in Python, for constant shapes known at translation time."""

from __future__ import annotations

import math
from collections.abc import Sequence

Vector = tuple[float, float, float]


def unit_vector(ra: float, dec: float) -> Vector:
    r, d = math.radians(ra), math.radians(dec)
    return (math.cos(d) * math.cos(r), math.cos(d) * math.sin(r), math.sin(d))


def polygon_centroid(vertices: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """The centroid (centre of area) of a spherical polygon, vertices and result in degrees.

    The first moment of the polygon's area is half the sum, over its great-circle edges, of each
    edge's length times its unit normal (Stokes' theorem on the sphere); its direction is the
    centroid. The sign is chosen so that it points at the polygon, whichever way round the
    vertices go (polygons are smaller than a hemisphere).
    """
    vs = [unit_vector(ra, dec) for ra, dec in vertices]
    moment = [0.0, 0.0, 0.0]
    total = [0.0, 0.0, 0.0]
    for i, a in enumerate(vs):
        b = vs[(i + 1) % len(vs)]
        c = (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])
        norm = math.sqrt(c[0] ** 2 + c[1] ** 2 + c[2] ** 2)
        if norm == 0:
            continue  # a repeated vertex: no edge
        angle = math.atan2(norm, a[0] * b[0] + a[1] * b[1] + a[2] * b[2])
        for k in range(3):
            moment[k] += angle * c[k] / norm
            total[k] += a[k]
    if sum(m * t for m, t in zip(moment, total, strict=True)) < 0:
        moment = [-m for m in moment]
    x, y, z = moment
    return math.degrees(math.atan2(y, x)) % 360.0, math.degrees(math.atan2(z, math.hypot(x, y)))
