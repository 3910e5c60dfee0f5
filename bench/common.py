"""What the benchmarks share: a bench database, a published generated catalogue, a real server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from psycopg_pool import AsyncConnectionPool

from adql import Catalog
from archive_io.tap_schema import read_tap_schema
from dalserver.db.bootstrap import bootstrap
from dalserver.db.location import database_url
from dalserver.settings import Settings
from pgsql_text.session import SPHERE_OUTPUT_DEGREES

SIDECAR = "position: [ra, dec]\ncolumns:\n  ra: {unit: deg}\n  dec: {unit: deg}\n"


def make_catalogue(rows: int, folder: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(7)
    table = pa.table(
        {
            "source_id": np.arange(rows, dtype=np.int64),
            "ra": rng.uniform(0, 360, rows),
            "dec": np.degrees(np.arcsin(rng.uniform(-1, 1, rows))),
            "mag_g": rng.uniform(14, 26, rows).astype(np.float32),
            "mag_r": rng.uniform(14, 26, rows).astype(np.float32),
            "flags": rng.integers(0, 256, rows).astype(np.int16),
            "parallax": rng.normal(0, 2, rows),
        }
    )
    csv, parquet = folder / "bench.csv", folder / "bench.parquet"
    pa_csv.write_csv(table, csv)
    pq.write_table(table, parquet)
    return csv, parquet


def bench_database() -> str:
    """The URL of the benchmarks' own database (managed cluster or DALSERVER_DATABASE_URL), bootstrapped."""
    url = database_url(Settings(database_name="dalserver_bench"), create=True)  # the benchmarks set theirs up
    bootstrap(url)
    return url


def server_env(url: str, **settings: str) -> tuple[dict[str, str], str]:
    """The environment of a bench server on ``url`` (a free port, DALSERVER_* ``settings``) and its base URL."""
    port = free_port()
    # One worker unless asked: figures per process, and the pid serving is the pid started.
    env = {
        **os.environ,
        "DALSERVER_DATABASE_URL": url,
        "DALSERVER_PORT": str(port),
        "DALSERVER_WORKERS": "1",
        **settings,
    }
    return env, f"http://127.0.0.1:{port}"


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95."""
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[94]


@dataclass
class PairedTimings:
    direct: list[float] = field(default_factory=list)  # ms, the SQL on one psycopg connection
    service: list[float] = field(default_factory=list)  # ms, the same request through HTTP
    rows: int = 0  # found by the direct queries, in all


def paired_latencies(
    url: str, pairs: list[tuple[str, Callable[[httpx.Client], httpx.Response]]], warm_up: int = 20
) -> PairedTimings:
    """Each (SQL, request) pair timed both ways, one after the other, after ``warm_up`` untimed pairs
    (caches on both paths); a request that does not answer 200 ends the benchmark."""
    timings = PairedTimings()
    with psycopg.connect(url, autocommit=True) as conn, httpx.Client(timeout=30) as client:
        conn.execute(SPHERE_OUTPUT_DEGREES)
        for sql, send in pairs[:warm_up]:
            conn.execute(sql).fetchall()
            send(client)
        for sql, send in pairs:
            start = time.perf_counter()
            timings.rows += len(conn.execute(sql).fetchall())
            timings.direct.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            response = send(client)
            timings.service.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(response.text)
    return timings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def publish_catalogue(env: dict[str, str], rows: int, table: str) -> None:
    """Generate ``rows`` x 7 columns (see ingest.make_catalogue) and publish them with the real
    command line, position (ra, dec) declared so the spatial index is built."""
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as tmp:
        _, parquet = make_catalogue(rows, Path(tmp))
        sidecar = Path(tmp) / "meta.yaml"
        sidecar.write_text(SIDECAR)
        command = [sys.executable, "-m", "dalserver", "ingest", "catalog", str(parquet), "--table", table]
        subprocess.run([*command, "--meta", str(sidecar), "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL)


def drop_bench_schema(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench CASCADE")
        conn.execute("DELETE FROM tap_schema.columns WHERE table_name LIKE 'bench.%'")
        conn.execute("DELETE FROM tap_schema.tables WHERE schema_name = 'bench'")
        conn.execute("DELETE FROM tap_schema.schemas WHERE schema_name = 'bench'")


def load_catalog(url: str) -> Catalog:
    """The ADQL catalogue as the service builds it from TAP_SCHEMA."""

    async def load() -> Catalog:
        async with AsyncConnectionPool(url, min_size=1, max_size=1, open=False) as pool:
            return (await read_tap_schema(pool)).catalog()

    return asyncio.run(load())


@contextmanager
def serving(env: dict[str, str], base: str, url: str, drop: bool = True) -> Iterator[subprocess.Popen[bytes]]:
    """A real server for a benchmark; afterwards it is stopped and (with ``drop``) the bench schema dropped."""
    server = start_server(env, base)
    try:
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)
        if drop:
            drop_bench_schema(url)


def start_server(env: dict[str, str], base: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dalserver", "--log-level", "warning", "serve"], env=env, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    workers = int(env.get("DALSERVER_WORKERS", "1"))
    port = int(base.rsplit(":", 1)[1])
    while time.monotonic() < deadline:
        try:
            # Every worker listens on its own socket: clients that connect before the last one
            # is up would all stay with the first (keep-alive), and the figures be one worker's.
            ready = httpx.get(f"{base}/tap/availability", timeout=2).status_code == 200
            if ready and listeners(port) >= workers:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def listeners(port: int) -> int:
    """How many sockets listen on ``port`` (IPv4 and IPv6), from /proc/net."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()  # sl, local_address, rem_address, st, ...
                count += fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port
    return count


# --- CPU time of processes on this machine (/proc), for the benches' CPU budgets --------------------
def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (and of its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def postmaster(url: str) -> int | None:
    """The process id of the database cluster's postmaster, when it runs on this machine."""
    with contextlib.suppress(Exception), psycopg.connect(url) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
        pid = int((Path(row[0]) / "postmaster.pid").read_text().split()[0]) if row else 0
        if Path(f"/proc/{pid}/stat").exists():
            return pid
    return None


def children_cpu(parent: int) -> dict[int, float]:
    """CPU seconds so far of each child of ``parent`` (a cluster's server processes, a server's
    workers)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent:
                found[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def cpu_since(before: dict[int, float], now: dict[int, float]) -> float:
    """CPU seconds spent between two readings of ``children_cpu`` (a process started meanwhile
    counts from zero)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items())
