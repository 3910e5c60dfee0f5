"""Read scale-out on one machine: the mixed load with 0, 1 and 2 hot standbys, what routing costs
per request, and an UPLOAD cross-match on a standby against the primary.

Usage: .venv/bin/python bench/replicas.py [--rows 1000000] [--clients 16] [--seconds 30] [--workers 2]

An archive of its own in a temporary home: the managed primary (`dalserver db init`), a catalogue
of N rows (the real ingest) and 100,000 ObsCore footprints, and two standbys made by `dalserver
db standby create`. Then:

  load      bench/load.py's mix (cones 50 %, SIA 30 %, 100,000-row CSV downloads 10 %, async jobs
            10 %) for S seconds with C clients, against a server with 0, 1 and 2 standbys
            (DALSERVER_REPLICA_URLS); requests per second, p50 per kind, errors
  routing   QueryRouter.choose() with two standbys (the per-request cost of choosing, in Python),
            and 300 sequential cone queries with 0 and with 1 standby (p50 and p95)
  upload    10,000 positions x the catalogue at 2 arcsec through /tap/sync, on a server with no
            standby (the primary) and on one with a standby; and the two ways of handing an upload
            to a session on the primary, by SQL: a temporary table (CREATE TEMP, ADBC bulk ingest,
            ANALYZE: the way before standbys) against the arrays in session settings (now)

Every server, standby and client shares the same cores: on one machine a standby only takes
cores from the primary, so no gain is expected; the figures show what routing costs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np
import psycopg
from adbc_driver_manager import (
    INGEST_OPTION_MODE,
    INGEST_OPTION_MODE_APPEND,
    INGEST_OPTION_TARGET_TABLE,
    AdbcStatement,
    StatementOptions,
)
from astropy.io.votable import from_table
from astropy.table import Table
from common import free_port, load_catalog, make_catalogue, percentiles, start_server
from load import KINDS, run
from sia import fill as fill_obscore

from adql import to_postgres
from dalserver.db.adbc import ArrowConnection
from dalserver.db.arrow_pool import ArrowPool
from dalserver.db.cluster import LocalCluster
from dalserver.db.location import managed_cluster
from dalserver.db.replicas import PrimaryPositions, QueryRouter, standbys_from_urls
from dalserver.db.standby import local_standby
from dalserver.settings import Settings
from dalserver.tap.upload import UploadTable, bind_uploads, read_upload
from pgsql_text.quoting import quote_ident
from pgsql_text.session import SPHERE_OUTPUT_DEGREES

DATABASE = "dalserver_replicas_bench"
XMATCH = (
    "SELECT u.up_id, s.source_id, s.mag_g FROM TAP_UPLOAD.mine AS u JOIN bench.load AS s "
    "ON CONTAINS(POINT('ICRS', s.ra, s.dec), CIRCLE('ICRS', u.ra, u.dec, 2/3600.0)) = 1"
)
CONE = (
    "SELECT source_id, ra, dec, mag_g FROM bench.load "
    "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra}, {dec}, 0.25))"
)


def dalserver(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "dalserver", *args], env=env, check=True, stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def archive(rows: int) -> Iterator[tuple[dict[str, str], LocalCluster, list[str]]]:
    """The bench's own archive: its environment, its primary, the URLs of its two standbys."""
    home = Path(tempfile.mkdtemp(prefix="dalserver-bench-replicas-", dir=os.environ.get("TMPDIR", "/var/tmp")))
    home.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "DALSERVER_DATABASE_URL"}
    env.update({"DALSERVER_HOME": str(home), "DALSERVER_DATABASE_NAME": DATABASE, "DALSERVER_ASYNC_WORKERS": "4"})
    primary = managed_cluster(Settings(home=home, database_name=DATABASE))
    standbys = [local_standby(home, name) for name in ("s1", "s2")]
    try:
        dalserver(env, "db", "init")
        _, data = make_catalogue(rows, home)
        meta = home / "meta.yaml"
        meta.write_text("position: [ra, dec]\n")
        dalserver(env, "ingest", "catalog", str(data), "--table", "bench.load", "--meta", str(meta), "--quiet")
        fill_obscore(primary.url(DATABASE), 100_000)
        for standby in standbys:
            started = time.perf_counter()
            dalserver(env, "db", "standby", "create", standby.name)
            print(f"standby {standby.name}: made and started in {time.perf_counter() - started:.1f} s", flush=True)
        yield env, primary, [s.url(DATABASE) for s in standbys]
    finally:
        for standby in standbys:
            with contextlib.suppress(Exception):
                standby.remove(primary)
        primary.stop()
        shutil.rmtree(primary.root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def server(env: dict[str, str], workers: int, replicas: list[str]) -> Iterator[str]:
    port = free_port()
    settings = {
        "DALSERVER_PORT": str(port),
        "DALSERVER_WORKERS": str(workers),
        "DALSERVER_REPLICA_URLS": " ".join(replicas),
    }
    base = f"http://127.0.0.1:{port}"
    process = start_server({**env, **settings}, base)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=60)


def load(env: dict[str, str], replicas: list[str], args: argparse.Namespace) -> None:
    with server(env, args.workers, replicas) as base:
        asyncio.run(run(base, 4, 10))  # warm every worker's caches, and the standbys' buffers
        started = time.perf_counter()
        tally = asyncio.run(run(base, args.clients, args.seconds))
        elapsed = time.perf_counter() - started
        spread = {name: metric(base, name) for name in ("primary", "replica1", "replica2")}
    total = sum(len(v) for v in tally.latencies.values())
    failed = sum(len(v) for v in tally.errors.values())
    p50 = "  ".join(
        f"{kind.__name__} {statistics.median(tally.latencies[kind.__name__]):.0f} ms"
        for kind, _ in KINDS
        if tally.latencies.get(kind.__name__)
    )
    ran = ", ".join(f"{k} {v:.0f}" for k, v in spread.items() if v)
    print(
        f"  {len(replicas)} standby(s): {total / elapsed:6.1f} requests/s, {failed} errors; p50 {p50}; queries ran on {ran}",
        flush=True,
    )


def metric(base: str, server_name: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(httpx.get(f"{base}/metrics").text):
        for sample in family.samples:
            if sample.name == "dalserver_queries_total" and sample.labels.get("server") == server_name:
                return sample.value
    return 0.0


def choose_cost(replicas: list[str]) -> float:
    """Microseconds per QueryRouter.choose() with two standbys, both fit (as after their probes)."""
    primary = ArrowPool("postgresql:///x", 1)
    standbys = standbys_from_urls(replicas, 1)
    positions = PrimaryPositions()
    positions.record(1000)
    for standby in standbys:
        standby.health.replayed = 1000
        standby.health.probed.set()
    router = QueryRouter(primary, standbys, positions, 30.0)
    count = 100_000
    return timeit.timeit(router.choose, number=count) / count * 1e6


def cones(env: dict[str, str], replicas: list[str], count: int = 300) -> dict[int, tuple[float, float]]:
    """p50 and p95 of sequential cones on a server with no standby and on one with ``replicas``,
    both running, each cone sent to both in turn (so the machine's ups and downs hit both alike)."""
    rng = np.random.default_rng(11)
    timings: dict[int, list[float]] = {0: [], len(replicas): []}
    with server(env, 1, []) as plain, server(env, 1, replicas) as routed, httpx.Client(timeout=60) as client:
        bases = {0: plain, len(replicas): routed}
        for index in range(count + 30):
            query = CONE.format(ra=rng.uniform(0, 360), dec=rng.uniform(-60, 60))
            for key in sorted(bases, reverse=bool(index % 2)):
                started = time.perf_counter()
                response = client.post(f"{bases[key]}/tap/sync", data={"LANG": "ADQL", "QUERY": query})
                if response.status_code != 200:
                    raise SystemExit(response.text)
                if index >= 30:  # the first ones warm the caches
                    timings[key].append((time.perf_counter() - started) * 1000)
    return {key: percentiles(t) for key, t in timings.items()}


def upload_body(url: str, count: int) -> bytes:
    with psycopg.connect(url) as conn:
        picked = conn.execute(
            "SELECT ra, dec FROM bench.load WHERE abs(dec) < 80 ORDER BY source_id LIMIT %s", (count,)
        ).fetchall()
    table = Table()
    table["up_id"] = np.arange(len(picked), dtype=np.int64)
    table["ra"] = [ra + (1 / 3600) / np.cos(np.radians(dec)) for ra, dec in picked]
    table["dec"] = [dec for _, dec in picked]
    buffer = io.BytesIO()
    from_table(table).to_xml(buffer, tabledata_format="binary2")
    return buffer.getvalue()


def through_server(env: dict[str, str], replicas: list[str], body: bytes, repeat: int) -> tuple[float, int]:
    form = {
        "LANG": "ADQL",
        "QUERY": XMATCH,
        "UPLOAD": "mine,param:mine",
        "RESPONSEFORMAT": "votable/b2",
        "MAXREC": "100000",
    }
    with server(env, 1, replicas) as base, httpx.Client(timeout=600) as client:
        timings, found = [], 0
        for index in range(repeat + 1):
            started = time.perf_counter()
            response = client.post(f"{base}/tap/sync", data=form, files={"mine": ("mine.vot", body)})
            response.raise_for_status()
            if index:
                timings.append(time.perf_counter() - started)
            found = len(Table.read(io.BytesIO(response.content), format="votable"))
    return statistics.median(timings), found


def _temporary_table(conn: ArrowConnection, upload: UploadTable) -> str:
    """The way before standbys: a temporary table, filled by ADBC's bulk ingest, analysed."""
    name = "tap_upload_mine"
    columns = ", ".join(f"{quote_ident(c.name)} {c.sql_type}" for c in upload.columns)
    conn.run(f"CREATE TEMP TABLE {quote_ident(name)} ({columns})")
    statement = AdbcStatement(conn._connection)
    statement.set_options(
        **{
            INGEST_OPTION_TARGET_TABLE: name,
            INGEST_OPTION_MODE: INGEST_OPTION_MODE_APPEND,
            StatementOptions.INGEST_TEMPORARY.value: "true",
        }
    )
    statement.bind_stream(upload.data)
    statement.execute_update()
    statement.close()
    conn.run(f"ANALYZE {quote_ident(name)}")
    return f"pg_temp.{quote_ident(name)}"


def by_sql(url: str, upload: UploadTable, repeat: int) -> dict[str, float]:
    """Median seconds of each way of handing the upload to a fresh session on the primary, and the match."""
    catalog = load_catalog(url)
    timings: dict[str, list[float]] = {"temporary table": [], "session arrays": []}
    for _ in range(repeat):
        for way in timings:
            conn = ArrowConnection(url)
            conn.run(SPHERE_OUTPUT_DEGREES)
            started = time.perf_counter()
            if way == "temporary table":
                meta = replace(upload.meta(), sql_name=_temporary_table(conn, upload))
            else:
                bind_uploads(conn, [upload])
                meta = upload.meta()
            sql = to_postgres(XMATCH, catalog.with_tables([meta]), row_limit=100_001).sql
            statement = conn.statement()
            rows = statement.query(sql).read_all().num_rows
            statement.close()
            timings[way].append(time.perf_counter() - started)
            conn.close()
            assert rows > 0
    return {way: statistics.median(t) for way, t in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with archive(args.rows) as (env, primary, standbys):
        url = primary.url(DATABASE)
        print(f"mixed load, {args.clients} clients, {args.seconds:g} s, {args.workers} workers:", flush=True)
        for count in (0, 1, 2, 0):  # the first again at the end: how much the machine itself moved
            load(env, standbys[:count], args)
        print(f"routing: QueryRouter.choose() with two standbys: {choose_cost(standbys):.2f} µs per query")
        for count, (p50, p95) in cones(env, standbys[:1]).items():
            print(
                f"  300 sequential cones, {count} standby, alternating: p50 {p50:.2f} ms, p95 {p95:.2f} ms", flush=True
            )
        body = upload_body(url, 10_000)
        for count in (0, 1):
            seconds, found = through_server(env, standbys[:count], body, args.repeat)
            where = "a standby" if count else "the primary"
            print(
                f"upload: 10,000 x {args.rows:,} at 2 arcsec via /tap/sync on {where}: {seconds:.3f} s, {found} rows",
                flush=True,
            )
        path = Path(env["DALSERVER_HOME"]) / "mine.vot"
        path.write_bytes(body)
        upload = read_upload("mine", path, Settings())
        for way, seconds in by_sql(url, upload, args.repeat).items():
            print(f"  by SQL on the primary, {way}: {seconds:.3f} s (hand over + match + fetch)")


if __name__ == "__main__":
    main()
