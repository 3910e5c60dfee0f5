"""The service heals by itself when its database goes away: a killed postmaster of the managed
cluster is started again by dalserver, requests meanwhile get a quick 503 with Retry-After,
availability says why, async jobs are not spent, and the first or second request after the
database is back succeeds. A stopped (hung, not refusing) database is noticed within seconds.

These tests run their own server on its own managed cluster (no DALSERVER_DATABASE_URL), since
killing the shared test cluster would take every other test down with it.
"""

from __future__ import annotations

import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from archive_io.tap_schema import publish_schema, publish_table
from dalserver.db.location import managed_cluster
from dalserver.settings import Settings
from schemas.model import ColumnDef, SchemaDef, TableDef
from tests.support.archive import Archive
from tests.support.servers import RunningServer, free_port, start_server, stop_server
from tests.support.uws import submit, wait_for_phase
from tests.support.votable import query_status
from tests.support.waiting import eventually

LOCKED = TableDef("outage", "t", "a table the tests lock", columns=(ColumnDef("x", "int"),))
QUICK = "SELECT TOP 1 table_name FROM tap_schema.tables"


@dataclass
class ManagedArchive:
    home: Path
    url: str
    server: RunningServer

    @property
    def data_dir(self) -> Path:
        return managed_cluster(Settings(home=self.home)).data_dir

    def postmaster(self) -> int:
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])

    def cluster_processes(self) -> list[int]:
        """The postmaster and its children (the backends, the background workers)."""
        parent = self.postmaster()
        children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        return [parent, *map(int, children)]

    def log(self) -> str:
        return self.server.log.read_text()


@pytest.fixture(scope="module")
def managed(archive: Archive) -> Iterator[ManagedArchive]:
    home = Path(tempfile.mkdtemp(prefix="dalserver-managed-"))
    home.chmod(0o755)
    port = free_port()
    env = {k: v for k, v in archive.env.items() if k != "DALSERVER_DATABASE_URL"}
    env.update({"DALSERVER_HOME": str(home), "DALSERVER_PORT": str(port), "DALSERVER_JOB_SWEEP_SECONDS": "0.5"})
    server = start_server(env, f"http://127.0.0.1:{port}", home / "server.log")
    cluster = managed_cluster(Settings(home=home))
    url = cluster.url("dalserver")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS outage")
        conn.execute("CREATE TABLE IF NOT EXISTS outage.t (x integer)")
        conn.execute("INSERT INTO outage.t VALUES (1), (2), (3)")
        publish_schema(conn, SchemaDef("outage", "tables the outage tests lock"))
        publish_table(conn, LOCKED)
    try:
        yield ManagedArchive(home, url, server)
    finally:
        stop_server(server)
        cluster.stop()


def _sync(base: str, query: str = QUICK, timeout: float = 30) -> httpx.Response:
    return httpx.post(f"{base}/tap/sync", data={"LANG": "ADQL", "QUERY": query}, timeout=timeout)


def _first_success_after(base: str, start: float, limit: float = 20) -> tuple[float, list[int]]:
    """Seconds from ``start`` to the first 200, and the statuses seen on the way."""
    seen = []
    while time.monotonic() - start < limit:
        try:
            status = _sync(base, timeout=10).status_code
        except httpx.TransportError:
            status = 0
        seen.append(status)
        if status == 200:
            return time.monotonic() - start, seen
        time.sleep(0.1)
    raise AssertionError(f"no success within {limit} s: {seen}")


@pytest.fixture
def locked(managed: ManagedArchive) -> Iterator[None]:
    """outage.t locked against reading, by a session that dies with the postmaster."""
    conn = psycopg.connect(managed.url)
    conn.execute("LOCK TABLE outage.t IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        try:
            conn.rollback()
            conn.close()
        except psycopg.Error:
            pass  # it died with its server


def _waiting_on_lock(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%outage%'"
        ).fetchone()
    return int(row[0]) if row else 0


def test_a_killed_postmaster_is_restarted_and_the_service_heals_while_idle(managed: ManagedArchive) -> None:
    assert _sync(managed.server.base).status_code == 200
    old = managed.postmaster()
    os.kill(old, signal.SIGKILL)
    start = time.monotonic()
    seconds, seen = _first_success_after(managed.server.base, start)
    assert seconds < 5, f"healed after {seconds:.1f} s: {seen}"
    assert managed.postmaster() != old
    assert all(s in (200, 503) for s in seen), seen  # never a client error for the database's absence
    log = managed.log()
    assert "starting it again" in log and "PostgreSQL is running again" in log


def test_a_sync_query_cut_off_by_a_dying_database_is_a_503_and_the_next_works(
    managed: ManagedArchive, locked: None
) -> None:
    answers: list[httpx.Response] = []
    client = threading.Thread(target=lambda: answers.append(_sync(managed.server.base, "SELECT x FROM outage.t")))
    client.start()
    assert eventually(lambda: _waiting_on_lock(managed.url) == 1), "the query never started"
    os.kill(managed.postmaster(), signal.SIGKILL)
    start = time.monotonic()
    client.join(timeout=10)
    assert answers, "the request hung"
    response = answers[0]
    assert response.status_code == 503 and response.headers.get("Retry-After")
    assert query_status(response)[0] == "ERROR" and "not available" in query_status(response)[1]
    seconds, seen = _first_success_after(managed.server.base, start)
    assert seconds < 5, f"healed after {seconds:.1f} s: {seen}"


def test_an_async_job_interrupted_by_the_database_is_not_spent(managed: ManagedArchive, locked: None) -> None:
    job = submit(f"{managed.server.base}/tap", "SELECT x FROM outage.t")
    assert eventually(lambda: _waiting_on_lock(managed.url) == 1), "the job's query never started"
    os.kill(managed.postmaster(), signal.SIGKILL)
    # The lock went with the old server: once the database is back, the job runs again, to the end.
    assert wait_for_phase(job, ("COMPLETED", "ERROR", "ABORTED"), timeout=60) == "COMPLETED"
    with psycopg.connect(managed.url) as conn:
        row = conn.execute("SELECT attempts FROM uws.job WHERE job_id = %s", (job.rsplit("/", 1)[1],)).fetchone()
    assert row is not None and row[0] == 1, f"the interrupted run was counted: {row}"


def test_a_stopped_database_gives_a_timely_503_and_availability_says_why(managed: ManagedArchive) -> None:
    assert _first_success_after(managed.server.base, time.monotonic())[0] < 10
    processes = managed.cluster_processes()
    for pid in processes:
        os.kill(pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        response = _sync(managed.server.base, timeout=15)
        assert time.monotonic() - start < 6, "the request hung on the stopped database"
        assert response.status_code == 503 and response.headers.get("Retry-After")
        availability = httpx.get(f"{managed.server.base}/tap/availability", timeout=5).text
        assert "<vosi:available>false</vosi:available>" in availability
        assert re.search(r"not available since .*did not answer", availability)
    finally:
        for pid in processes:
            os.kill(pid, signal.SIGCONT)
    seconds, seen = _first_success_after(managed.server.base, time.monotonic())
    assert seconds < 6, seen
