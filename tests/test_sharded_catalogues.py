"""Sharded catalogues (#29): a catalogue split by HEALPix ranges over three managed local shards
answers like the same rows in one ordinary table; cones reach only the shards they overlap; a
stopped shard fails the queries that need it, naming it, and no others; an ingest that fails on
one shard leaves the previous version served everywhere; a drop removes the shard tables.

One archive for the module, made by the real command line (tests/support/shards.py), with the
issue's 1,000,000 synthetic rows: the module took 48 s on the quiet 2-core machine (36 s with
200,000). ``SHARDED_TEST_ROWS=200000 ./dev test tests/test_sharded_catalogues.py`` runs it smaller.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import cdshealpix.nested as healpix
import httpx
import numpy as np
import psycopg
import pytest
import pyvo
from astropy.table import Table

from archive_io.shards import foreign_server_name
from tests.support.servers import RunningServer, free_port, start_server, stop_server
from tests.support.shards import FIELDS, FLAT, SHARDED, ShardedArchive, catalogue_file, sharded_archive
from tests.support.uws import submit, wait_for_phase
from tests.support.votable import query_status
from tests.support.waiting import eventually

pytestmark = pytest.mark.db
ROWS = int(os.environ.get("SHARDED_TEST_ROWS", "1000000"))


@pytest.fixture(scope="module")
def archive() -> Iterator[ShardedArchive]:
    with sharded_archive(ROWS) as made:
        yield made


@pytest.fixture(scope="module")
def server(archive: ShardedArchive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    port = free_port()
    env = {**archive.env, "DALSERVER_PORT": str(port)}
    running = start_server(env, f"http://127.0.0.1:{port}", tmp_path_factory.mktemp("shards") / "server.log")
    yield running
    stop_server(running)


def _sync(base: str, query: str, **params: str) -> httpx.Response:
    data = {"LANG": "ADQL", "QUERY": query, "RESPONSEFORMAT": "csv", **params}
    return httpx.post(f"{base}/tap/sync", data=data, timeout=120)


def _border_position(archive: ShardedArchive, which: int) -> tuple[float, float]:
    """The centre of the first HEALPix cell of shard ``which + 1``'s range: on a shard border."""
    bound = archive.partition_bounds()[which]
    lon, lat = healpix.healpix_to_lonlat(np.array([bound], dtype=np.uint64), 12)
    return float(lon.deg[0]), float(lat.deg[0])


def _queries(archive: ShardedArchive) -> dict[str, str]:
    """The fixed ADQL set, over the table {T}."""
    (ra1, dec1), (ra2, dec2) = _border_position(archive, 0), _border_position(archive, 1)
    return {
        "cone across the first border": f"SELECT id, ra, dec, mag FROM {{T}} WHERE 1 = CONTAINS(POINT(ra, dec), CIRCLE({ra1}, {dec1}, 2.5))",
        "cone across the second border": f"SELECT id, mag FROM {{T}} WHERE CONTAINS(POINT(ra, dec), CIRCLE({ra2}, {dec2}, 1.7)) = 1",
        "distance across a border": f"SELECT id, DISTANCE(POINT(ra, dec), POINT({ra1}, {dec1})) AS d FROM {{T}} "
        f"WHERE DISTANCE(POINT(ra, dec), POINT({ra1}, {dec1})) < 1.2",
        "cone on the north pole": "SELECT id, ra, dec FROM {T} WHERE 1 = CONTAINS(POINT(ra, dec), CIRCLE(0, 90, 1.5))",
        "cone near the south pole, over it": "SELECT id FROM {T} WHERE 1 = CONTAINS(POINT(ra, dec), CIRCLE(200, -89.2, 2))",
        "polygon over a border": f"SELECT id FROM {{T}} WHERE 1 = CONTAINS(POINT(ra, dec), POLYGON({ra1 - 2}, {dec1 - 2}, "
        f"{ra1 + 2}, {dec1 - 1.5}, {ra1 + 1}, {dec1 + 2.5}))",
        "polygon around the north pole": "SELECT id FROM {T} WHERE 1 = CONTAINS(POINT(ra, dec), "
        "POLYGON(0, 87, 90, 87, 180, 87, 270, 87))",
        "box": "SELECT id FROM {T} WHERE 1 = CONTAINS(POINT(ra, dec), BOX(359.5, 10, 3, 2))",
        "MOC": "SELECT id FROM {T} WHERE 1 = CONTAINS(POINT(ra, dec), MOC('5/100-103 4/3000 6/40000'))",
        "join with a coordinator table": f"SELECT f.fid, s.id FROM {FIELDS} AS f JOIN {{T}} AS s "
        "ON 1 = CONTAINS(POINT(s.ra, s.dec), CIRCLE(f.ra, f.dec, f.radius)) WHERE f.fid < 8",
        "aggregates": "SELECT COUNT(*) AS n, MIN(dec) AS lo, MAX(dec) AS hi, SUM(id) AS s, MAX(mag) AS m FROM {T}",
        "group by": "SELECT flag, COUNT(*) AS n, MIN(mag) AS m FROM {T} WHERE dec > 60 GROUP BY flag ORDER BY flag",
        "top with order by": "SELECT TOP 25 id, mag FROM {T} WHERE dec < -30 ORDER BY mag DESC, id",
        "distinct": "SELECT DISTINCT flag FROM {T} WHERE 1 = CONTAINS(POINT(ra, dec), CIRCLE(45, 45, 3)) ORDER BY flag",
        "subquery": "SELECT id FROM {T} WHERE id IN (SELECT TOP 30 id FROM {T} WHERE dec > 80 ORDER BY id) "
        "AND 1 = CONTAINS(POINT(ra, dec), CIRCLE(0, 90, 15)) ORDER BY id",
    }


def _lines(response: httpx.Response, ordered: bool) -> list[str]:
    assert response.status_code == 200, response.text
    header, *body = response.text.splitlines()
    return [header, *(body if ordered else sorted(body))]


def test_the_sharded_table_gives_the_rows_of_its_unsharded_copy_for_every_query_form(
    archive: ShardedArchive, server: RunningServer
) -> None:
    for name, template in _queries(archive).items():
        ordered = "ORDER BY" in template
        sharded = _lines(_sync(server.base, template.replace("{T}", SHARDED)), ordered)
        flat = _lines(_sync(server.base, template.replace("{T}", FLAT)), ordered)
        assert sharded == flat, name
        assert len(flat) > 1, f"{name}: the query should find rows"


def test_tap_schema_lists_the_sharded_catalogue_once_and_none_of_its_partitions(server: RunningServer) -> None:
    response = _sync(
        server.base, "SELECT table_name FROM TAP_SCHEMA.tables WHERE schema_name = 'shd' ORDER BY table_name"
    )
    assert [line.strip('"') for line in _lines(response, True)[1:]] == [FIELDS, FLAT, SHARDED]


def test_the_border_cones_do_cross_a_border(archive: ShardedArchive) -> None:
    """The comparison above proves something only if its border cones take rows from two shards."""
    bounds = archive.partition_bounds()
    with psycopg.connect(archive.coordinator_url, autocommit=True) as conn:
        for which, radius in ((0, 2.5), (1, 1.7)):
            ra, dec = _border_position(archive, which)
            sides = conn.execute(
                "SELECT count(*) FILTER (WHERE k < %(b)s), count(*) FILTER (WHERE k >= %(b)s) FROM ("
                "SELECT healpix_nest(12, spoint(radians(ra), radians(dec))) AS k FROM shd.flat "
                "WHERE spoint(radians(ra), radians(dec)) @ scircle(spoint(radians(%(ra)s), radians(%(dec)s)), radians(%(r)s))) x",
                {"b": bounds[which], "ra": ra, "dec": dec, "r": radius},
            ).fetchone()
            assert sides is not None and sides[0] > 0 and sides[1] > 0


def test_maxrec_overflow_is_judged_after_the_shards_are_merged(server: RunningServer) -> None:
    query = "SELECT id FROM {T} WHERE dec > 70 ORDER BY id"
    answers = {}
    for table in (SHARDED, FLAT):
        response = httpx.post(
            f"{server.base}/tap/sync",
            data={"LANG": "ADQL", "QUERY": query.replace("{T}", table), "MAXREC": "100"},
            timeout=60,
        )
        assert query_status(response)[0] == "OVERFLOW"
        answers[table] = response.text.count("<TR>")
    assert answers[SHARDED] == answers[FLAT] == 100


def test_a_cone_inside_one_shard_is_sent_to_that_shard_only(archive: ShardedArchive, server: RunningServer) -> None:
    ra, dec = _border_position(archive, 1)
    # A little way into the second shard's range (keys above its first one), with a radius of its own
    # so that the shipped statement is told apart in the shards' logs.
    lon, lat = healpix.healpix_to_lonlat(np.array([archive.partition_bounds()[0] + 4**8], dtype=np.uint64), 12)
    response = _sync(
        server.base,
        f"SELECT id FROM {SHARDED} WHERE 1 = CONTAINS(POINT(ra, dec), CIRCLE({lon.deg[0]}, {lat.deg[0]}, 0.0731))",
    )
    assert response.status_code == 200, response.text
    assert archive.shards_that_ran("0.0731d") == ["s2"]
    # An unconstrained query goes to all three.
    assert _sync(server.base, f"SELECT COUNT(*) AS n FROM {SHARDED} WHERE mag > 23.0917").status_code == 200
    assert archive.shards_that_ran("23.0917") == ["s1", "s2", "s3"]


def test_an_upload_cross_match_with_the_sharded_table_matches_its_unsharded_copy(
    archive: ShardedArchive, server: RunningServer
) -> None:
    rng = np.random.default_rng(5)
    count = 300
    ra, dec = _border_position(archive, 0)
    upload = Table(
        {
            "uid": np.arange(count, dtype=np.int32),
            # half near a shard border, half anywhere
            "ra": np.concatenate([rng.uniform(ra - 1, ra + 1, count // 2), rng.uniform(0, 360, count - count // 2)]),
            "dec": np.concatenate(
                [rng.uniform(dec - 1, dec + 1, count // 2), rng.uniform(-89, 89, count - count // 2)]
            ),
        }
    )
    service = pyvo.dal.TAPService(f"{server.base}/tap")
    answers = {}
    for table in (SHARDED, FLAT):
        query = (
            f"SELECT u.uid, s.id, DISTANCE(POINT(u.ra, u.dec), POINT(s.ra, s.dec)) AS d FROM TAP_UPLOAD.mine AS u "
            f"JOIN {table} AS s ON 1 = CONTAINS(POINT(s.ra, s.dec), CIRCLE(u.ra, u.dec, 0.2)) ORDER BY u.uid, s.id"
        )
        result = service.run_sync(query, uploads={"mine": upload}).to_table()
        answers[table] = [tuple(row) for row in result.as_array().tolist()]
    assert answers[SHARDED] == answers[FLAT]
    assert len(answers[FLAT]) > 50
    # Scattered: each shard ran the join itself, reading the upload from its own session.
    assert archive.shards_that_ran("current_setting('dalserver_upload.mine_0')") == ["s1", "s2", "s3"]


def _inside_first_shard(archive: ShardedArchive, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions well inside a base face whose keys all lie in the first shard's range, far from
    the face's edges (where the scatter sends an upload row everywhere)."""
    face = archive.partition_bounds()[0] // 4**12 - 1
    rng = np.random.default_rng(11)
    x, y = rng.integers(1024, 3072, (2, count))
    keys = [face * 4**12 + sum((((xi >> b) & 1) << (2 * b)) | (((yi >> b) & 1) << (2 * b + 1)) for b in range(12))
            for xi, yi in zip(x, y, strict=True)]  # fmt: skip
    lon, lat = healpix.healpix_to_lonlat(np.array(keys, dtype=np.uint64), 12)
    return lon.deg, lat.deg


def test_an_upload_whose_rows_all_lie_in_one_shard_is_sent_to_that_shard_only(
    archive: ShardedArchive, server: RunningServer
) -> None:
    ra, dec = _inside_first_shard(archive, 40)
    upload = Table({"uid": np.arange(ra.size, dtype=np.int32), "ra": ra, "dec": dec})
    service = pyvo.dal.TAPService(f"{server.base}/tap")
    answers = {}
    for table in (SHARDED, FLAT):
        query = (
            f"SELECT u.uid, s.id FROM TAP_UPLOAD.inone AS u JOIN {table} AS s "
            "ON 1 = CONTAINS(POINT(s.ra, s.dec), CIRCLE(u.ra, u.dec, 0.3)) ORDER BY u.uid, s.id"
        )
        answers[table] = service.run_sync(query, uploads={"inone": upload}).to_table().as_array().tolist()
    assert answers[SHARDED] == answers[FLAT] and len(answers[FLAT]) > 40
    assert archive.shards_that_ran("current_setting('dalserver_upload.inone_0')") == ["s1"]


def test_a_scattered_cross_match_after_a_shard_restarted_is_answered_on_new_sessions(
    archive: ShardedArchive, server: RunningServer
) -> None:
    rng = np.random.default_rng(12)
    upload = Table(
        {"uid": np.arange(30, dtype=np.int32), "ra": rng.uniform(0, 360, 30), "dec": rng.uniform(-80, 80, 30)}
    )
    query = (
        f"SELECT u.uid, s.id FROM TAP_UPLOAD.again AS u JOIN {SHARDED} AS s "
        "ON 1 = CONTAINS(POINT(s.ra, s.dec), CIRCLE(u.ra, u.dec, 1)) ORDER BY u.uid, s.id"
    )
    service = pyvo.dal.TAPService(f"{server.base}/tap")
    before = service.run_sync(query, uploads={"again": upload}).to_table().as_array().tolist()
    for shard in archive.shards:  # the sessions the server kept open on them end
        shard.stop_now()
        shard.start()
    after = service.run_sync(query, uploads={"again": upload}).to_table().as_array().tolist()
    assert after == before and len(before) > 30


def test_an_upload_query_whose_merge_is_not_exact_runs_on_the_coordinator_with_the_same_rows(
    server: RunningServer,
) -> None:
    rng = np.random.default_rng(6)
    upload = Table(
        {"uid": np.arange(12, dtype=np.int32), "ra": rng.uniform(0, 360, 12), "dec": rng.uniform(-60, 60, 12)}
    )
    service = pyvo.dal.TAPService(f"{server.base}/tap")
    answers = {}
    for table in (SHARDED, FLAT):
        query = (
            f"SELECT u.uid, COUNT(*) AS n FROM TAP_UPLOAD.few AS u JOIN {table} AS s "
            "ON 1 = CONTAINS(POINT(s.ra, s.dec), CIRCLE(u.ra, u.dec, 1.5)) GROUP BY u.uid ORDER BY u.uid"
        )
        answers[table] = service.run_sync(query, uploads={"few": upload}).to_table().as_array().tolist()
    assert answers[SHARDED] == answers[FLAT] and len(answers[FLAT]) > 3


def _active_on_shards(archive: ShardedArchive) -> int:
    active = 0
    for shard in archive.shards:
        with psycopg.connect(archive.shard_url(shard), autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dalserver-query' AND state = 'active'"
            ).fetchone()
        active += int(row[0]) if row else 0
    return active


def test_aborting_a_scattered_upload_job_stops_its_queries_on_the_shards(
    archive: ShardedArchive, server: RunningServer
) -> None:
    rng = np.random.default_rng(8)
    upload = Table({"uid": np.arange(3000, dtype=np.int32), "x": rng.uniform(40, 70, 3000)})
    body = io.BytesIO()
    upload.write(body, format="votable")
    # No index serves this join: every shard compares every pair, for far longer than the test waits.
    query = (
        f"SELECT u.uid, s.id FROM TAP_UPLOAD.slow AS u JOIN {SHARDED} AS s ON s.mag * u.x BETWEEN 1000 AND 1000.00001"
    )
    created = httpx.post(
        f"{server.base}/tap/async",
        data={"LANG": "ADQL", "QUERY": query, "UPLOAD": "slow,param:slow", "PHASE": "RUN"},
        files={"slow": ("slow.xml", body.getvalue())},
        follow_redirects=False,
        timeout=30,
    )
    assert created.status_code == 303, created.text
    job = created.headers["location"]
    assert eventually(lambda: _active_on_shards(archive) == 3, seconds=30)
    httpx.post(f"{job}/phase", data={"PHASE": "ABORT"}, timeout=30)
    assert eventually(lambda: _active_on_shards(archive) == 0, seconds=5)
    assert wait_for_phase(job, ("COMPLETED", "ERROR", "ABORTED")) == "ABORTED"


def _fdw_sessions_at_work(archive: ShardedArchive) -> int:
    """The coordinator's postgres_fdw sessions on the shards that are running or inside a transaction."""
    busy = 0
    for shard in archive.shards:
        with psycopg.connect(archive.shard_url(shard), autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'postgres_fdw' "
                "AND state IN ('active', 'idle in transaction')"
            ).fetchone()
        busy += int(row[0]) if row else 0
    return busy


def test_aborting_a_job_reading_the_sharded_table_ends_its_remote_transactions(
    archive: ShardedArchive, server: RunningServer
) -> None:
    # Never ends on its own: the coordinator joins every row with every row, reading from the shards.
    job = submit(
        f"{server.base}/tap", f"SELECT COUNT(*) AS n FROM {SHARDED} AS a, {SHARDED} AS b WHERE a.mag + b.mag < 0"
    )
    assert eventually(lambda: _fdw_sessions_at_work(archive) > 0, seconds=30)
    httpx.post(f"{job}/phase", data={"PHASE": "ABORT"}, timeout=30)
    assert wait_for_phase(job, ("COMPLETED", "ERROR", "ABORTED")) == "ABORTED"
    assert eventually(lambda: _fdw_sessions_at_work(archive) == 0, seconds=5)


def test_a_stopped_shard_fails_the_queries_needing_it_by_name_and_no_others(
    archive: ShardedArchive, server: RunningServer
) -> None:
    s3 = archive.shards[2]
    server_name = foreign_server_name(archive.shard_url(s3))
    s3.stop_now()
    try:
        everything = httpx.post(
            f"{server.base}/tap/sync",
            data={"LANG": "ADQL", "QUERY": f"SELECT COUNT(*) AS n FROM {SHARDED}"},
            timeout=60,
        )
        assert everything.status_code == 503
        assert everything.headers.get("retry-after")
        status, message = query_status(everything)
        assert status == "ERROR" and server_name in message and "cannot be reached" in message

        job = submit(f"{server.base}/tap", f"SELECT id FROM {SHARDED} WHERE mag < 14.01")
        assert wait_for_phase(job, ("COMPLETED", "ERROR", "ABORTED")) == "ERROR"
        error = httpx.get(f"{job}/error", timeout=30)
        assert server_name in error.text and "cannot be reached" in error.text

        # A cone in the first shard's range does not need the third: answered, complete.
        ra, dec = healpix.healpix_to_lonlat(np.array([archive.partition_bounds()[0] // 2], dtype=np.uint64), 12)
        cone = f"SELECT id FROM {{T}} WHERE 1 = CONTAINS(POINT(ra, dec), CIRCLE({ra.deg[0]}, {dec.deg[0]}, 1))"
        sharded = _lines(_sync(server.base, cone.replace("{T}", SHARDED)), False)
        assert sharded == _lines(_sync(server.base, cone.replace("{T}", FLAT)), False)
        assert len(sharded) > 1
    finally:
        s3.start()
    assert _sync(server.base, f"SELECT COUNT(*) AS n FROM {SHARDED}").text.split() == ["n", str(ROWS)]


FAIL_LATE = """
CREATE OR REPLACE FUNCTION public.fail_late() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('test.rows', (coalesce(nullif(current_setting('test.rows', true), ''), '0')::int + 1)::text, false);
  IF current_setting('test.rows')::int > 2000 THEN
    RAISE EXCEPTION 'could not extend file: No space left on device (the test''s)';
  END IF;
  RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION public.arm_fail_late() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE made record;
BEGIN
  FOR made IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' LOOP
    IF made.object_identity LIKE 'shd.again_%' THEN
      EXECUTE format('CREATE TRIGGER fail_late BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION public.fail_late()',
                     made.object_identity);
    END IF;
  END LOOP;
END $$;
CREATE EVENT TRIGGER arm_fail_late ON ddl_command_end EXECUTE FUNCTION public.arm_fail_late();
"""


def test_an_ingest_failing_on_one_shard_midway_leaves_the_previous_version_everywhere(
    archive: ShardedArchive, server: RunningServer, tmp_path: Path
) -> None:
    first, meta = catalogue_file(tmp_path, "first", 20_000, 21)
    archive.dalserver(
        "ingest", "catalog", str(first), "--table", "shd.again", "--meta", str(meta), "--shards", "3", "--quiet"
    )
    before_tables = archive.shard_tables()
    query = "SELECT COUNT(*) AS n, SUM(id) AS s FROM shd.again"
    before = _sync(server.base, query).text
    assert before.split()[1].startswith("20000,")

    second, meta = catalogue_file(tmp_path, "second", 30_000, 22)
    s2 = archive.shards[1]
    with psycopg.connect(archive.shard_url(s2), autocommit=True) as conn:
        conn.execute(FAIL_LATE)
    try:
        failed = archive.run(
            "ingest", "catalog", str(second), "--table", "shd.again", "--meta", str(meta), "--shards", "3", "--quiet"
        )
    finally:
        with psycopg.connect(archive.shard_url(s2), autocommit=True) as conn:
            conn.execute("DROP EVENT TRIGGER arm_fail_late")
    assert failed.returncode == 1
    assert "No space left on device" in failed.stderr and "nothing was published" in failed.stderr
    assert foreign_server_name(archive.shard_url(s2)) in failed.stderr
    assert _sync(server.base, query).text == before
    assert archive.shard_tables() == before_tables  # the new tables are gone from every shard
    with psycopg.connect(archive.coordinator_url, autocommit=True) as conn:
        staging = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'again%staging%'").fetchone()
    assert staging == (0,)

    archive.dalserver("drop", "catalog", "shd.again")
    assert all(not any(t.startswith("again") for t in tables) for tables in archive.shard_tables().values())


def test_shards_check_reports_each_shard(archive: ShardedArchive) -> None:
    done = archive.dalserver("shards", "check")
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 3 and all(line.endswith("\tok") for line in lines)


def test_shards_check_names_a_shard_without_pgsphere(archive: ShardedArchive) -> None:
    s1 = archive.shards[0]
    with psycopg.connect(s1.url("postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bare")
        conn.execute("CREATE DATABASE bare")
    bare = s1.url("bare")
    done = subprocess.run(
        [sys.executable, "-m", "dalserver", "shards", "check"],
        env={**archive.env, "DALSERVER_SHARDS": f"{archive.shard_url(s1)} {bare}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    first, second = done.stdout.strip().splitlines()
    assert first.endswith("\tok")
    assert second.startswith(foreign_server_name(bare)) and "pgsphere is not installed" in second


def test_too_many_shards_asked_for_is_refused_with_the_number_known(archive: ShardedArchive, tmp_path: Path) -> None:
    data, meta = catalogue_file(tmp_path, "few", 100, 3)
    failed = archive.run("ingest", "catalog", str(data), "--table", "shd.few", "--meta", str(meta), "--shards", "4")
    assert failed.returncode == 1
    assert "4 shards asked for, 3 shard servers known" in failed.stderr
