"""The HEALPix position index (issue 29, point 1): a catalogue ingested with ``position_index:
healpix`` gets a B-tree on its HEALPix key and a dalserver.position_key row, the translator adds
range covers on the key, and every query answers exactly the rows a GiST-indexed copy does:
cones at the poles, across RA 0/360, tiny and huge, polygons, BOXes, MOCs, DISTANCE, OR and NOT,
joins and uploads. The data hold rows on the queries' edges and at HEALPix cell corners there."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import astropy.units as u
import numpy as np
import psycopg
import pytest
import pyvo
from astropy.coordinates import Latitude, Longitude
from astropy.table import Table
from cdshealpix import nested

from adql import to_postgres
from tests.support.archive import Archive, load_catalog

KEYED, PLAIN = "hpxcats.keyed", "hpxcats.plain"

# (ra, dec, radius) of the cones the queries use; rows are placed on their edges.
CONES = [
    (10.0, 20.0, 0.5),
    (0.0, 0.0, 1.0),
    (359.9, -30.0, 0.4),
    (77.0, 89.8, 0.5),
    (200.0, -90.0, 1.5),
    (123.4, 41.8103, 0.2),
    (45.0, 45.0, 2 / 3600),
    (300.0, -60.0, 25.0),
]


def _offsets(ra: float, dec: float, distance: np.ndarray, bearing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d, a0, d0 = np.radians(distance), math.radians(ra), math.radians(dec)
    sin_dec = np.sin(d0) * np.cos(d) + np.cos(d0) * np.sin(d) * np.cos(bearing)
    dec2 = np.degrees(np.arcsin(np.clip(sin_dec, -1, 1)))
    ra2 = a0 + np.arctan2(np.sin(bearing) * np.sin(d) * np.cos(d0), np.cos(d) - np.sin(d0) * sin_dec)
    return np.degrees(ra2) % 360.0, dec2


def _positions() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(29)
    n = 30_000
    ras = [rng.uniform(0, 360, n)]
    decs = [np.degrees(np.arcsin(rng.uniform(-1, 1, n)))]  # uniform on the sky
    for ra, dec, radius in CONES:
        near = 3000
        ring_ra, ring_dec = _offsets(
            ra, dec, radius * np.sqrt(rng.uniform(0, 2.0, near)), rng.uniform(0, 2 * np.pi, near)
        )
        edge_ra, edge_dec = _offsets(ra, dec, np.full(360, radius), np.linspace(0, 2 * np.pi, 360, endpoint=False))
        cells = np.unique(nested.lonlat_to_healpix(Longitude(edge_ra, unit=u.deg), Latitude(edge_dec, unit=u.deg), 12))
        lon, lat = nested.vertices(cells, 12)  # the corners of the key cells on the edge
        ras += [ring_ra, edge_ra, lon.to_value(u.deg).ravel()]
        decs += [ring_dec, edge_dec, lat.to_value(u.deg).ravel()]
    ras += [np.array([0.0, 360.0 - 1e-12, 180.0, 0.0])]
    decs += [np.array([90.0, -90.0, 0.0, 0.0])]
    return np.concatenate(ras), np.concatenate(decs)


def dalserver(archive: Archive, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dalserver", *args], env=archive.env, capture_output=True, text=True)


def ingest(archive: Archive, path: Path, table: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return dalserver(archive, "ingest", "catalog", str(path), "--table", table, "--quiet", *extra)


@pytest.fixture(scope="module")
def catalogue(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The same rows published twice: keyed (HEALPix B-tree, from the sidecar) and plain (GiST);
    dropped afterwards, so the session's archive lists only what later tests expect."""
    folder = tmp_path_factory.mktemp("position_index")
    ra, dec = _positions()
    table = Table({"id": np.arange(ra.size, dtype=np.int64), "ra": ra, "dec": dec})
    table["mag"] = np.random.default_rng(3).uniform(10, 25, ra.size)
    path = folder / "cat.parquet"
    table.write(path)
    (folder / "healpix.yaml").write_text("position: [ra, dec]\nposition_index: healpix\n")
    (folder / "gist.yaml").write_text("position: [ra, dec]\n")
    for name, meta in ((KEYED, "healpix.yaml"), (PLAIN, "gist.yaml")):
        result = ingest(archive, path, name, "--meta", str(folder / meta))
        assert result.returncode == 0, result.stderr
    yield folder
    for name in (KEYED, PLAIN):
        dropped = dalserver(archive, "drop", "catalog", name)
        assert dropped.returncode == 0, dropped.stderr


def _indexes(db: psycopg.Connection, table: str) -> list[str]:
    schema, name = table.split(".")
    return [
        r[0]
        for r in db.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s", (schema, name))
    ]


def test_a_healpix_catalogue_has_a_key_btree_and_a_position_key_row_and_no_gist(
    db: psycopg.Connection, catalogue: Path
) -> None:
    (keyed,) = _indexes(db, KEYED)
    assert 'USING btree (healpix_nest(12, spoint(radians(ra), radians("dec"))))' in keyed
    (plain,) = _indexes(db, PLAIN)
    assert "USING gist" in plain
    rows = db.execute(
        "SELECT table_name, ra_column, dec_column, key_order FROM dalserver.position_key WHERE table_name LIKE 'hpxcats.%'"
    ).fetchall()
    assert rows == [(KEYED, "ra", "dec", 12)]


def test_pgsphere_keys_are_cdshealpix_nested_cells(db: psycopg.Connection, catalogue: Path) -> None:
    # The covers are computed with cdshealpix and compared with keys pgsphere computes.
    ids, ra, dec, key = (
        np.array(c)
        for c in zip(
            *db.execute(f"SELECT id, ra, dec, healpix_nest(12, spoint(radians(ra), radians(dec))) FROM {KEYED}"),
            strict=True,
        )
    )
    ours = nested.lonlat_to_healpix(Longitude(np.mod(ra, 360), unit=u.deg), Latitude(dec, unit=u.deg), 12)
    assert ids.size > 50_000
    # The uniform rows agree exactly; rows placed on cell corners may fall in either cell (the
    # covers allow for that: the tests below hold such rows).
    uniform = ids < 30_000
    assert (np.asarray(ours)[uniform] == key[uniform]).all()


QUERIES = [
    *(
        f"SELECT id FROM {{t}} WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {a}, {d}, {r})) = 1"
        for a, d, r in CONES
    ),
    *(f"SELECT id FROM {{t}} WHERE 1 = CONTAINS(POINT(ra, dec), CIRCLE(POINT({a}, {d}), {r}))" for a, d, r in CONES),
    *(f"SELECT id FROM {{t}} WHERE DISTANCE(POINT(ra, dec), POINT({a}, {d})) <= {r}" for a, d, r in CONES),
    *(f"SELECT id FROM {{t}} WHERE {r} > DISTANCE(POINT({a}, {d}), POINT(ra, dec))" for a, d, r in CONES),
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), CIRCLE(POINT(10, 20), 0)) = 1",
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), CIRCLE(POINT(-0.2, 0.3), 0.5)) = 1",
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), CIRCLE(POINT(370, 20), 0.5)) = 1",
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), CIRCLE(POINT(0, 90), 3)) = 1",
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), CIRCLE(POINT(10, 20), 90)) = 1",
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), POLYGON(359.5, -1, 1, -0.5, 0.5, 1, 359.8, 0.8)) = 1",
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), POLYGON(9, 19, 11, 19.5, 10.5, 21, 9.5, 20.5)) = 1",
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), POLYGON(0, 85, 120, 85, 240, 85)) = 1",
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), POLYGON(240, 85, 120, 85, 0, 85)) = 1",  # clockwise
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), POLYGON(10, 20, 20, 21, 20, 21.2, 10, 20.2)) = 1",  # thin
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), BOX(POINT(10, 20), 1.2, 0.8)) = 1",
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), BOX(POINT(0, 0), 2, 2)) = 1",
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), MOC('6/1000-1040 8/20000-20100')) = 1",
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), MOC('0/0-11')) = 1 AND mag < 10.5",
    "SELECT id FROM {t} WHERE INTERSECTS(CIRCLE(POINT(10, 20), 0.5), POINT(ra, dec)) = 1",
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), CIRCLE(POINT(10, 20), 0.5)) = 1 "
    "OR CONTAINS(POINT(ra, dec), CIRCLE(POINT(0, 0), 1)) = 1",
    "SELECT id FROM {t} WHERE mag < 11 AND NOT (CONTAINS(POINT(ra, dec), CIRCLE(POINT(300, -60), 25)) = 1)",
    "SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), CIRCLE(POINT(300, -60), 25)) = 0 AND mag < 10.2",
    "SELECT id FROM {t} WHERE mag < 12 AND (CONTAINS(POINT(ra, dec), CIRCLE(POINT(10, 20), 0.5)) = 1 OR mag < 10.1)",
    "SELECT a.id FROM {t} AS a JOIN hpxcats.plain AS b ON a.id = b.id "
    "AND CONTAINS(POINT(a.ra, a.dec), CIRCLE(POINT(0, 0), 1)) = 1",
    "SELECT a.id FROM {t} AS a LEFT JOIN hpxcats.plain AS b ON a.id = b.id "
    "AND CONTAINS(POINT(a.ra, a.dec), CIRCLE(POINT(0, 0), 1)) = 1 WHERE a.mag < 10.3 AND b.id IS NULL",
    "SELECT id FROM {t} WHERE id IN (SELECT id FROM {t} WHERE CONTAINS(POINT(ra, dec), CIRCLE(POINT(77, 89.8), 0.5)) = 1)",
]


def _ids(service: pyvo.dal.TAPService, query: str, **kwargs: object) -> list[int]:
    result = service.run_sync(query, maxrec=1_000_000, **kwargs)
    return sorted(int(i) for i in result.to_table().columns[0])


@pytest.mark.parametrize("query", QUERIES)
def test_the_keyed_and_the_gist_catalogue_give_the_same_rows(tap_url: str, catalogue: Path, query: str) -> None:
    service = pyvo.dal.TAPService(tap_url)
    keyed, plain = _ids(service, query.format(t=KEYED)), _ids(service, query.format(t=PLAIN))
    assert keyed == plain
    assert keyed or "CIRCLE(POINT(10, 20), 0))" in query  # the set means something


def test_an_upload_cross_match_against_the_keyed_table_gives_the_same_pairs(tap_url: str, catalogue: Path) -> None:
    service = pyvo.dal.TAPService(tap_url)
    ra, dec = _positions()
    rng = np.random.default_rng(5)
    picks = rng.choice(ra.size, 500, replace=False)
    mine = Table({"n": np.arange(500), "ra": ra[picks] + 1e-4, "dec": np.clip(dec[picks], -89.9, 89.9)})
    query = (
        "SELECT u.n, c.id FROM TAP_UPLOAD.mine AS u JOIN {t} AS c "
        "ON CONTAINS(POINT(c.ra, c.dec), CIRCLE(POINT(u.ra, u.dec), 0.01)) = 1 "
        "WHERE CONTAINS(POINT(c.ra, c.dec), CIRCLE(POINT(0, 0), 60)) = 1"
    )
    pairs = {}
    for table in (KEYED, PLAIN):
        result = service.run_sync(query.format(t=table), uploads={"mine": mine}, maxrec=1_000_000).to_table()
        pairs[table] = sorted(zip(result["n"].tolist(), result["id"].tolist(), strict=True))
    assert pairs[KEYED] == pairs[PLAIN] and pairs[KEYED]


def test_a_cone_on_the_keyed_table_is_answered_from_the_key_btree(
    archive: Archive, db: psycopg.Connection, catalogue: Path
) -> None:
    sql = to_postgres(
        f"SELECT id FROM {KEYED} WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 10, 20, 0.1)) = 1",
        load_catalog(archive.url),
    ).sql
    assert 'healpix_nest(12, spoint(radians(t0."ra"), radians(t0."dec"))) BETWEEN' in sql
    plan = "\n".join(r[0] for r in db.execute(f"EXPLAIN {sql}"))
    assert "Index Scan" in plan or "Bitmap Index Scan" in plan, plan
    assert "_hpx_" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_re_ingesting_with_another_index_replaces_the_key_and_drop_removes_it(
    archive: Archive, db: psycopg.Connection, catalogue: Path
) -> None:
    path = catalogue / "cat.parquet"
    gist = str(catalogue / "gist.yaml")
    assert ingest(archive, path, "hpxcats.swap", "--meta", gist, "--position-index", "both").returncode == 0
    assert len(_indexes(db, "hpxcats.swap")) == 2
    key_rows = "SELECT count(*) FROM dalserver.position_key WHERE table_name = 'hpxcats.swap'"
    assert db.execute(key_rows).fetchone() == (1,)
    # The command line overrides the sidecar's choice.
    result = ingest(
        archive, path, "hpxcats.swap", "--meta", str(catalogue / "healpix.yaml"), "--position-index", "gist"
    )
    assert result.returncode == 0, result.stderr
    assert db.execute(key_rows).fetchone() == (0,)
    assert ["gist" in i for i in _indexes(db, "hpxcats.swap")] == [True]
    assert ingest(archive, path, "hpxcats.swap", "--meta", str(catalogue / "healpix.yaml")).returncode == 0
    assert db.execute(key_rows).fetchone() == (1,)
    assert dalserver(archive, "drop", "catalog", "hpxcats.swap").returncode == 0
    assert db.execute(key_rows).fetchone() == (0,)


def test_an_unknown_position_index_is_refused_and_nothing_changes(
    archive: Archive, db: psycopg.Connection, catalogue: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("position: [ra, dec]\nposition_index: q3c\n")
    before = _indexes(db, KEYED)
    result = ingest(archive, catalogue / "cat.parquet", KEYED, "--meta", str(bad))
    assert result.returncode == 1
    assert "position_index: 'q3c' is not one of gist, healpix, both" in result.stderr
    assert _indexes(db, KEYED) == before
    assert db.execute("SELECT count(*) FROM dalserver.position_key WHERE table_name = %s", (KEYED,)).fetchone() == (1,)


def test_the_service_answers_a_cone_on_the_keyed_table_from_the_key_btree(
    tap_url: str, db: psycopg.Connection, catalogue: Path
) -> None:
    db.autocommit = True

    def key_index_scans() -> int:
        db.execute("SELECT pg_stat_clear_snapshot()")
        row = db.execute(
            "SELECT idx_scan FROM pg_stat_user_indexes WHERE schemaname = 'hpxcats' AND relname = 'keyed'"
        ).fetchone()
        assert row is not None
        return int(row[0])

    before = key_index_scans()
    service = pyvo.dal.TAPService(tap_url)
    cone = f"SELECT id FROM {KEYED} WHERE CONTAINS(POINT(ra, dec), CIRCLE(POINT(10, 20), 0.2)) = 1"
    assert _ids(service, cone)
    # A backend reports its counts at the end of a transaction if its last report is a second old,
    # else after 10 s idle (PostgreSQL 15's PGSTAT_MIN_INTERVAL, PGSTAT_IDLE_INTERVAL): the same
    # cone again a second later has them reported at once.
    deadline = time.monotonic() + 15
    while key_index_scans() == before and time.monotonic() < deadline:
        time.sleep(1.1)
        _ids(service, cone)
    assert key_index_scans() > before


def test_a_healpix_index_without_position_columns_is_a_warning_and_no_key(
    archive: Archive, db: psycopg.Connection, catalogue: Path
) -> None:
    result = ingest(archive, catalogue / "cat.parquet", "hpxcats.nopos", "--position-index", "healpix")
    assert result.returncode == 0, result.stderr
    assert "position_index: healpix needs position columns: the table has no position index" in result.stderr
    assert _indexes(db, "hpxcats.nopos") == []
    assert not db.execute("SELECT 1 FROM dalserver.position_key WHERE table_name = 'hpxcats.nopos'").fetchall()
    assert dalserver(archive, "drop", "catalog", "hpxcats.nopos").returncode == 0
