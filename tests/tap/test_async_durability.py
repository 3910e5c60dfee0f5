"""Async jobs are durable: two server processes share one job store and each job runs once; a
server killed while a job is queued or executing loses nothing; jobs past their destruction time
go, with their files. These servers use a database of their own, so that no other test server
claims their jobs."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support.archive import Archive, fresh_database
from tests.support.servers import RunningServer, another_server, start_server_on_free_port, stop_server
from tests.support.uws import slow_query, submit, wait_for_phase
from tests.support.votable import query_status, rows


@dataclass
class JobsArchive:
    url: str
    env: dict[str, str]
    home: Path

    def start(self, name: str, **settings: str) -> RunningServer:
        return start_server_on_free_port(self.env, self.home / f"{name}.log", settings)

    def serving(self, name: str, **settings: str) -> AbstractContextManager[RunningServer]:
        return another_server(self.env, self.home / f"{name}.log", settings)

    def jobs(self) -> dict[str, tuple[str, int, int | None]]:
        """job_id -> (phase, attempts, worker_key), straight from the store."""
        with psycopg.connect(self.url) as conn:
            found = conn.execute("SELECT job_id, phase, attempts, worker_key FROM uws.job").fetchall()
        return {job_id: (phase, attempts, worker) for job_id, phase, attempts, worker in found}


@pytest.fixture(scope="module")
def jobs_archive(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobsArchive]:
    name = "dalserver_jobs_test"
    url = fresh_database(archive, name)  # no other test server claims its jobs
    home = tmp_path_factory.mktemp("jobs-archive")
    env = {
        **archive.env,
        "DALSERVER_DATABASE_URL": url,
        "DALSERVER_JOBS_DIR": str(home / "jobs"),  # shared by the servers, as on one host
        "DALSERVER_ASYNC_WORKERS": "1",
        "DALSERVER_JOB_POLL_SECONDS": "0.3",
        "DALSERVER_JOB_SWEEP_SECONDS": "0.5",
    }
    sample = archive.settings.archive_root / "suprimecam"
    subprocess.run(
        [sys.executable, "-m", "dalserver", "ingest", "images", "--quiet", str(sample)],
        env=env,
        check=True,
        capture_output=True,
    )
    yield JobsArchive(url, env, home)
    with psycopg.connect(archive.url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _job_id(job_url: str) -> str:
    return job_url.rsplit("/", 1)[1]


def test_two_servers_share_the_jobs_and_each_job_runs_once(jobs_archive: JobsArchive) -> None:
    with jobs_archive.serving("share-a") as a, jobs_archive.serving("share-b") as b:
        urls = [submit(f"{a.base}/tap", slow_query(8)) for _ in range(6)]
        for url in urls:
            seen_from_b = url.replace(a.base, b.base)
            assert wait_for_phase(seen_from_b, ("COMPLETED", "ERROR"), timeout=120) == "COMPLETED"
            assert rows(httpx.get(f"{seen_from_b}/results/result")) == [[str(132 * 132 * 132 * 8)]]
        store = jobs_archive.jobs()
        mine = [store[_job_id(u)] for u in urls]
        assert all(attempts == 1 for _, attempts, _ in mine)  # claimed exactly once each
        assert len({worker for _, _, worker in mine}) == 2  # and both processes did work


def test_a_killed_server_loses_neither_its_queued_nor_its_running_job(jobs_archive: JobsArchive) -> None:
    server = jobs_archive.start("kill")
    tap = f"{server.base}/tap"
    running = submit(tap, slow_query(40))
    wait_for_phase(running, ("EXECUTING",))
    queued = submit(tap, "SELECT COUNT(*) AS n FROM ivoa.obscore")
    time.sleep(0.5)
    assert httpx.get(f"{queued}/phase").text == "QUEUED"  # the one worker is busy
    stop_server(server, signal.SIGKILL)
    store = jobs_archive.jobs()
    assert store[_job_id(running)][0] == "EXECUTING" and store[_job_id(queued)][0] == "QUEUED"

    with jobs_archive.serving("kill-restarted") as restarted:
        for url in (running, queued):
            again = url.replace(server.base, restarted.base)
            assert wait_for_phase(again, ("COMPLETED", "ERROR"), timeout=120) == "COMPLETED"
        assert jobs_archive.jobs()[_job_id(running)][1] == 2  # re-run after the crash
        assert jobs_archive.jobs()[_job_id(queued)][1] == 1


def test_a_job_out_of_attempts_ends_in_error_saying_why(jobs_archive: JobsArchive) -> None:
    server = jobs_archive.start("attempts", DALSERVER_JOB_MAX_ATTEMPTS="1")
    job = submit(f"{server.base}/tap", slow_query(40))
    wait_for_phase(job, ("EXECUTING",))
    stop_server(server, signal.SIGKILL)
    with jobs_archive.serving("attempts-restarted", DALSERVER_JOB_MAX_ATTEMPTS="1") as restarted:
        again = job.replace(server.base, restarted.base)
        assert wait_for_phase(again, ("COMPLETED", "ERROR"), timeout=60) == "ERROR"
        message = query_status(httpx.get(f"{again}/error"))[1]
        assert "stopped before it finished" in message


def test_a_clean_shutdown_hands_the_running_job_back_without_spending_an_attempt(
    jobs_archive: JobsArchive,
) -> None:
    server = jobs_archive.start("graceful")
    job = submit(f"{server.base}/tap", slow_query(40))
    wait_for_phase(job, ("EXECUTING",))
    stop_server(server)  # SIGTERM: uvicorn shuts the app down
    assert jobs_archive.jobs()[_job_id(job)][:2] == ("QUEUED", 0)
    with jobs_archive.serving("graceful-restarted") as restarted:
        again = job.replace(server.base, restarted.base)
        assert wait_for_phase(again, ("COMPLETED", "ERROR"), timeout=120) == "COMPLETED"
        assert jobs_archive.jobs()[_job_id(job)][1] == 1


def test_the_sweeper_removes_jobs_past_their_destruction_time(jobs_archive: JobsArchive) -> None:
    with jobs_archive.serving("sweeper") as server:
        job = submit(f"{server.base}/tap", "SELECT TOP 1 obs_id FROM ivoa.obscore")
        wait_for_phase(job, ("COMPLETED",))
        directory = jobs_archive.home / "jobs" / _job_id(job)
        assert directory.is_dir()
        httpx.post(f"{job}/destruction", data={"DESTRUCTION": "2000-01-01T00:00:00Z"})
        deadline = time.monotonic() + 10
        while httpx.get(job).status_code != 404:
            assert time.monotonic() < deadline, "the expired job was not removed"
            time.sleep(0.2)
        assert not directory.exists()
        assert _job_id(job) not in jobs_archive.jobs()
