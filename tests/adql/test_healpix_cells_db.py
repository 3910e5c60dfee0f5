"""The HEALPix cells users read: ``dalserver.healpix_nest_exact`` (ADQL's ``ivo_healpix_index``,
the registry's catalogue coverage) gives cdshealpix's cell on random points, and on base-face
edges, where pgsphere 1.2's ``healpix_nest`` is one to three faces out, a cell the point lies on
(exactly on a boundary libraries choose differently: the check is that the cell holds the point).
``ivo_healpix_center`` (pgsphere's ``centre_of_healpix_nest``) gives cdshealpix's centres."""

from __future__ import annotations

import math
import uuid

import astropy.units as u
import numpy as np
import psycopg
import pytest
import pyvo
from astropy.table import Table
from cdshealpix import nested

from archive_io.coverage import DEFAULT_ORDER, moc_from_ascii
from archive_io.registry_state import catalog_state_key, record_catalog
from schemas.model import TableDef
from tests.support.pgsphere_healpix import pgsphere_healpix_nest

ORDERS = [0, 1, 5, 12, 29]
POLAR_EDGE = 41.8103148957786  # asin(2/3): where the polar caps meet the equatorial band


def _cells(db: psycopg.Connection, order: int, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    rows = db.execute(
        "SELECT dalserver.healpix_nest_exact(%s, r, d) FROM unnest(%s::float8[], %s::float8[]) "
        "WITH ORDINALITY AS t(r, d, i) ORDER BY i",
        (order, ra.tolist(), dec.tolist()),
    ).fetchall()
    return np.array([c for (c,) in rows], dtype=np.int64)


def _cds(order: int, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    return nested.lonlat_to_healpix(ra * u.deg, dec * u.deg, order).astype(np.int64)


def _unit(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    a, d = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(d) * np.cos(a), np.cos(d) * np.sin(a), np.sin(d)], axis=-1)


def _hold(order: int, cells: np.ndarray, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Whether each cell holds its point on its boundary or inside: the point moved 1e-12 rad
    towards the cell's centre (a point at the centre stays) lies in the cell (by cdshealpix)."""
    lon, lat = nested.healpix_to_lonlat(cells.astype(np.uint64), order)
    p, c = _unit(ra, dec), _unit(lon.to_value(u.deg), lat.to_value(u.deg))
    towards = c - (p * c).sum(axis=-1, keepdims=True) * p
    length = np.linalg.norm(towards, axis=-1, keepdims=True)
    towards = np.divide(towards, length, out=np.zeros_like(towards), where=length > 1e-15)  # at the centre: stays
    q = p * math.cos(1e-12) + towards * math.sin(1e-12)
    moved_ra = np.degrees(np.arctan2(q[:, 1], q[:, 0])) % 360.0
    moved_dec = np.degrees(np.arcsin(np.clip(q[:, 2], -1.0, 1.0)))
    return _cds(order, moved_ra, moved_dec) == cells


def _face_edge_points() -> tuple[np.ndarray, np.ndarray]:
    """Every class of base-face edge: the poles at many RAs, the meridians RA = 90k (also written
    as 360, -0.0, 720, -90 and a few ulps off) at all declinations, the corners at dec 0 and
    +-41.81, and the equatorial faces' NE/NW edge lines 0.5 + RA/90 -+ 0.75 sin(dec) = k."""
    points: list[tuple[float, float]] = []
    decs = [*np.linspace(-90, 90, 721).tolist(), POLAR_EDGE, -POLAR_EDGE, 89.497, 89.999999999, -89.999999999]
    for ra in (0.0, 90.0, 180.0, 270.0, 360.0, -0.0, 720.0, -90.0, 1e-15, 90 - 1e-14):
        points += [(ra, d) for d in decs]
    for ra in np.arange(0, 720, 22.5).tolist():
        points += [(ra, 0.0), (ra, 90.0), (ra, -90.0), (ra, POLAR_EDGE), (ra, -POLAR_EDGE)]
    for tt in np.linspace(0, 4, 1601).tolist():
        for k in range(6):
            for sign in (1, -1):
                z = sign * (0.5 + tt - k) / 0.75
                if abs(z) <= 2 / 3:
                    points.append((tt * 90, math.degrees(math.asin(z))))
    return np.array([p[0] for p in points]), np.array([p[1] for p in points])


@pytest.mark.parametrize("order", ORDERS)
def test_cells_are_cdshealpix_cells_on_random_points(db: psycopg.Connection, order: int) -> None:
    rng = np.random.default_rng(order)
    n = 200_000
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    np.testing.assert_array_equal(_cells(db, order, ra, dec), _cds(order, ra, dec))


@pytest.mark.parametrize("order", ORDERS)
def test_points_on_base_face_edges_get_a_cell_they_lie_on(db: psycopg.Connection, order: int) -> None:
    ra, dec = _face_edge_points()
    cells = _cells(db, order, ra, dec)
    assert ((cells >= 0) & (cells < 12 * 4**order)).all()
    held = _hold(order, cells, ra, dec)
    assert held.all(), list(zip(ra[~held][:5], dec[~held][:5], cells[~held][:5], strict=True))
    # The points pgsphere carries into another face are among them, in every class.
    carried = np.array([pgsphere_healpix_nest(order, a, d) for a, d in zip(ra, dec, strict=True)]) != cells
    assert carried.sum() > 100
    for ra_off, dec_off in [(0.0, 90.0), (0.0, 89.497), (45.0, 0.0), (90.0, 60.0), (270.0, 50.0)]:
        assert carried[(ra == ra_off) & (dec == dec_off)].all(), (ra_off, dec_off)


@pytest.mark.parametrize("order", ORDERS)
def test_poles_and_ra_0_and_360_get_cdshealpix_cells(db: psycopg.Connection, order: int) -> None:
    ra = np.array([0.0, 360.0, 123.4, 0.0, 360.0, 359.9999999, 0.0, 360.0, -0.0, 720.0, 0.0, 360.0])
    dec = np.array([90.0, 90.0, 90.0, -90.0, -90.0, 89.9, 89.497, 89.497, 60.0, 60.0, 10.0, -10.0])
    np.testing.assert_array_equal(_cells(db, order, ra, dec), _cds(order, ra % 360, dec))


@pytest.mark.parametrize("order", ORDERS)
def test_ra_within_pgsphere_tolerance_of_360_gets_a_cell_on_ra_0(db: psycopg.Connection, order: int) -> None:
    # pgsphere takes a longitude within 1e-9 rad of 2 pi for 0 (and healpix_nest carries it two
    # faces on): the cell is one that RA 0 lies on, a neighbour of cdshealpix's within 1e-9 rad.
    dec = np.array([-89.0, -60.0, -45.0, 45.0, 63.017453718973144, 80.0, 89.9])
    for ra in (360 - 3.6e-10, -3.6e-10, 720 - 1e-9):
        cells = _cells(db, order, np.full(dec.size, ra), dec)
        assert _hold(order, cells, np.zeros(dec.size), dec).all(), ra


def test_cells_are_null_for_null_positions(db: psycopg.Connection) -> None:
    got = db.execute(
        "SELECT dalserver.healpix_nest_exact(5, NULL, 1), dalserver.healpix_nest_exact(5, 1, NULL)"
    ).fetchone()
    assert got == (None, None)


def test_the_cell_function_is_inlined_into_the_query(db: psycopg.Connection) -> None:
    plan = db.execute(
        "EXPLAIN VERBOSE SELECT dalserver.healpix_nest_exact(12, g::float8, g::float8) FROM generate_series(1, 3) AS g"
    ).fetchall()
    text = "\n".join(line for (line,) in plan)
    assert "healpix_nest(12, spoint(" in text and "healpix_nest_exact" not in text


@pytest.mark.parametrize("order", ORDERS)
def test_centres_are_cdshealpix_centres(db: psycopg.Connection, order: int) -> None:
    rng = np.random.default_rng(100 + order)
    cells = np.unique(rng.integers(0, 12 * 4**order, 5000, dtype=np.int64))
    if order <= 1:
        cells = np.arange(12 * 4**order, dtype=np.int64)
    rows = db.execute(
        "SELECT long(c), lat(c) FROM (SELECT centre_of_healpix_nest(%s, k) AS c FROM unnest(%s::bigint[]) "
        "WITH ORDINALITY AS t(k, i) ORDER BY i) AS s",
        (order, cells.tolist()),
    ).fetchall()
    got = _unit(np.degrees([r for r, _ in rows]), np.degrees([d for _, d in rows]))
    lon, lat = nested.healpix_to_lonlat(cells.astype(np.uint64), order)
    want = _unit(lon.to_value(u.deg), lat.to_value(u.deg))
    assert np.linalg.norm(got - want, axis=-1).max() < 1e-12
    # A centre is in its own cell.
    np.testing.assert_array_equal(
        _cells(db, order, np.degrees([r for r, _ in rows]), np.degrees([d for _, d in rows])), cells
    )


def test_ivo_healpix_index_through_tap_sync_gives_the_true_cells_on_face_edges(tap_url: str) -> None:
    ra = [0.0, 0.0, 45.0, 90.0, 270.0, 10.0, 360.0]
    dec = [90.0, 89.497, 0.0, 60.0, 50.0, 20.0, 89.9]
    points = Table({"id": list(range(len(ra))), "ra": ra, "dec": dec})
    query = (
        "SELECT p.id, ivo_healpix_index(12, p.ra, p.dec) AS cell, "
        "COORD1(ivo_healpix_center(12, ivo_healpix_index(12, p.ra, p.dec))) AS cra, "
        "COORD2(ivo_healpix_center(12, ivo_healpix_index(12, p.ra, p.dec))) AS cdec "
        "FROM TAP_UPLOAD.pts AS p ORDER BY p.id"
    )
    got = pyvo.dal.TAPService(tap_url).run_sync(query, uploads={"pts": points}).to_table()
    cells = np.asarray(got["cell"], dtype=np.int64)
    assert cells.tolist()[0:2] == [16777215, 16776111]  # the pole and RA 0 dec 89.497: face 0's edge
    assert _hold(12, cells, np.array(ra), np.array(dec)).all()
    assert [pgsphere_healpix_nest(12, a, d) for a, d in zip(ra, dec, strict=True)][0:2] != cells.tolist()[0:2]
    # Each centre is within a cell's size of its point (pgsphere's carried cells were 48 degrees off).
    distance = np.degrees(
        np.arccos(np.clip((_unit(np.array(ra), np.array(dec)) * _unit(got["cra"], got["cdec"])).sum(-1), -1, 1))
    )
    assert distance.max() < 0.02


def test_catalogue_coverage_holds_a_row_at_the_pole_in_its_true_cell(db: psycopg.Connection) -> None:
    schema = f"hpxcov_{uuid.uuid4().hex[:8]}"
    ra = [0.0, 0.0, 90.0, 10.0]
    dec = [90.0, 89.497, 60.0, 20.0]
    table = TableDef(schema=schema, name="stars", position=("ra", "dec"))
    # Rolled back: the test leaves neither the table nor its record behind.
    with db.transaction(force_rollback=True):
        db.execute(f"CREATE SCHEMA {schema}")
        db.execute(f"CREATE TABLE {schema}.stars (ra double precision, dec double precision)")
        db.execute(f"INSERT INTO {schema}.stars SELECT * FROM unnest(%s::float8[], %s::float8[])", (ra, dec))
        record_catalog(db, table, len(ra))
        row = db.execute(
            "SELECT moc FROM registry.resource_state WHERE resource_key = %s",
            (catalog_state_key(table.qualified_name),),
        ).fetchone()
    assert row is not None
    held = moc_from_ascii(row[0])
    cells = _cds(DEFAULT_ORDER, np.array(ra), np.array(dec))
    assert set(held.flatten().tolist()) == set(cells.tolist())
    assert held.contains_lonlat(np.array(ra) * u.deg, np.array(dec) * u.deg).all()


@pytest.mark.parametrize("order", [-1, 30])
def test_ivo_healpix_index_of_an_order_outside_0_to_29_is_a_clear_error(tap_url: str, order: int) -> None:
    points = Table({"ra": [10.0, 0.0], "dec": [20.0, 90.0]})
    query = f"SELECT ivo_healpix_index({order}, p.ra, p.dec) AS cell FROM TAP_UPLOAD.pts AS p"
    with pytest.raises(pyvo.dal.DALQueryError, match=r"(?i)healpix level out of valid range"):
        pyvo.dal.TAPService(tap_url).run_sync(query, uploads={"pts": points})
