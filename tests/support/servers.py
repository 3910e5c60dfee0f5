"""The real dalserver HTTP server (uvicorn in a subprocess, real sockets) for the tests that talk
to one: started on a port, waited for, stopped cleanly or killed."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    base: str  # its public URL
    process: subprocess.Popen[bytes]
    log: Path


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


def start_server_on_free_port(env: dict[str, str], log_path: Path, settings: dict[str, str]) -> RunningServer:
    """Another server on the same archive, with ``settings`` (DALSERVER_* variables) changed."""
    port = free_port()
    return start_server({**env, "DALSERVER_PORT": str(port), **settings}, f"http://127.0.0.1:{port}", log_path)


def stop_server(server: RunningServer, sig: int = signal.SIGTERM) -> None:
    """SIGTERM shuts the app down cleanly; SIGKILL is a crash."""
    server.process.send_signal(sig)
    server.process.wait(timeout=30)


@contextmanager
def another_server(env: dict[str, str], log_path: Path, settings: dict[str, str]) -> Iterator[RunningServer]:
    """A server on the same archive with ``settings`` changed, for the length of a block; stopped
    cleanly afterwards."""
    server = start_server_on_free_port(env, log_path, settings)
    try:
        yield server
    finally:
        stop_server(server)
