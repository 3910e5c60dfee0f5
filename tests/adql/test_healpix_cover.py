"""Range covers on the HEALPix position key (adql/healpix_cover.py) and where the translator puts
them (adql/dialects/key_covers.py): no database. A cover must hold every point the exact
predicate accepts; that is checked against cdshealpix's own cell of points inside, on the edge
of, and at the corners of cells along the edge of each region."""

from __future__ import annotations

import math

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import Latitude, Longitude
from cdshealpix import nested

from adql import Catalog, ColumnMeta, PositionKey, TableMeta, to_postgres
from adql.healpix_cover import (
    KEY_ORDER,
    MAX_RANGES,
    bounding_cone,
    box_vertices,
    cell_ranges,
    coarsened,
    cone_cover,
    moc_cover,
    polygon_cover,
    with_carried_keys,
)
from tests.support.pgsphere_healpix import pgsphere_healpix_nest

KEY_CELLS = 12 * 4**KEY_ORDER


def keys_of(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    return np.asarray(
        nested.lonlat_to_healpix(Longitude(np.mod(ra, 360.0), unit=u.deg), Latitude(dec, unit=u.deg), KEY_ORDER)
    )


def in_ranges(keys: np.ndarray, ranges: tuple[tuple[int, int], ...]) -> np.ndarray:
    inside = np.zeros(keys.shape, dtype=bool)
    for low, high in ranges:
        inside |= (keys >= low) & (keys <= high)
    return inside


def offsets(ra: float, dec: float, distance: np.ndarray, bearing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points ``distance`` degrees from (ra, dec) towards ``bearing`` (radians), on the sphere."""
    d, a0, d0 = np.radians(distance), math.radians(ra), math.radians(dec)
    sin_dec = np.sin(d0) * np.cos(d) + np.cos(d0) * np.sin(d) * np.cos(bearing)
    dec2 = np.arcsin(np.clip(sin_dec, -1, 1))
    ra2 = a0 + np.arctan2(np.sin(bearing) * np.sin(d) * np.cos(d0), np.cos(d) - np.sin(d0) * sin_dec)
    return np.degrees(ra2) % 360.0, np.degrees(dec2)


def angular_distance(ra1: np.ndarray, dec1: np.ndarray, ra: float, dec: float) -> np.ndarray:
    a1, d1, a2, d2 = np.radians(ra1), np.radians(dec1), math.radians(ra), math.radians(dec)
    h = np.sin((d1 - d2) / 2) ** 2 + np.cos(d1) * np.cos(d2) * np.sin((a1 - a2) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(h, 0, 1))))


def corners_near_cone(ra: float, dec: float, radius: float, ranges: tuple[tuple[int, int], ...]) -> np.ndarray:
    """The corners of the key-order cells around the cone's edge that lie within the cone."""
    bearing = np.linspace(0, 2 * math.pi, 720, endpoint=False)
    ring_ra, ring_dec = offsets(ra, dec, np.full(bearing.size, radius), bearing)
    cells = np.unique(keys_of(ring_ra, ring_dec))
    lon, lat = nested.vertices(cells, KEY_ORDER)
    lon_deg, lat_deg = lon.to_value(u.deg).ravel(), lat.to_value(u.deg).ravel()
    inside = angular_distance(lon_deg, lat_deg, ra, dec) <= radius
    return np.stack([lon_deg[inside], lat_deg[inside]])


CONES = [
    (10.0, 20.0, 0.5),
    (0.0, 0.0, 1.0),  # across RA 0/360
    (359.99, -5.0, 0.3),
    (123.0, 89.9, 0.5),  # around the north pole
    (45.0, -90.0, 2.0),  # centred on the south pole
    (200.0, 41.8103, 0.1),  # where HEALPix's polar and equatorial zones meet
    (30.0, 10.0, 1 / 3600),  # one arcsecond
    (30.0, 10.0, 0.0),
    (150.0, -30.0, 30.0),
    (270.0, 60.0, 89.0),
]


@pytest.mark.parametrize(("ra", "dec", "radius"), CONES)
def test_cone_cover_holds_points_inside_on_the_edge_and_at_cell_corners(ra: float, dec: float, radius: float) -> None:
    ranges = cone_cover(ra, dec, radius)
    assert ranges is not None
    rng = np.random.default_rng(7)
    n = 20_000
    inner_ra, inner_dec = offsets(ra, dec, radius * np.sqrt(rng.random(n)), rng.random(n) * 2 * math.pi)
    edge_ra, edge_dec = offsets(ra, dec, np.full(n, radius), rng.random(n) * 2 * math.pi)
    corner_ra, corner_dec = corners_near_cone(ra, dec, radius, ranges)
    for xs, ys in ((inner_ra, inner_dec), (edge_ra, edge_dec), (corner_ra, corner_dec)):
        assert in_ranges(keys_of(xs, ys), ranges).all()


@pytest.mark.parametrize(("ra", "dec", "radius"), CONES)
def test_cone_cover_is_merged_sorted_and_has_few_ranges(ra: float, dec: float, radius: float) -> None:
    ranges = cone_cover(ra, dec, radius)
    # At most MAX_RANGES, and up to twice as many more for pgsphere's carried keys near face edges.
    assert ranges is not None and 1 <= len(ranges) <= 3 * MAX_RANGES
    for (low, high), (next_low, _) in zip(ranges, ranges[1:], strict=False):
        assert low <= high < next_low - 1  # sorted, disjoint, not touching (those are merged)
    assert ranges[-1][1] < 16 * 4**KEY_ORDER  # carried keys (pgsphere) reach past the 12 faces


def test_a_small_cone_is_covered_at_the_key_order_by_a_few_keys() -> None:
    ranges = cone_cover(30.0, 10.0, 1 / 3600)
    assert ranges is not None
    assert sum(high - low + 1 for low, high in ranges) <= 4


def test_a_cone_cover_is_tight_enough_to_prune() -> None:
    # A 0.5 degree cone (0.785 square degrees) within a few times its area.
    ranges = cone_cover(10.0, 20.0, 0.5)
    assert ranges is not None
    area = sum(high - low + 1 for low, high in ranges) * 41253 / KEY_CELLS
    assert area < 8


@pytest.mark.parametrize(("ra", "dec"), [(0.0, 90.0), (77.0, 89.8), (45.0, 0.0), (0.0, 60.0), (200.0, -90.0)])
def test_a_cone_on_a_face_corner_or_edge_keeps_a_small_cover(ra: float, dec: float) -> None:
    # pgsphere's carried keys lie in other faces: coarsened with the rest, they widened a 0.5
    # degree cone at the pole to a third of the sky.
    ranges = cone_cover(ra, dec, 0.5)
    assert ranges is not None
    assert sum(high - low + 1 for low, high in ranges) * 41253 / KEY_CELLS < 10


@pytest.mark.parametrize("radius", [180.0, 179.99999999])
def test_a_cone_over_the_whole_sky_gets_no_cover(radius: float) -> None:
    assert cone_cover(10.0, 20.0, radius) is None


@pytest.mark.parametrize(("ra", "dec", "radius"), [(10.0, 91.0, 1.0), (10.0, 0.0, -1.0), (math.nan, 0.0, 1.0)])
def test_a_cone_pgsphere_would_not_accept_gets_no_cover(ra: float, dec: float, radius: float) -> None:
    assert cone_cover(ra, dec, radius) is None


def test_cells_become_merged_key_ranges() -> None:
    assert cell_ranges([0], 0) == ((0, 4**12 - 1),)
    assert cell_ranges([5, 4, 7], 11) == ((16, 23), (28, 31))
    assert cell_ranges([3], 12) == ((3, 3),)


def test_coarsening_widens_ranges_to_whole_cells_until_few_are_left() -> None:
    fine = tuple((4 * i, 4 * i) for i in range(100))  # 100 keys, each alone in its order-11 cell
    coarse = coarsened(fine, max_ranges=30)
    assert coarse == ((0, 399),)
    assert coarsened(fine, max_ranges=100) == fine


def unit(ra: float, dec: float) -> np.ndarray:
    a, d = math.radians(ra), math.radians(dec)
    return np.array([math.cos(d) * math.cos(a), math.cos(d) * math.sin(a), math.sin(d)])


def test_polygon_cover_holds_the_polygons_edges() -> None:
    vertices = [(359.5, -1.0), (1.0, -0.5), (0.5, 1.0), (359.8, 0.8)]  # across RA 0/360
    ranges = polygon_cover(vertices)
    assert ranges is not None and len(ranges) <= MAX_RANGES
    points = []
    for a, b in zip(vertices, vertices[1:] + vertices[:1], strict=True):
        for t in np.linspace(0, 1, 500):  # along the great-circle arc from a to b
            v = (1 - t) * unit(*a) + t * unit(*b)
            v /= np.linalg.norm(v)
            points.append((math.degrees(math.atan2(v[1], v[0])) % 360, math.degrees(math.asin(v[2]))))
    ras, decs = (np.array(c) for c in zip(*points, strict=True))
    assert in_ranges(keys_of(ras, decs), ranges).all()


@pytest.mark.parametrize(
    "vertices",
    [
        [(10.0, 20.0), (20.0, 21.0), (20.0, 21.2), (10.0, 20.2)],  # thin and slanted
        [(101.0, -27.0), (103.0, -30.0), (100.0, -30.0)],  # clockwise
        [(0.0, 85.0), (120.0, 85.0), (240.0, 85.0)],  # around the pole
        box_vertices(0.0, 0.0, 2.0, 2.0),
    ],
)
def test_polygon_cover_holds_points_inside_convex_polygons(vertices: list[tuple[float, float]]) -> None:
    ranges = polygon_cover(vertices)
    assert ranges is not None
    weights = np.random.default_rng(3).dirichlet(np.ones(len(vertices)), 5000)
    inside = weights @ np.array([unit(*v) for v in vertices])  # convex combinations, on the sphere
    inside /= np.linalg.norm(inside, axis=1, keepdims=True)
    ras, decs = np.degrees(np.arctan2(inside[:, 1], inside[:, 0])) % 360, np.degrees(np.arcsin(inside[:, 2]))
    assert in_ranges(keys_of(ras, decs), ranges).all()
    pgsphere_keys = [pgsphere_healpix_nest(KEY_ORDER, a, d) for a, d in zip(ras[:300], decs[:300], strict=True)]
    assert in_ranges(np.array(pgsphere_keys), ranges).all()


def test_bounding_cone_of_a_box_reaches_its_corners() -> None:
    corners = box_vertices(10.0, 20.0, 2.0, 1.0)
    cone = bounding_cone(corners)
    assert cone is not None
    ra, dec, radius = cone
    distances = angular_distance(np.array([c[0] for c in corners]), np.array([c[1] for c in corners]), ra, dec)
    assert (distances <= radius + 1e-9).all()


def test_a_polygon_larger_than_a_hemisphere_gets_no_cover() -> None:
    assert polygon_cover([(0.0, 0.0), (120.0, 0.0), (240.0, 0.0)]) is None
    assert polygon_cover([(0.0, 30.0), (90.0, -40.0), (180.0, 30.0), (270.0, -40.0)]) is None


def test_moc_cover_is_the_mocs_cells_as_key_ranges() -> None:
    assert moc_cover("1/8") == ((8 * 4**11, 9 * 4**11 - 1),)  # away from the far edges: no carried keys
    assert moc_cover("12/7-9 14/160") == ((7, 10),)  # 14/160 is in key cell 10
    assert moc_cover("11/1,3") == ((4, 7), (12, 15))


@pytest.mark.parametrize("text", ["0/0-11", "", "not a moc", "3/", "0/12", "30/1"])
def test_a_moc_of_the_whole_sky_or_not_a_moc_gets_no_cover(text: str) -> None:
    assert moc_cover(text) is None


# --- where the translator adds covers --------------------------------------------------------------
C = ColumnMeta
KEYED = TableMeta(
    "cat",
    "keyed",
    (C("id", "long"), C("ra", "double", unit="deg"), C("dec", "double", unit="deg"), C("mag", "double")),
    position_key=PositionKey("ra", "dec"),
)
PLAIN = TableMeta("cat", "plain", (C("id", "long"), C("ra", "double"), C("dec", "double")))
CATALOG = Catalog.of([KEYED, PLAIN])
KEY = 'healpix_nest(12, spoint(radians(t0."ra"), radians(t0."dec")))'
CONE = "CIRCLE(POINT(10, 20), 0.5)"


def sql_of(adql: str) -> str:
    return to_postgres(adql, CATALOG).sql


@pytest.mark.parametrize(
    "where",
    [
        f"CONTAINS(POINT(ra, dec), {CONE}) = 1",
        f"1 = CONTAINS(POINT(ra, dec), {CONE})",
        f"INTERSECTS(POINT(ra, dec), {CONE}) = 1",
        f"INTERSECTS({CONE}, POINT(ra, dec)) = 1",
        "DISTANCE(POINT(ra, dec), POINT(10, 20)) < 0.5",
        "0.5 > DISTANCE(POINT(10, 20), POINT(ra, dec))",
        "CONTAINS(POINT(ra, dec), POLYGON(9, 19, 11, 19, 10, 21)) = 1",
        "CONTAINS(POINT(ra, dec), BOX(POINT(10, 20), 1, 1)) = 1",
        "CONTAINS(POINT(ra, dec), MOC('8/1000-1010')) = 1",
        f"mag < 20 AND CONTAINS(POINT(ra, dec), {CONE}) = 1",
    ],
)
def test_a_point_in_a_constant_region_on_a_keyed_table_gets_a_key_cover(where: str) -> None:
    sql = sql_of(f"SELECT id FROM cat.keyed WHERE {where}")
    assert f"{KEY} BETWEEN " in sql
    assert "<@" in sql  # the exact test stays


@pytest.mark.parametrize(
    "query",
    [
        f"SELECT id FROM cat.plain WHERE CONTAINS(POINT(ra, dec), {CONE}) = 1",  # no key
        f"SELECT id FROM cat.keyed WHERE CONTAINS(POINT(dec, ra), {CONE}) = 1",  # not the key's columns
        f"SELECT id FROM cat.keyed WHERE CONTAINS(POINT(ra, dec), {CONE}) = 0",  # NOT: no
        f"SELECT id FROM cat.keyed WHERE NOT (CONTAINS(POINT(ra, dec), {CONE}) = 1 AND mag < 3)",
        "SELECT id FROM cat.keyed WHERE CONTAINS(POINT(ra, dec), CIRCLE(POINT(ra, 20), 0.5)) = 1",  # not constant
        "SELECT id FROM cat.keyed WHERE CONTAINS(POINT(ra, dec), MOC('0/0-11')) = 1",  # the whole sky
        f"SELECT CONTAINS(POINT(ra, dec), {CONE}) AS inside FROM cat.keyed",  # a value, not a condition
        f"SELECT id FROM cat.keyed WHERE (CASE WHEN CONTAINS(POINT(ra, dec), {CONE}) = 1 THEN 1 ELSE 0 END) = 1",
    ],
)
def test_no_cover_where_it_is_not_implied_or_not_constant(query: str) -> None:
    assert "healpix_nest" not in sql_of(query)


def test_a_cover_inside_an_or_stays_in_its_branch() -> None:
    sql = sql_of(
        "SELECT id FROM cat.keyed WHERE CONTAINS(POINT(ra, dec), CIRCLE(POINT(10, 20), 0.1)) = 1 "
        "OR CONTAINS(POINT(ra, dec), CIRCLE(POINT(200, -40), 0.1)) = 1"
    )
    where = sql.split(" WHERE ", 1)[1]
    # ((test1 AND cover1) OR (test2 AND cover2)): each branch is its own test and cover.
    first, second = where[1:-1].split(")) OR ((", 1)
    for branch in (first, second):
        assert branch.count("<@") == 1 and branch.count(f"{KEY} BETWEEN") >= 1


def test_a_join_on_condition_gets_a_cover_for_the_keyed_side() -> None:
    sql = sql_of(
        "SELECT k.id FROM cat.plain AS p JOIN cat.keyed AS k ON p.id = k.id "
        f"AND CONTAINS(POINT(k.ra, k.dec), {CONE}) = 1"
    )
    on = sql.split(" ON ", 1)[1]
    assert 'healpix_nest(12, spoint(radians(t1."ra"), radians(t1."dec"))) BETWEEN' in on


def test_the_cover_ranges_are_written_as_between_on_the_key_expression() -> None:
    ranges = cone_cover(10.0, 20.0, 0.5)
    assert ranges is not None
    expected = "(" + " OR ".join(f"{KEY} BETWEEN {a} AND {b}" for a, b in ranges) + ")"
    assert expected in sql_of(f"SELECT id FROM cat.keyed WHERE CONTAINS(POINT(ra, dec), {CONE}) = 1")


# --- pgsphere 1.2's keys of points on the base faces' far edges -------------------------------------
@pytest.mark.parametrize(
    ("order", "ra", "dec", "key"),
    [(0, 0.0, 42.0, 2), (0, 45.0, 0.0, 7), (5, 90.0, 89.5, 3413), (12, 0.0, 89.49745943522487, 39145744)],
)
def test_the_port_of_pgsphere_gives_the_keys_pgsphere_gave(order: int, ra: float, dec: float, key: int) -> None:
    assert pgsphere_healpix_nest(order, ra, dec) == key


# Points pgsphere keys into another face: the poles, RA 0/90/180/270 in the polar caps, RA 45 +
# 90k on the equator.
EDGE_POINTS = [
    (0.0, 90.0),
    (0.0, -90.0),
    *((ra, dec) for ra in (0.0, 90.0, 180.0, 270.0) for dec in (42.0, 60.0, 89.5, -42.0, -60.0, -89.5)),
    *((ra, 0.0) for ra in (45.0, 135.0, 225.0, 315.0)),
]


@pytest.mark.parametrize(("ra", "dec"), EDGE_POINTS)
def test_covers_hold_the_key_pgsphere_gives_points_on_face_edges(ra: float, dec: float) -> None:
    key = pgsphere_healpix_nest(KEY_ORDER, ra, dec)
    for radius in (1 / 3600, 0.05, 1.0, 10.0):
        for bearing in (0.0, 1.0, 2.5, 4.0):
            centre_ra, centre_dec = offsets(ra, dec, np.array([radius / 2]), np.array([bearing]))
            ranges = cone_cover(float(centre_ra[0]), float(centre_dec[0]), radius)
            assert ranges is not None and any(low <= key <= high for low, high in ranges), (radius, bearing)
    ranges = cone_cover(ra, dec, 0.0)
    assert ranges is not None and any(low <= key <= high for low, high in ranges)


def test_the_port_agrees_with_healpix_away_from_face_edges() -> None:
    rng = np.random.default_rng(1)
    ra, dec = rng.uniform(0, 360, 2000), np.degrees(np.arcsin(rng.uniform(-1, 1, 2000)))
    assert [pgsphere_healpix_nest(KEY_ORDER, a, d) for a, d in zip(ra, dec, strict=True)] == keys_of(ra, dec).tolist()


def test_carried_keys_are_added_only_for_face_edge_cells() -> None:
    inside = cell_ranges([5], 12)  # a cell in the middle of face 0: nothing to add
    assert with_carried_keys(inside) == inside
    north_corner = ((4**12 - 1, 4**12 - 1),)  # face 0's far corner, where the north pole is
    assert with_carried_keys(north_corner) == (
        (4**12 - 1, 4**12 - 1),
        (4**12 + 2 * 0x555555, 4**12 + 2 * 0x555555),  # x carried: face 1, x = 0, y = nside - 1
        (2 * 4**12 + 0x555555, 2 * 4**12 + 0x555555),  # y carried: face 2, x = nside - 1, y = 0
        (3 * 4**12, 3 * 4**12),  # both: face 3, x = y = 0
    )
