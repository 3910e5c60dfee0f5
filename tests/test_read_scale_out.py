"""Read scale-out: users' queries on hot standbys of the primary (DALSERVER_REPLICA_URLS).

One archive of the module's own: the managed primary and two standbys made by ``dalserver db
standby create`` on their own sockets (hot_standby_feedback on), the sample images and a
100 k-row catalogue. Its server reaches the primary through a libpq multi-host URL that names a
standby first (``target_session_attrs=read-write`` skips it), as an operator following a
failover would. Answers are compared byte for byte with a server that has no standby; which
server ran a query is read from /metrics and from the databases themselves.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import psycopg
import pytest
import pyvo
from astropy.io.votable import from_table
from astropy.table import Table

from tests.support.replicas import (
    CHURN,
    DATABASE,
    STARS,
    ReplicatedArchive,
    active_queries,
    metric,
    query_sessions,
    replay,
    replicated_archive,
)
from tests.support.servers import RunningServer, free_port, start_server, stop_server
from tests.support.uws import job_phase, submit, wait_for_phase
from tests.support.votable import query_status, rows
from tests.support.waiting import eventually

pytestmark = pytest.mark.db
QUERIES = "dalserver_queries_total"
CONES = [(float(ra), float(dec)) for ra, dec in np.random.default_rng(3).uniform((0, -60), (360, 60), (40, 2))]
# Never ends on its own (3,000 rows cubed): a job or query that is still running when the test acts.
CHURN_SQL = '"churn"'  # how the table is named in the SQL the translator writes
ENDLESS = f"SELECT COUNT(*) AS n FROM {CHURN} AS a, {CHURN} AS b, {CHURN} AS c WHERE a.x + b.x > c.x"
EXAMPLE = (
    "SELECT m.name, o.obs_id FROM TAP_UPLOAD.mine AS m JOIN ivoa.obscore AS o "
    "ON CONTAINS(POINT(m.ra, m.dec), o.s_region) = 1"
)
XMATCH = (
    "SELECT u.uid, s.id, s.mag, DISTANCE(POINT(u.ra, u.dec), POINT(s.ra, s.dec)) AS d FROM TAP_UPLOAD.mine AS u "
    f"JOIN {STARS} AS s ON CONTAINS(POINT(s.ra, s.dec), CIRCLE(u.ra, u.dec, 2/3600.0)) = 1 ORDER BY u.uid, s.id"
)


@pytest.fixture(scope="module")
def replicated() -> Iterator[ReplicatedArchive]:
    """This module's own archive (not the session's): a primary and two standbys."""
    with replicated_archive() as made:
        yield made


def _server(replicated: ReplicatedArchive, log: Path, **settings: str) -> RunningServer:
    port = free_port()
    env = {**replicated.env, "DALSERVER_PORT": str(port), **settings}
    return start_server(env, f"http://127.0.0.1:{port}", log)


def _cone(base: str, ra: float, dec: float) -> httpx.Response:
    query = (
        f"SELECT id, ra, dec, mag, POINT(ra, dec) AS pos, DISTANCE(POINT(ra, dec), POINT({ra}, {dec})) AS d "
        f"FROM {STARS} WHERE 1 = CONTAINS(POINT(ra, dec), CIRCLE({ra}, {dec}, 1.0)) ORDER BY id"
    )
    return httpx.get(f"{base}/tap/sync", params={"LANG": "ADQL", "QUERY": query}, timeout=60)


def _scs(base: str, ra: float, dec: float) -> httpx.Response:
    return httpx.get(f"{base}/scs/{STARS}", params={"RA": ra, "DEC": dec, "SR": 0.5}, timeout=60)


def _sia(base: str) -> bytes:
    """An SIA answer, with the server's own URL (in access_url) written as BASE: the rest compares."""
    response = httpx.get(f"{base}/sia/query", params={"POS": "CIRCLE 34.5 -5.0 0.3"}, timeout=60)
    assert response.status_code == 200 and base.encode() in response.content
    return response.content.replace(base.encode(), b"BASE")


def _datalink(base: str, did: str) -> bytes:
    """A DataLink {links} answer, with the server's own URL written as BASE."""
    response = httpx.get(f"{base}/datalink/links", params={"ID": did}, timeout=60)
    assert response.status_code == 200 and b"#this" in response.content
    return response.content.replace(base.encode(), b"BASE")


def _a_did(replicated: ReplicatedArchive) -> str:
    with psycopg.connect(replicated.primary_url) as conn:
        row = conn.execute("SELECT obs_publisher_did FROM ivoa.obscore ORDER BY obs_publisher_did LIMIT 1").fetchone()
    assert row is not None
    return str(row[0])


def _upload_rows(replicated: ReplicatedArchive, count: int = 10_000) -> bytes:
    """``count`` positions 1 arcsec off catalogue stars, as a BINARY2 VOTable."""
    with psycopg.connect(replicated.primary_url) as conn:
        stars = conn.execute(
            f"SELECT id, ra, dec FROM {STARS} WHERE abs(dec) < 80 ORDER BY id LIMIT %s", (count,)
        ).fetchall()
    table = Table()
    table["uid"] = np.arange(len(stars), dtype=np.int64)
    table["ra"] = [ra + (1 / 3600) / np.cos(np.radians(dec)) for _, ra, dec in stars]
    table["dec"] = [dec for _, _, dec in stars]
    buffer = io.BytesIO()
    from_table(table).to_xml(buffer, tabledata_format="binary2")
    return buffer.getvalue()


def _xmatch(base: str, upload: bytes) -> httpx.Response:
    return httpx.post(
        f"{base}/tap/sync",
        data={"LANG": "ADQL", "QUERY": XMATCH, "UPLOAD": "mine,param:f", "MAXREC": "20000"},
        files={"f": ("mine.xml", upload)},
        timeout=120,
    )


def _example(base: str) -> Table:
    """The tutorial's UPLOAD example (docs/tutorial/quickstart.md), as it is written there."""
    tap = pyvo.dal.TAPService(f"{base}/tap")
    mine = Table({"name": ["a", "b"], "ra": [34.45, 34.62], "dec": [-4.80, -5.10]})
    job = tap.submit_job(EXAMPLE, uploads={"mine": mine})
    job.run().wait(timeout=60)
    return job.fetch_result().to_table()


def _answers(base: str, upload: bytes) -> dict[str, bytes]:
    found = {f"cone {ra} {dec}": _cone(base, ra, dec).content for ra, dec in CONES}
    found.update({f"scs {ra} {dec}": _scs(base, ra, dec).content for ra, dec in CONES[:10]})
    found["sia"] = _sia(base)
    found["xmatch"] = _xmatch(base, upload).content
    return found


@pytest.fixture(scope="module")
def upload(replicated: ReplicatedArchive) -> bytes:
    return _upload_rows(replicated)


@pytest.fixture(scope="module")
def plain(replicated: ReplicatedArchive, upload: bytes) -> dict[str, object]:
    """The answers of a server with no standby (stopped before the others start, so that no query
    session on the primary is left from it)."""
    server = _server(replicated, replicated.home / "plain.log")
    try:
        answers: dict[str, object] = dict(_answers(server.base, upload))
        answers["datalink"] = _datalink(server.base, _a_did(replicated))
        answers["example"] = _example(server.base)
    finally:
        stop_server(server)
    return answers


@pytest.fixture(scope="module")
def scaled(replicated: ReplicatedArchive, plain: dict[str, object]) -> Iterator[RunningServer]:
    """A server whose users' queries go to both standbys, and whose primary URL names a standby
    first (a libpq multi-host URL that accepts the read-write server only)."""
    sockets = f"{replicated.standbys[0].socket_dir},{replicated.primary.socket_dir}"
    primary = f"postgresql://dalserver@/{DATABASE}?host={sockets}&port=5432,5432&target_session_attrs=read-write"
    server = _server(
        replicated,
        replicated.home / "scaled.log",
        DALSERVER_DATABASE_URL=primary,
        DALSERVER_REPLICA_URLS=replicated.replica_urls,
    )
    try:
        yield server
    finally:
        stop_server(server)


def _on_standbys(base: str) -> float:
    return metric(base, QUERIES, server="replica1") + metric(base, QUERIES, server="replica2")


def _xact_commits(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").fetchone()
    assert row is not None
    return int(row[0])


# --- the same answers, from the standbys -------------------------------------------------------
def test_queries_and_datalink_on_standbys_are_byte_identical_spread_over_both_and_never_on_the_primary(
    replicated: ReplicatedArchive, scaled: RunningServer, plain: dict[str, object], upload: bytes
) -> None:
    before = {s.name: _xact_commits(replicated.standby_url(s)) for s in replicated.standbys}
    answers = {
        **{f"cone {ra} {dec}": _cone(scaled.base, ra, dec).content for ra, dec in CONES},
        **{f"scs {ra} {dec}": _scs(scaled.base, ra, dec).content for ra, dec in CONES[:10]},
        "sia": _sia(scaled.base),
        "datalink": _datalink(scaled.base, _a_did(replicated)),
    }
    for key, body in answers.items():
        assert body == plain[key], key  # geometry too: the standbys' sessions output degrees
    assert b"<TD>" in answers[f"cone {CONES[0][0]} {CONES[0][1]}"]
    one, two = metric(scaled.base, QUERIES, server="replica1"), metric(scaled.base, QUERIES, server="replica2")
    assert one + two >= 51 and one > 0 and two > 0, (one, two)
    assert metric(scaled.base, QUERIES, server="primary") == 0
    assert metric(scaled.base, "dalserver_lookups_total", server="primary") == 0  # DataLink's too
    assert (
        metric(scaled.base, "dalserver_lookups_total", server="replica1")
        + metric(scaled.base, "dalserver_lookups_total", server="replica2")
        == 1
    )
    assert query_sessions(replicated.primary_url) == 0  # no query session of any server on the primary
    after = {s.name: _xact_commits(replicated.standby_url(s)) for s in replicated.standbys}
    assert sum(after.values()) - sum(before.values()) >= 51  # the standbys' own count


def test_uploads_run_on_a_standby_the_tutorial_example_and_a_10000_row_cross_match(
    replicated: ReplicatedArchive, scaled: RunningServer, plain: dict[str, object], upload: bytes
) -> None:
    before = _on_standbys(scaled.base)
    response = _xmatch(scaled.base, upload)
    assert response.status_code == 200, response.text
    assert response.content == plain["xmatch"]
    assert len(rows(response)) == 10_000
    example = _example(scaled.base)
    expected = plain["example"]
    assert isinstance(expected, Table) and len(example) > 0
    assert sorted(map(tuple, example.as_array().tolist())) == sorted(map(tuple, expected.as_array().tolist()))
    assert _on_standbys(scaled.base) - before == 2
    assert metric(scaled.base, QUERIES, server="primary") == 0


def test_an_async_job_runs_on_a_standby_and_its_result_is_fetched(scaled: RunningServer) -> None:
    before = _on_standbys(scaled.base)
    tap = pyvo.dal.TAPService(f"{scaled.base}/tap")
    job = tap.submit_job(f"SELECT COUNT(*) AS n FROM {STARS} WHERE mag < 15")
    job.run().wait(timeout=60)
    assert job.phase == "COMPLETED"
    assert 9_000 < int(job.fetch_result().to_table()["n"][0]) < 11_000
    assert _on_standbys(scaled.base) - before == 1


def test_abort_cancels_a_job_on_the_standby_that_runs_it_not_on_the_primary(
    replicated: ReplicatedArchive, scaled: RunningServer
) -> None:
    job = submit(f"{scaled.base}/tap", ENDLESS, EXECUTIONDURATION="120")
    wait_for_phase(job, ("EXECUTING",), timeout=30)
    urls = [replicated.standby_url(s) for s in replicated.standbys]
    assert eventually(lambda: any(active_queries(u, CHURN_SQL) for u in urls), seconds=20)
    running_on = next(u for u in urls if active_queries(u, CHURN_SQL))
    with psycopg.connect(replicated.primary_url) as conn:
        row = conn.execute("SELECT backend_pid FROM uws.job WHERE job_id = %s", (job.rsplit("/", 1)[1],)).fetchone()
    # No process id of a standby's backend is kept: the primary is never asked to cancel it.
    assert row == (None,)
    response = httpx.post(f"{job}/phase", data={"PHASE": "ABORT"}, timeout=30)
    assert response.status_code in (200, 303)
    assert eventually(lambda: not active_queries(running_on, CHURN_SQL), seconds=2)
    assert job_phase(job) == "ABORTED"
    assert query_sessions(replicated.primary_url) == 0


def test_a_job_is_answered_fetched_and_aborted_through_any_app_server(
    replicated: ReplicatedArchive, scaled: RunningServer
) -> None:
    """A second app server on the same primary, standbys and home (jobs directory), as behind a
    proxy: a job created through one is followed, its result fetched and another job aborted
    through the other, whichever of them runs it."""
    second = _server(replicated, replicated.home / "second.log", DALSERVER_REPLICA_URLS=replicated.replica_urls)
    try:
        job = submit(f"{scaled.base}/tap", f"SELECT COUNT(*) AS n FROM {STARS} WHERE mag < 15")
        there = job.replace(scaled.base, second.base)
        assert wait_for_phase(there, ("COMPLETED", "ERROR"), timeout=60) == "COMPLETED"
        result = httpx.get(f"{there}/results/result", timeout=30, follow_redirects=True)
        assert result.status_code == 200
        assert result.content == httpx.get(f"{job}/results/result", timeout=30, follow_redirects=True).content
        assert 9_000 < int(rows(result)[0][0]) < 11_000

        endless = submit(f"{second.base}/tap", ENDLESS, EXECUTIONDURATION="120")
        wait_for_phase(endless, ("EXECUTING",), timeout=30)
        urls = [replicated.standby_url(s) for s in replicated.standbys]
        assert eventually(lambda: any(active_queries(u, CHURN_SQL) for u in urls), seconds=20)
        running_on = next(u for u in urls if active_queries(u, CHURN_SQL))
        response = httpx.post(f"{endless.replace(second.base, scaled.base)}/phase", data={"PHASE": "ABORT"}, timeout=30)
        assert response.status_code in (200, 303)
        assert eventually(lambda: not active_queries(running_on, CHURN_SQL), seconds=2)
        assert job_phase(endless) == "ABORTED"
    finally:
        stop_server(second)


# --- lag, conflicts, a standby lost -------------------------------------------------------------
def test_a_table_published_while_the_standbys_lag_is_answered_by_the_primary_never_missing(
    replicated: ReplicatedArchive, scaled: RunningServer, tmp_path: Path
) -> None:
    urls = [replicated.standby_url(s) for s in replicated.standbys]
    for url in urls:
        replay(url, paused=True)
    try:
        (tmp_path / "fresh.csv").write_text("id,ra,dec\n1,10.0,20.0\n2,11.0,21.0\n")
        replicated.dalserver("ingest", "catalog", str(tmp_path / "fresh.csv"), "--table", "rso.fresh", "--quiet")
        on_primary = metric(scaled.base, QUERIES, server="primary")
        response = httpx.get(
            f"{scaled.base}/tap/sync",
            params={"LANG": "ADQL", "QUERY": "SELECT COUNT(*) AS n FROM rso.fresh"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        assert rows(response) == [["2"]]
        assert metric(scaled.base, QUERIES, server="primary") == on_primary + 1
        notes = httpx.get(f"{scaled.base}/tap/availability", timeout=30).text
        assert "not used until it has replayed the catalogue's last change" in notes
        assert "<vosi:available>true</vosi:available>" in notes
    finally:
        for url in urls:
            replay(url, paused=False)
    before = _on_standbys(scaled.base)

    def back_on_standbys() -> bool:
        httpx.get(f"{scaled.base}/tap/sync", params={"LANG": "ADQL", "QUERY": "SELECT COUNT(*) AS n FROM rso.fresh"})
        return _on_standbys(scaled.base) > before

    assert eventually(back_on_standbys, seconds=10, every=0.5)


def _conflicts_cancel_queries(replicated: ReplicatedArchive, on: bool) -> None:
    """Standbys that give way to the primary's VACUUM after 1 s (no feedback), or spare their
    queries' rows (hot_standby_feedback, as made); the settings are reloaded at once."""
    for standby in replicated.standbys:
        if on:
            standby.configure(hot_standby_feedback=False, max_standby_streaming_delay="'1s'")
        else:
            standby.configure(hot_standby_feedback=True, max_standby_streaming_delay="'30s'")
        with psycopg.connect(replicated.standby_url(standby), autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")


def _churn(replicated: ReplicatedArchive, urls: list[str]) -> None:
    """Once an ENDLESS query runs on a standby: every row of its table deleted and vacuumed away."""
    assert eventually(lambda: any(active_queries(u, CHURN_SQL) for u in urls), seconds=20)
    with psycopg.connect(replicated.primary_url, autocommit=True) as conn:
        conn.execute(f"DELETE FROM {CHURN}")
        conn.execute(f"VACUUM {CHURN}")


def _refill(replicated: ReplicatedArchive, urls: list[str]) -> None:
    with psycopg.connect(replicated.primary_url, autocommit=True) as conn:
        conn.execute(
            f"INSERT INTO {CHURN} (id, ra, dec, mag, x) SELECT g, 0, 0, 20, g / 3000.0 FROM generate_series(1, 3000) g"
        )
        position = conn.execute("SELECT pg_current_wal_flush_lsn()").fetchone()[0]

    def replayed(url: str) -> bool:
        with psycopg.connect(url, autocommit=True) as conn:
            return bool(conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (position,)).fetchone()[0])

    assert eventually(lambda: all(replayed(u) for u in urls), seconds=20)


def test_a_recovery_conflict_reruns_an_async_job_on_the_primary_and_is_a_503_for_a_sync_query(
    replicated: ReplicatedArchive, scaled: RunningServer
) -> None:
    urls = [replicated.standby_url(s) for s in replicated.standbys]
    _conflicts_cancel_queries(replicated, on=True)
    try:
        job = submit(f"{scaled.base}/tap", ENDLESS, EXECUTIONDURATION="120")
        _churn(replicated, urls)
        assert wait_for_phase(job, ("COMPLETED", "ERROR"), timeout=60) == "COMPLETED"
        assert rows(httpx.get(f"{job}/results/result", timeout=30, follow_redirects=True)) == [["0"]]
        assert metric(scaled.base, "dalserver_query_moves_total", reason="recovery_conflict") == 1
        assert "running it again on the primary" in scaled.log.read_text()

        _refill(replicated, urls)
        answer: list[httpx.Response] = []
        sync = threading.Thread(
            target=lambda: answer.append(
                httpx.get(f"{scaled.base}/tap/sync", params={"LANG": "ADQL", "QUERY": ENDLESS}, timeout=60)
            )
        )
        sync.start()
        _churn(replicated, urls)
        sync.join(60)
        response = answer[0]
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        status, message = query_status(response)
        assert status == "ERROR" and "conflict with recovery" in message and "run it again" in message
    finally:
        _conflicts_cancel_queries(replicated, on=False)
        _refill(replicated, urls)


def test_a_standby_stopped_mid_traffic_is_left_within_5_s_and_used_again_within_30_s_of_its_return(
    replicated: ReplicatedArchive, scaled: RunningServer
) -> None:
    answered: list[tuple[float, float, int]] = []  # (sent, received, status)
    stop = threading.Event()

    def traffic(seed: int) -> None:
        rng = np.random.default_rng(seed)
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                ra, dec = rng.uniform(0, 360), rng.uniform(-60, 60)
                sent = time.monotonic()
                query = f"SELECT id FROM {STARS} WHERE 1 = CONTAINS(POINT(ra, dec), CIRCLE({ra}, {dec}, 0.5))"
                response = client.get(f"{scaled.base}/tap/sync", params={"LANG": "ADQL", "QUERY": query})
                answered.append((sent, time.monotonic(), response.status_code))

    clients = [threading.Thread(target=traffic, args=(seed,)) for seed in (1, 2)]
    for client in clients:
        client.start()
    try:
        time.sleep(1.5)
        lost_at = time.monotonic()
        replicated.dalserver("db", "standby", "stop", "s1", "--immediate")
        time.sleep(6)
        on_s1 = metric(scaled.base, QUERIES, server="replica1")
        time.sleep(1)
        assert metric(scaled.base, QUERIES, server="replica1") == on_s1  # left
        assert "standby replica1" in httpx.get(f"{scaled.base}/tap/availability").text
        back_at = time.monotonic()
        replicated.dalserver("db", "standby", "start", "s1")
        assert eventually(lambda: metric(scaled.base, QUERIES, server="replica1") > on_s1, seconds=30, every=0.5)
        assert time.monotonic() - back_at < 30
    finally:
        stop.set()
        for client in clients:
            client.join(60)
    failed = [(sent - lost_at, status) for sent, _, status in answered if status != 200]
    # Only what was in flight when the standby went may fail (none did here: the query is tried
    # on another server before its first row); nothing sent 5 s after the loss.
    assert len(failed) <= len(clients), failed
    assert all(sent < 5 for sent, _ in failed), failed
    assert len([a for a in answered if a[0] > lost_at + 5]) > 10
