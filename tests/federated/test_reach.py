"""Where a federated search looks: the circle around each POS shape holds the whole shape (its
vertices and its edges, sampled), and shapes too large for a circle mean the whole sky."""

from __future__ import annotations

import math

import pytest

from dalserver.dali.values import Circle, Polygon, Range
from dalserver.federated.reach import bounding_circle, enclosing, search_circles, widened


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    ra1, dec1, ra2, dec2 = (math.radians(v) for v in (*a, *b))
    cos = math.sin(dec1) * math.sin(dec2) + math.cos(dec1) * math.cos(dec2) * math.cos(ra1 - ra2)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def _inside(circle: Circle, point: tuple[float, float]) -> bool:
    return _distance((circle.ra, circle.dec), point) <= circle.radius + 1e-9


def _range_edges(r: Range, steps: int = 400) -> list[tuple[float, float]]:
    width = (r.ra_max - r.ra_min) % 360.0
    ras = [r.ra_min + width * k / steps for k in range(steps + 1)]
    decs = [r.dec_min + (r.dec_max - r.dec_min) * k / steps for k in range(steps + 1)]
    points = [(ra % 360.0, d) for ra in ras for d in (r.dec_min, r.dec_max)]
    return points + [(ra % 360.0, d) for d in decs for ra in (r.ra_min, r.ra_min + width)]


@pytest.mark.parametrize(
    "shape",
    [
        Range(10.0, 30.0, 40.0, 60.0),
        Range(350.0, 20.0, -10.0, 10.0),  # through RA 0
        Range(100.0, 101.0, -89.5, -80.0),  # near a pole
        Range(200.0, 260.0, 0.0, 30.0),
    ],
)
def test_the_circle_around_a_range_holds_its_edges(shape: Range) -> None:
    circle = bounding_circle(shape)
    assert circle is not None and all(_inside(circle, p) for p in _range_edges(shape))


def test_the_circle_around_a_polygon_holds_its_vertices_and_edges() -> None:
    vertices = ((359.5, -1.0), (1.0, -1.0), (1.0, 2.0), (0.2, 3.0))
    circle = bounding_circle(Polygon(vertices))
    assert circle is not None and circle.radius < 3.0
    for (ra1, dec1), (ra2, dec2) in zip(vertices, vertices[1:] + vertices[:1], strict=True):
        for k in range(21):  # short edges: a straight line in RA/Dec is close to the great circle
            t = k / 20
            ra = (ra1 + (((ra2 - ra1 + 180) % 360) - 180) * t) % 360.0
            assert _inside(circle, (ra, dec1 + (dec2 - dec1) * t))


def test_a_band_around_one_pole_is_a_cap_and_one_across_the_equator_the_whole_sky() -> None:
    assert bounding_circle(Range(0.0, 360.0, 30.0, 60.0)) == Circle(0.0, 90.0, 60.0)
    assert bounding_circle(Range(0.0, 360.0, -60.0, -30.0)) == Circle(0.0, -90.0, 60.0)
    assert bounding_circle(Range(0.0, 360.0, -10.0, 10.0)) is None
    assert search_circles(["RANGE 0 360 -10 10", "CIRCLE 10 10 1"]) is None
    assert search_circles([]) is None
    assert bounding_circle(Circle(10.0, 10.0, 120.0)) is None


def test_circles_of_a_search_and_their_reach() -> None:
    assert search_circles(["CIRCLE 10 20 0.5", "CIRCLE 200 -30 2"]) == [Circle(10, 20, 0.5), Circle(200, -30, 2)]
    assert widened(Circle(10, 20, 0.5)) == Circle(10, 20, 1.5)
    assert widened(Circle(10, 20, 89.5)).radius == 90.0


def test_one_circle_encloses_several() -> None:
    circles = [Circle(10.0, 20.0, 1.0), Circle(14.0, 22.0, 0.5)]
    around = enclosing(circles)
    for c in circles:
        for angle in range(0, 360, 5):
            ra0, dec0, r, th = (math.radians(v) for v in (c.ra, c.dec, c.radius, angle))
            dec = math.asin(math.sin(dec0) * math.cos(r) + math.cos(dec0) * math.sin(r) * math.cos(th))
            east = math.atan2(math.sin(th) * math.sin(r) * math.cos(dec0), math.cos(r) - math.sin(dec0) * math.sin(dec))
            assert _inside(around, ((c.ra + math.degrees(east)) % 360.0, math.degrees(dec)))
    assert enclosing([Circle(1, 2, 3)]) == Circle(1, 2, 3)
