"""Queries written by other implementers and by the IVOA that the translator once answered
wrongly or refused (issue #10), run on the real database: every result is checked against one
computed independently, in Python or numpy over rows fetched with plain SQL."""

from __future__ import annotations

import math
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adql import Catalog, to_postgres
from pgsql_text.private_schema import REFUSAL_SQLSTATE

TOTAL = 132  # rows of ivoa.obscore in the test archive


def rows(db: psycopg.Connection, catalog: Catalog, adql: str) -> list[tuple[Any, ...]]:
    return db.execute(to_postgres(adql, catalog).sql).fetchall()


def plain(db: psycopg.Connection, sql: str) -> list[tuple[Any, ...]]:
    return db.execute(sql).fetchall()


def adql_round(value: float | int, places: int = 0) -> float:
    """ADQL ROUND: half away from zero, on the value PostgreSQL's numeric sees (15 digits)."""
    exact = Decimal(format(value, ".15g")) if isinstance(value, float) else Decimal(value)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


# --- a select alias that is also a column name -----------------------------------------------------
def test_group_by_an_alias_that_is_a_column_name_groups_by_the_alias(db: psycopg.Connection, catalog: Catalog) -> None:
    got = rows(db, catalog, "SELECT COUNT(*) AS n, ROUND(s_ra) AS s_ra FROM ivoa.obscore GROUP BY s_ra")
    counts = Counter(adql_round(ra) for (ra,) in plain(db, "SELECT s_ra FROM ivoa.obscore"))
    assert sorted((float(r), n) for n, r in got) == sorted((r, n) for r, n in counts.items())
    assert len(got) < TOTAL


def test_order_by_an_alias_that_is_a_column_name_orders_by_the_alias(db: psycopg.Connection, catalog: Catalog) -> None:
    got = rows(db, catalog, "SELECT obs_id, -s_ra AS s_ra FROM ivoa.obscore ORDER BY s_ra, obs_id")
    expected = sorted(
        ((o, -ra) for o, ra in plain(db, "SELECT obs_id, s_ra FROM ivoa.obscore")), key=lambda r: (r[1], r[0])
    )
    assert got == expected


def test_alias_clashes_inside_subqueries_set_operations_and_having(db: psycopg.Connection, catalog: Catalog) -> None:
    decs = [d for (d,) in plain(db, "SELECT s_dec FROM ivoa.obscore")]
    by_degree = Counter(adql_round(d) for d in decs)
    got = rows(
        db,
        catalog,
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n, ROUND(s_dec) AS s_dec FROM ivoa.obscore GROUP BY s_dec) AS g",
    )
    assert got == [(max(by_degree.values()),)]
    got = rows(
        db,
        catalog,
        "SELECT ROUND(s_dec) AS s_dec FROM ivoa.obscore UNION SELECT s_dec FROM ivoa.obscore WHERE s_dec < -5.4 "
        "ORDER BY s_dec DESC",
    )
    assert [r[0] for r in got] == sorted({adql_round(d) for d in decs} | {d for d in decs if d < -5.4}, reverse=True)
    got = rows(
        db,
        catalog,
        "SELECT ROUND(s_dec, 1) AS s_dec, COUNT(*) AS n FROM ivoa.obscore GROUP BY s_dec HAVING COUNT(*) > 10 "
        "ORDER BY s_dec",
    )
    tenths = Counter(adql_round(d, 1) for d in decs)
    assert got == sorted((d, n) for d, n in tenths.items() if n > 10)


def test_group_by_a_constant_makes_one_group(db: psycopg.Connection, catalog: Catalog) -> None:
    assert rows(db, catalog, "SELECT COUNT(*) FROM ivoa.obscore GROUP BY 1") == [(TOTAL,)]


ROUNDED_COLUMNS = ["s_ra", "s_dec", "s_fov", "t_min", "t_exptime", "calib_level", "access_estsize", "s_xel1"]
NAMES = [*ROUNDED_COLUMNS, "obs_id", "em_min", "t_max", "n", "x"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    column=st.sampled_from(ROUNDED_COLUMNS),
    alias=st.sampled_from(NAMES),
    places=st.integers(min_value=-1, max_value=1),
    descending=st.booleans(),
    grouped=st.booleans(),
)
def test_aliases_named_like_columns_never_change_a_result(
    db: psycopg.Connection, catalog: Catalog, column: str, alias: str, places: int, descending: bool, grouped: bool
) -> None:
    values = [v for (v,) in plain(db, f"SELECT {column} FROM ivoa.obscore")]
    direction = "DESC" if descending else "ASC"
    count_alias = "k" if alias != "k" else "kk"
    if grouped:
        adql = (
            f"SELECT ROUND({column}, {places}) AS {alias}, COUNT(*) AS {count_alias} FROM ivoa.obscore "
            f"GROUP BY {alias} ORDER BY {alias} {direction}"
        )
        counts = Counter(adql_round(v, places) for v in values)
        expected: list[tuple[Any, ...]] = sorted(counts.items(), reverse=descending)
    else:
        adql = f"SELECT -{column} AS {alias} FROM ivoa.obscore ORDER BY {alias} {direction}"
        expected = [(v,) for v in sorted((-v for v in values), reverse=descending)]
    got = rows(db, catalog, adql)
    assert [tuple(float(x) for x in r) for r in got] == [tuple(float(x) for x in r) for r in expected], adql


# --- MOD of doubles ---------------------------------------------------------------------------------
def test_mod_of_doubles_is_the_remainder_with_the_sign_of_the_dividend(
    db: psycopg.Connection, catalog: Catalog
) -> None:
    got = rows(
        db,
        catalog,
        "SELECT s_ra, s_dec, MOD(s_ra, 10), MOD(s_dec, 0.7), MOD(7.14, 4), MOD(-7.5, 2), MOD(calib_level, 2), "
        "MOD(s_dec, -3) FROM ivoa.obscore",
    )
    assert len(got) == TOTAL
    for ra, dec, a, b, c, d, e, f in got:
        assert a == pytest.approx(math.fmod(ra, 10), abs=1e-12)
        assert b == pytest.approx(math.fmod(dec, 0.7), abs=1e-12)
        assert (c, d, e) == (pytest.approx(math.fmod(7.14, 4), abs=1e-15), -1.5, 1)
        assert f == pytest.approx(math.fmod(dec, -3), abs=1e-12)


# --- CONTAINS(circle, point) --------------------------------------------------------------------------
def test_a_circle_lies_in_a_point_only_when_it_is_that_point(db: psycopg.Connection, catalog: Catalog) -> None:
    got = rows(
        db,
        catalog,
        "SELECT CONTAINS(CIRCLE(s_ra, s_dec, 0), POINT(s_ra, s_dec)), CONTAINS(CIRCLE(s_ra, s_dec, 0.01), "
        "POINT(s_ra, s_dec)), CONTAINS(CIRCLE(s_ra, s_dec, 0), POINT(s_ra + 1, s_dec)) FROM ivoa.obscore",
    )
    assert got == [(1, 0, 0)] * TOTAL
    assert rows(
        db, catalog, "SELECT COUNT(*) FROM ivoa.obscore WHERE CONTAINS(CIRCLE(s_ra, s_dec, 0), POINT(s_ra, s_dec)) = 1"
    ) == [(TOTAL,)]


# --- parenthesised set operands ---------------------------------------------------------------------
def test_parenthesised_set_operands_keep_their_own_order_limits_and_grouping(
    db: psycopg.Connection, catalog: Catalog
) -> None:
    ids = sorted(o for (o,) in plain(db, "SELECT obs_id FROM ivoa.obscore"))
    got = rows(
        db,
        catalog,
        "(SELECT TOP 3 obs_id FROM ivoa.obscore ORDER BY obs_id) UNION "
        "(SELECT TOP 2 obs_id FROM ivoa.obscore ORDER BY obs_id DESC) ORDER BY 1",
    )
    assert [r[0] for r in got] == sorted(ids[:3] + ids[-2:])
    bands = plain(db, "SELECT em_band_name, s_dec, s_ra FROM ivoa.obscore")
    a = {b for b, _, _ in bands}
    low = {b for b, dec, _ in bands if dec < -5.3}
    east = {b for b, _, ra in bands if ra > 34.5}
    got = rows(
        db,
        catalog,
        "SELECT em_band_name FROM ivoa.obscore EXCEPT (SELECT em_band_name FROM ivoa.obscore WHERE s_dec < -5.3 "
        "UNION SELECT em_band_name FROM ivoa.obscore WHERE s_ra > 34.5)",
    )
    assert {r[0] for r in got} == a - (low | east)
    north = sorted(o for (o,) in plain(db, "SELECT obs_id FROM ivoa.obscore WHERE s_dec > -5"))
    got = rows(
        db,
        catalog,
        "WITH w AS (SELECT obs_id FROM ivoa.obscore WHERE s_dec > -5) (SELECT obs_id FROM w) UNION "
        "(SELECT obs_id FROM ivoa.obscore ORDER BY obs_id OFFSET 130)",
    )
    assert {r[0] for r in got} == set(north) | set(ids[130:])


# --- names and literals ---------------------------------------------------------------------------------
def test_reserved_word_columns_written_delimited_read_the_column(db: psycopg.Connection, catalog: Catalog) -> None:
    got = rows(db, catalog, 'SELECT column_name, "size" FROM tap_schema.columns WHERE "size" IS NOT NULL ORDER BY 1')
    assert got == plain(db, 'SELECT column_name, "size" FROM tap_schema.columns WHERE "size" IS NOT NULL ORDER BY 1')


def test_a_string_literal_continues_across_a_comment(db: psycopg.Connection, catalog: Catalog) -> None:
    got = rows(db, catalog, "SELECT COUNT(*) FROM ivoa.obscore WHERE em_band_name = 'W-J-' -- the band's\n 'V'")
    bands = [b for (b,) in plain(db, "SELECT em_band_name FROM ivoa.obscore")]
    assert got == [(bands.count("W-J-V"),)]


# --- CENTROID of polygons ---------------------------------------------------------------------------------
def _vectors(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    r, d = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(d) * np.cos(r), np.cos(d) * np.sin(r), np.sin(d)], axis=-1)


def numeric_centroid(vertices: list[tuple[float, float]], steps: int = 700) -> tuple[float, float]:
    """Centre of area by summing a fine ra/dec grid (weighted by cos dec) inside the polygon."""
    ras, decs = np.array([v[0] for v in vertices]), np.array([v[1] for v in vertices])

    def centres(low: float, high: float) -> np.ndarray:  # of the cells, so no point lies on an edge
        edges = np.linspace(low - 0.01 * (high - low), high + 0.01 * (high - low), steps + 1)
        return (edges[:-1] + edges[1:]) / 2

    grid_ra, grid_dec = np.meshgrid(centres(ras.min(), ras.max()), centres(decs.min(), decs.max()), indexing="ij")
    points = _vectors(grid_ra, grid_dec)
    corners = _vectors(ras, decs)
    normals = np.cross(corners, np.roll(corners, -1, axis=0))
    side = np.einsum("...k,nk->...n", points, normals)
    inside = np.all(side > 0, axis=-1) | np.all(side < 0, axis=-1)
    weight = np.cos(np.radians(grid_dec)) * inside
    total = (weight[..., None] * points).sum(axis=(0, 1))
    return math.degrees(math.atan2(total[1], total[0])) % 360, math.degrees(
        math.atan2(total[2], math.hypot(*total[:2]))
    )


def _point(text: str) -> tuple[float, float]:
    """pgsphere's text of a point in degrees, "(34.5d , -5d)"."""
    ra, dec = (float(c.strip(" ()d")) for c in text.split(","))
    return ra, dec


def _polygon_vertices(text: str) -> list[tuple[float, float]]:
    return [_point(pair) for pair in text.strip("{}").split("),(")]


def test_centroid_of_a_footprint_is_its_centre_of_area(db: psycopg.Connection, catalog: Catalog) -> None:
    got = rows(db, catalog, "SELECT TOP 5 obs_id, CENTROID(s_region), s_region FROM ivoa.obscore ORDER BY obs_id")
    assert len(got) == 5
    for _, centroid, region in got:
        ra, dec = _point(centroid)
        expected = numeric_centroid(_polygon_vertices(region))
        assert ra == pytest.approx(expected[0], abs=2e-5) and dec == pytest.approx(expected[1], abs=2e-5)


IRREGULAR = [(10.0, 0.0), (14.0, 1.0), (13.0, 5.0), (9.5, 3.0)]


def test_centroid_of_an_irregular_polygon_constant_or_computed(db: psycopg.Connection, catalog: Catalog) -> None:
    expected = numeric_centroid(IRREGULAR)
    literal = "POLYGON(" + ", ".join(f"{ra}, {dec}" for ra, dec in IRREGULAR) + ")"
    # The same polygon built from a column (0 * s_ra), so that SQL, not Python, computes it.
    computed = "POLYGON(" + ", ".join(f"POINT({ra} + 0 * s_ra, {dec})" for ra, dec in IRREGULAR) + ")"
    got = rows(
        db,
        catalog,
        f"SELECT TOP 1 COORD1(CENTROID({literal})), COORD2(CENTROID({literal})), "
        f"COORD1(CENTROID({computed})), COORD2(CENTROID({computed})) FROM ivoa.obscore",
    )
    (ra1, dec1, ra2, dec2) = got[0]
    for ra, dec in ((ra1, dec1), (ra2, dec2)):
        assert (ra, dec) == (pytest.approx(expected[0], abs=1e-3), pytest.approx(expected[1], abs=1e-3))
    assert (ra1, dec1) == (pytest.approx(ra2, abs=1e-9), pytest.approx(dec2, abs=1e-9))
    vertex_mean = (sum(v[0] for v in IRREGULAR) / 4, sum(v[1] for v in IRREGULAR) / 4)
    assert abs(ra1 - vertex_mean[0]) > 0.05  # the centre of area, not of the vertices


def test_a_computed_circle_radius_over_90_degrees_stops_the_query_with_an_adql_message(
    db: psycopg.Connection, catalog: Catalog
) -> None:
    with pytest.raises(psycopg.Error, match="CIRCLE radii must be 0 to 90 degrees") as refused:
        rows(db, catalog, "SELECT CIRCLE(POINT(s_ra, s_dec), s_fov * 1000) FROM ivoa.obscore")
    assert refused.value.sqlstate == REFUSAL_SQLSTATE  # mapped to a client error by the service
    db.rollback()
    got = rows(
        db, catalog, "SELECT COUNT(*) FROM ivoa.obscore WHERE CONTAINS(POINT(s_ra, s_dec), CIRCLE(34.5, -5, s_fov)) = 1"
    )
    assert got[0][0] > 0


# --- HEALPix UDFs ------------------------------------------------------------------------------------------
def _spread(bits: int) -> int:
    out = 0
    for i in range(30):
        out |= ((bits >> i) & 1) << (2 * i)
    return out


def healpix_nest(order: int, ra: float, dec: float) -> int:
    """Nested HEALPix index (Gorski et al. 2005), written out independently of pgsphere."""
    nside = 1 << order
    z = math.sin(math.radians(dec))
    za = abs(z)
    tt = (math.radians(ra) / (math.pi / 2)) % 4.0
    if za <= 2 / 3:
        temp1, temp2 = nside * (0.5 + tt), nside * z * 0.75
        jp, jm = int(temp1 - temp2), int(temp1 + temp2)
        ifp, ifm = jp >> order, jm >> order
        face = (ifp | 4) if ifp == ifm else (ifp if ifp < ifm else ifm + 8)
        ix, iy = jm & (nside - 1), nside - (jp & (nside - 1)) - 1
    else:
        ntt = min(3, int(tt))
        tp = tt - ntt
        tmp = nside * math.sqrt(3 * (1 - za))
        jp, jm = min(int(tp * tmp), nside - 1), min(int((1 - tp) * tmp), nside - 1)
        face, ix, iy = (ntt, nside - jm - 1, nside - jp - 1) if z >= 0 else (ntt + 8, jp, jm)
    return face * nside * nside + _spread(ix) + (_spread(iy) << 1)


@pytest.mark.parametrize("order", [0, 3, 10, 29])
def test_healpix_index_and_centre(db: psycopg.Connection, catalog: Catalog, order: int) -> None:
    got = rows(
        db,
        catalog,
        f"SELECT s_ra, s_dec, ivo_healpix_index({order}, s_ra, s_dec), "
        f"ivo_healpix_index({order}, COORD1(ivo_healpix_center({order}, ivo_healpix_index({order}, s_ra, s_dec))), "
        f"COORD2(ivo_healpix_center({order}, ivo_healpix_index({order}, s_ra, s_dec)))), "
        f"DISTANCE(POINT(s_ra, s_dec), ivo_healpix_center({order}, ivo_healpix_index({order}, s_ra, s_dec))) "
        "FROM ivoa.obscore",
    )
    cell = math.degrees(math.sqrt(4 * math.pi / (12 * 4**order)))
    for ra, dec, index, of_centre, distance in got:
        assert index == healpix_nest(order, ra, dec)
        assert of_centre == index
        assert distance < cell


# --- IN_UNIT of derived units --------------------------------------------------------------------------------
def test_in_unit_converts_values_whose_unit_follows_from_their_operands(
    db: psycopg.Connection, catalog: Catalog
) -> None:
    got = rows(
        db,
        catalog,
        "SELECT s_fov, em_min, t_exptime, IN_UNIT(s_fov * s_fov, 'arcmin**2'), IN_UNIT(em_min / t_exptime, 'nm/s'), "
        "IN_UNIT(SQRT(s_fov * s_fov), 'arcsec'), IN_UNIT(POWER(s_fov, 2), 'arcsec**2') FROM ivoa.obscore",
    )
    assert len(got) == TOTAL
    for fov, em_min, exptime, square, rate, root, power in got:
        assert square == pytest.approx(fov * fov * 3600, rel=1e-12)
        assert rate == pytest.approx(em_min / exptime * 1e9, rel=1e-12)
        assert root == pytest.approx(fov * 3600, rel=1e-12)
        assert power == pytest.approx(fov**2 * 3600**2, rel=1e-12)
