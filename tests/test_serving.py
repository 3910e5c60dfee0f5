"""How the server holds up as an operator runs it: several workers on one port sharing the jobs,
a clean SIGTERM, a jobs directory that cannot be written, and clients that read slowly, not at
all, or send their request a byte at a time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support.archive import Archive, fresh_database
from tests.support.servers import RunningServer, resident_mb, start_server_on_free_port, stop_server
from tests.support.uws import submit, wait_for_phase
from tests.support.votable import query_status
from tests.support.waiting import eventually

PLAIN = {"Accept-Encoding": "identity"}  # bytes as the server writes them, not gzip'ed


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _worker_pids(server: RunningServer, count: int) -> list[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        # uvicorn's parent has the workers (and, with spawn, a resource tracker) as children
        workers = [p for p in _children(server.process.pid) if b"multiprocessing.resource_tracker" not in _cmdline(p)]
        if len(workers) >= count:
            return workers
        time.sleep(0.2)
    raise AssertionError("the workers did not start")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@dataclass
class OwnServer:
    server: RunningServer
    database_url: str


@pytest.fixture(scope="module")
def two_workers(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnServer]:
    home = tmp_path_factory.mktemp("two-workers")
    url = fresh_database(archive, "dalserver_workers_test")  # no other test server claims its jobs
    server = start_server_on_free_port(
        {**archive.env, "DALSERVER_DATABASE_URL": url},
        home / "server.log",
        {"DALSERVER_WORKERS": "2", "DALSERVER_ASYNC_WORKERS": "1", "DALSERVER_JOBS_DIR": str(home / "jobs")},
    )
    try:
        yield OwnServer(server, url)
    finally:
        stop_server(server)


def test_two_workers_serve_one_port_and_share_the_jobs(two_workers: OwnServer) -> None:
    server = two_workers.server
    assert len(_worker_pids(server, 2)) == 2
    with httpx.Client(timeout=30) as client:
        for _ in range(20):
            # a new connection each time, so the kernel spreads them over both workers
            response = httpx.post(
                f"{server.base}/tap/sync",
                data={"LANG": "ADQL", "QUERY": "SELECT TOP 1 table_name FROM tap_schema.tables"},
                headers={"Connection": "close"},
            )
            assert response.status_code == 200
        # Each worker runs one job at a time, and each job lasts a while (a count over a cross
        # join, about 0.2 s): while one worker is busy, the queued jobs can only go to the other.
        # With a job of a few milliseconds one worker could take all eight, one after the other.
        slow = "SELECT COUNT(*) AS n FROM tap_schema.columns AS a, tap_schema.columns AS b, tap_schema.columns AS c"
        jobs = [submit(f"{server.base}/tap", slow) for _ in range(8)]
        for job in jobs:
            assert wait_for_phase(job, ("COMPLETED", "ERROR"), timeout=60) == "COMPLETED"
            assert client.get(f"{job}/results/result").status_code == 200
    with psycopg.connect(two_workers.database_url) as conn:
        ids = [j.rsplit("/", 1)[1] for j in jobs]
        rows = conn.execute("SELECT DISTINCT worker_key FROM uws.job WHERE job_id = ANY(%s)", (ids,)).fetchall()
        backends = {r[0] for r in rows}
    # Each worker process claims under its own key: both took jobs from the one queue.
    assert len(backends) == 2, backends


# What the command line's set-up (psycopg, pydantic, the schemas) and the workers (pyarrow, numpy,
# lxml, and on demand astropy, mocpy, Pillow, scipy) load must not stay in the process that only
# supervises them. Read from the process's own memory map: a shared object mapped is one loaded.
HELD_BY_WORKERS_ONLY = (
    "libarrow",
    "numpy",
    "astropy",
    "mocpy",
    "cdshealpix",
    "lxml",
    "psycopg",
    "pydantic_core",
    "PIL",
)


def test_the_process_that_supervises_the_workers_holds_no_science_library_and_under_50_mb(
    two_workers: OwnServer,
) -> None:
    server = two_workers.server
    _worker_pids(server, 2)
    pid = server.process.pid
    assert b"dalserver.http.supervisor" in _cmdline(pid)  # the command's own process, re-executed
    maps = Path(f"/proc/{pid}/maps").read_text()
    assert [lib for lib in HELD_BY_WORKERS_ONLY if lib in maps] == []
    assert resident_mb(pid) <= 50


def _tcp_sockets(port: int) -> Iterator[tuple[str, str]]:
    """(state, inode) of every TCP socket whose local port is ``port``, from /proc/net."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()  # sl, local_address, rem_address, st, ..., inode (the tenth)
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                yield fields[3], fields[9]


def _established_connections(pid: int, port: int) -> int:
    """The TCP connections to ``port`` that process ``pid`` holds open (its fds and /proc/net/tcp)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return sum(state == "01" and inode in inodes for state, inode in _tcp_sockets(port))


def _listening(port: int) -> int:
    return sum(state == "0A" for state, _ in _tcp_sockets(port))


def test_keep_alive_clients_connecting_at_once_are_spread_over_the_workers(two_workers: OwnServer) -> None:
    server = two_workers.server
    workers = _worker_pids(server, 2)
    port = int(server.base.rsplit(":", 1)[1])
    # Both listening: each worker has a socket of its own on the port (SO_REUSEPORT).
    assert eventually(lambda: _listening(port) == 2)
    before = [_established_connections(w, port) for w in workers]
    clients = [httpx.Client(timeout=30) for _ in range(16)]
    try:
        for client in clients:  # 16 connections, each kept open
            assert client.get(f"{server.base}/tap/availability").status_code == 200
        held = [_established_connections(w, port) - b for w, b in zip(workers, before, strict=True)]
        # All 16 on one worker would happen 2 times in 65,536 if the kernel spreads them evenly.
        assert sum(held) == 16 and min(held) >= 1, held
    finally:
        for client in clients:
            client.close()


def test_sigterm_stops_every_worker_cleanly(archive: Archive, tmp_path: Path) -> None:
    server = start_server_on_free_port(archive.env, tmp_path / "server.log", {"DALSERVER_WORKERS": "2"})
    workers = _worker_pids(server, 2)
    arguments = _cmdline(server.process.pid).split(b"\0")
    metrics_dir = Path(arguments[arguments.index(b"--metrics-dir") + 1].decode())
    assert metrics_dir.is_dir()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or _cmdline(pid) == b""
    assert not metrics_dir.exists()  # the workers' metrics files go with the server
    assert "Traceback" not in server.log.read_text()


# --- a jobs directory the server cannot write ------------------------------------------------------
@contextlib.contextmanager
def _read_only(directory: Path) -> Iterator[None]:
    """``directory`` read-only, for root too (a read-only bind mount), or by its mode otherwise."""
    if os.geteuid() == 0:
        subprocess.run(["mount", "--bind", str(directory), str(directory)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(directory), str(directory)], check=True)
            yield
        finally:
            subprocess.run(["umount", str(directory)], check=True)
    else:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)


def test_a_read_only_jobs_directory_is_a_server_error_and_ends_jobs_in_error(archive: Archive, tmp_path: Path) -> None:
    jobs_dir = tmp_path / "jobs"
    jobs_dir.mkdir()
    url = fresh_database(archive, "dalserver_readonly_test")  # no other test server claims its jobs
    server = start_server_on_free_port(
        {**archive.env, "DALSERVER_DATABASE_URL": url}, tmp_path / "server.log", {"DALSERVER_JOBS_DIR": str(jobs_dir)}
    )
    try:
        tap = f"{server.base}/tap"
        pending = submit(tap, "SELECT TOP 3 table_name FROM tap_schema.tables", run=False)
        with _read_only(jobs_dir):
            created = httpx.post(
                f"{tap}/async",
                data={"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.t", "UPLOAD": "t,param:t"},
                files={"t": ("t.csv", b"a\n1\n", "text/csv")},
            )
            assert created.status_code == 500
            status, message = query_status(created)
            assert status == "ERROR" and "could not be stored on the server" in message and "Traceback" not in message
            httpx.post(f"{pending}/phase", data={"PHASE": "RUN"})
            assert wait_for_phase(pending, ("COMPLETED", "ERROR"), timeout=30) == "ERROR"
            error = query_status(httpx.get(f"{pending}/error"))[1]
            assert "could not write the job's result" in error and str(jobs_dir) not in error
    finally:
        stop_server(server)


# --- slow, stuck and trickling clients --------------------------------------------------------------
@pytest.fixture(scope="module")
def patient_server(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server that drops a reader after 3 s without progress and a body after 2 s."""
    home = tmp_path_factory.mktemp("patient")
    server = start_server_on_free_port(
        archive.env,
        home / "server.log",
        {
            "DALSERVER_SEND_TIMEOUT_SECONDS": "3",
            "DALSERVER_REQUEST_BODY_TIMEOUT_SECONDS": "2",
            "DALSERVER_MAXREC_HARD": "10000000",
        },
    )
    try:
        yield server
    finally:
        stop_server(server)


def _query_running(url: str, fragment: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dalserver-query' "
            "AND state = 'active' AND query LIKE %s",
            (f"%{fragment}%",),
        ).fetchone()
    return bool(row and row[0])


def _quick_answer(base: str) -> float:
    start = time.monotonic()
    response = httpx.post(
        f"{base}/tap/sync", data={"LANG": "ADQL", "QUERY": "SELECT TOP 1 obs_id FROM ivoa.obscore"}, timeout=30
    )
    assert response.status_code == 200
    return time.monotonic() - start


def test_a_slow_reader_holds_no_database_connection_and_still_gets_everything(
    patient_server: RunningServer, five_million: str, archive: Archive
) -> None:
    params = {"LANG": "ADQL", "QUERY": f"SELECT * FROM {five_million}", "MAXREC": "1000000", "RESPONSEFORMAT": "csv"}
    lines = 0
    freed_at: int | None = None  # the lines read when the query had ended
    with httpx.stream("POST", f"{patient_server.base}/tap/sync", data=params, timeout=60, headers=PLAIN) as response:
        # The reader dawdles, a chunk every 50 ms (progress enough not to be dropped), until the
        # query has ended: its rows wait in the spool, and its connection is free long before the
        # reader is done. (A reader that reads nothing while it waits is dropped after 3 s on a
        # machine slow enough for the query to take longer.)
        deadline = time.monotonic() + 30
        for chunk in response.iter_raw(1 << 16):
            lines += chunk.count(b"\n")
            if freed_at is None and time.monotonic() < deadline:
                if _query_running(archive.url, "five_million"):
                    time.sleep(0.05)
                else:
                    freed_at = lines
    assert freed_at is not None and freed_at < 500_000, f"the query waited for its reader ({freed_at} lines read)"
    assert lines == 1_000_000 + 1


def test_a_stuck_reader_is_dropped_and_blocks_nobody(
    patient_server: RunningServer, five_million: str, archive: Archive
) -> None:
    params = {"LANG": "ADQL", "QUERY": f"SELECT * FROM {five_million}", "MAXREC": "5000000", "RESPONSEFORMAT": "csv"}
    with httpx.stream("POST", f"{patient_server.base}/tap/sync", data=params, timeout=60, headers=PLAIN) as response:
        chunks = response.iter_raw(1 << 16)
        next(chunks)
        assert _quick_answer(patient_server.base) < 5  # others are served while it sits there
        time.sleep(6)  # reads nothing: the server gives up on it after 3 s
        with pytest.raises(httpx.HTTPError):
            for _ in chunks:
                pass
    assert eventually(lambda: not _query_running(archive.url, "five_million"), 10)
    assert "read nothing for 3 s" in patient_server.log.read_text()


def test_a_trickled_request_body_is_refused_and_blocks_nobody(patient_server: RunningServer) -> None:
    host, port = patient_server.base.removeprefix("http://").split(":")
    body = b"LANG=ADQL&QUERY=SELECT+TOP+1+obs_id+FROM+ivoa.obscore"
    with socket.create_connection((host, int(port)), timeout=30) as raw:
        raw.sendall(
            b"POST /tap/sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        answer = b""

        def trickle() -> None:
            for byte in body:
                try:
                    raw.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.3)

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        assert _quick_answer(patient_server.base) < 5
        while b"\r\n\r\n" not in answer:
            data = raw.recv(4096)
            if not data:
                break
            answer += data
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
