"""Test fixtures: a real PostgreSQL + pgsphere (a throw-away managed cluster, or the server named by
DALSERVER_DATABASE_URL), the sample archive ingested with the real command line, and the real
HTTP server (uvicorn in a subprocess on a free port).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from lxml import etree
from psycopg_pool import AsyncConnectionPool

from adql import Catalog
from archive_io.tap_schema import catalog_from_tap_schema, read_tap_schema
from dalserver.db.location import database_url, managed_cluster
from dalserver.settings import Settings
from tests.tap.helpers import stilts_schemas

# The suite replays the same examples every run, so a red run always means a change broke
# something (CI sets no variable we could rely on to tell it apart from a user's clone).
# HYPOTHESIS_PROFILE=explore draws new inputs (2000 per property unless a test sets its own
# count) to look for new failures.
# No deadlines: speed is measured in bench/, not by timing tests on a busy CI machine.
hypothesis_settings.register_profile("replay", derandomize=True, print_blob=True, deadline=None)
hypothesis_settings.register_profile("explore", max_examples=2000, print_blob=True, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "replay"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Archive:
    settings: Settings
    url: str  # database URL
    env: dict[str, str]  # environment that points the dalserver command at this archive


@pytest.fixture(scope="session")
def archive() -> Iterator[Archive]:
    home = Path(tempfile.mkdtemp(prefix="dalserver-test-"))
    home.chmod(0o755)  # when tests run as root, the 'postgres' account must reach the cluster
    port = free_port()
    settings = Settings(home=home, port=port, database_name="dalserver_test")
    url = database_url(settings)
    env = {
        **os.environ,
        "DALSERVER_HOME": str(home),
        "DALSERVER_PORT": str(port),
        "DALSERVER_DATABASE_URL": url,
        "DALSERVER_CATALOG_TTL_SECONDS": "0",  # tables published by a test are queryable at once
        "DALSERVER_UPLOAD_URL_FETCH": "true",  # as the demo serves (TAP's mandatory upload-http)
        "DALSERVER_JOB_POLL_SECONDS": "0.5",
    }
    sample = settings.archive_root / "suprimecam"
    subprocess.run([sys.executable, "-m", "dalserver", "sample", str(sample)], env=env, check=True, capture_output=True)
    subprocess.run(
        [sys.executable, "-m", "dalserver", "ingest", "images", "--quiet", str(sample)],
        env=env,
        check=True,
        capture_output=True,
    )
    try:
        yield Archive(settings, url, env)
    finally:
        if not os.environ.get("DALSERVER_DATABASE_URL"):
            managed_cluster(settings).stop()
        shutil.rmtree(home, ignore_errors=True)


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


@pytest.fixture(scope="session")
def running_server(archive: Archive) -> Iterator[RunningServer]:
    server = start_server(archive.env, archive.settings.public_url, archive.settings.home / "server.log")
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="session")
def server(running_server: RunningServer) -> str:
    """The base URL of the running dalserver."""
    return running_server.base


@pytest.fixture(scope="session")
def tap_url(server: str) -> str:
    return f"{server}/tap"


@pytest.fixture
def db(archive: Archive) -> Iterator[psycopg.Connection]:
    with psycopg.connect(archive.url, autocommit=True) as conn:
        conn.execute("SELECT set_sphere_output('DEG')")
        yield conn


def load_catalog(url: str) -> Catalog:
    """The ADQL catalogue as the service builds it from TAP_SCHEMA, as of now."""

    async def load() -> Catalog:
        async with AsyncConnectionPool(url, min_size=1, max_size=1, open=False) as pool:
            return catalog_from_tap_schema(await read_tap_schema(pool))

    return asyncio.run(load())


@pytest.fixture(scope="session")
def catalog(archive: Archive) -> Catalog:
    return load_catalog(archive.url)


@pytest.fixture(scope="session")
def ivoa_schema(tmp_path_factory: pytest.TempPathFactory) -> etree.XMLSchema:
    """The IVOA XML schemas STILTS ships (UWS, VOSI, VOResource, VODataService, TAPRegExt), as one."""
    return stilts_schemas(tmp_path_factory.mktemp("xsd"))
