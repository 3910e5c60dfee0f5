"""The real dalserver HTTP server (uvicorn in a subprocess, real sockets) for the tests that talk
to one: started on a port, waited for, stopped cleanly or killed."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    base: str  # its public URL
    process: subprocess.Popen[bytes]
    log: Path
    on_stop: Callable[[], None] | None = None


def start_server(env: dict[str, str], base: str, log_path: Path) -> RunningServer:
    """Start ``dalserver serve`` (real uvicorn, real sockets) and wait until it answers."""
    log = open(log_path, "w")  # noqa: SIM115  # kept open for the server's life
    proc = subprocess.Popen(
        [sys.executable, "-m", "dalserver", "--log-level", "warning", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/tap/availability", timeout=2).status_code == 200:
                return RunningServer(base, proc, log_path)
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            raise RuntimeError("dalserver did not start:\n" + log_path.read_text())
        time.sleep(0.2)


def _records_url(database: str) -> str | None:
    """The public URL the archive's own registry records carry (registry.records_url), if any."""
    try:
        with psycopg.connect(database) as conn:
            row = conn.execute("SELECT public_url FROM registry.records_url").fetchone()
    except psycopg.errors.UndefinedTable:  # a database not bootstrapped yet
        return None
    return None if row is None else str(row[0])


def _give_back_records_url(database: str, url: str | None) -> None:
    with contextlib.suppress(psycopg.OperationalError), psycopg.connect(database) as conn:  # a database since dropped
        conn.execute("DELETE FROM registry.records_url")
        if url is not None:
            conn.execute("INSERT INTO registry.records_url VALUES (TRUE, %s, now())", (url,))


def start_server_on_free_port(env: dict[str, str], log_path: Path, settings: dict[str, str]) -> RunningServer:
    """Another server on the same archive, with ``settings`` (DALSERVER_* variables) changed.

    Its start makes its own URL the one the archive's registry records carry (as a real server's
    does); stopping it gives that back to the server before it, so that the next ingest's refresh
    in another test writes the session server's URLs, as an operator's next start would."""
    port = free_port()
    database = {**env, **settings}.get("DALSERVER_DATABASE_URL")
    before = _records_url(database) if database else None
    server = start_server({**env, "DALSERVER_PORT": str(port), **settings}, f"http://127.0.0.1:{port}", log_path)
    if database:
        server.on_stop = lambda: _give_back_records_url(database, before)
    return server


def resident_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory in MB as /proc/PID/status gives it: VmRSS as an operator reads it,
    or RssAnon (its own memory) or RssFile (mapped files). VmRSS counts the mapped pages of the
    libraries, which depend on the page cache: libraries just installed (a fresh clone, CI) sit in
    large folios that a process maps whole, so the same worker idles at 164 MB there and about 125
    MB on an older install (pyarrow's libarrow alone: 30 MB against 14)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def stop_server(server: RunningServer, sig: int = signal.SIGTERM) -> None:
    """SIGTERM shuts the app down cleanly; SIGKILL is a crash."""
    server.process.send_signal(sig)
    server.process.wait(timeout=30)
    if server.on_stop is not None:
        server.on_stop()


@contextmanager
def another_server(env: dict[str, str], log_path: Path, settings: dict[str, str]) -> Iterator[RunningServer]:
    """A server on the same archive with ``settings`` changed, for the length of a block; stopped
    cleanly afterwards."""
    server = start_server_on_free_port(env, log_path, settings)
    try:
        yield server
    finally:
        stop_server(server)
