"""Sharded catalogues on one machine: ingest into 1 and 3 managed local shards against a bare
COPY, the position index build per million rows (pgsphere GiST against the HEALPix B-tree), cone
latency on the sharded catalogue (pruned to one shard) against an ordinary one, and a TAP_UPLOAD
cross-match scattered to the shards against the same on the ordinary table.

Usage: .venv/bin/python bench/shards.py [--rows 1000000] [--upload 10000] [--cones 200] [--quick]

An archive of its own in a temporary home (`dalserver db init`, three `dalserver shards create`),
removed afterwards. Every shard shares this machine's cores with the coordinator and the client:
the figures show what sharding costs here, not what separate machines would gain (the operator's
guide, docs/operators-guide/sharding.md, extrapolates).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import psycopg
import pyarrow.parquet as pq
from astropy.io.votable import from_table
from astropy.table import Table
from common import SIDECAR, free_port, make_catalogue, percentiles, start_server
from position_index import position_index_report, print_report

from dalserver.db.location import managed_cluster
from dalserver.db.shards import local_shards
from dalserver.settings import Settings

DATABASE = "dalserver_bench_shards"


def dalserver(env: dict[str, str], *args: str) -> float:
    """Run the command; the seconds its ingest reports (load, index, swap: not the command's
    start-up nor the registry refresh after it), or its wall time."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dalserver", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"dalserver {' '.join(args)} failed:\n{done.stderr}")
    reported = re.search(r"rows in ([0-9.]+) s", done.stdout)
    return float(reported.group(1)) if reported else time.perf_counter() - started


def bare_copy(url: str, csv: Path) -> float:
    """Rows/s of COPY of the CSV into a table without indexes: the floor."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE public.bench_copy (source_id bigint, ra float8, dec float8, mag_g real, mag_r real, "
            "flags smallint, parallax float8)"
        )
        started = time.perf_counter()
        copy_sql = "COPY public.bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)"
        with conn.cursor() as cur, cur.copy(copy_sql) as copy, csv.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM public.bench_copy").fetchone()
        conn.execute("DROP TABLE public.bench_copy")
    assert rows is not None
    return int(rows[0]) / seconds


def cones(base: str, table: str, count: int) -> float:
    rng = np.random.default_rng(3)
    samples = []
    # One keep-alive client, as a TAP client would: httpx.post() alone builds a client (and its
    # TLS context) for every request, some 30 ms that are not the server's.
    with httpx.Client(timeout=60) as client:
        for ra, dec in rng.uniform((0, -80), (360, 80), (count, 2)):
            circle = f"CIRCLE({ra:.6f}, {dec:.6f}, 0.2)"
            query = f"SELECT source_id, ra, dec FROM {table} WHERE 1 = CONTAINS(POINT(ra, dec), {circle})"
            started = time.perf_counter()
            response = client.post(f"{base}/tap/sync", data={"LANG": "ADQL", "QUERY": query})
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return percentiles(samples)[0]


def cross_match(base: str, table: str, parquet: Path, count: int) -> tuple[float, int]:
    """Seconds (median of 3) and pairs of ``count`` catalogue positions, moved by up to 1 arcsec,
    matched at 2 arcsec through /tap/sync."""
    rng = np.random.default_rng(5)
    rows = pq.read_table(parquet, columns=["ra", "dec"]).slice(0, count)
    jitter = rng.uniform(-1 / 3600, 1 / 3600, (2, rows.num_rows))
    upload = Table(
        {
            "uid": np.arange(rows.num_rows),
            "ra": rows.column("ra").to_numpy() + jitter[0],
            "dec": np.clip(rows.column("dec").to_numpy() + jitter[1], -90, 90),
        }
    )
    body = io.BytesIO()
    from_table(upload).to_xml(body)
    query = (
        f"SELECT u.uid, s.source_id FROM TAP_UPLOAD.mine AS u JOIN {table} AS s "
        "ON 1 = CONTAINS(POINT(s.ra, s.dec), CIRCLE(u.ra, u.dec, 2/3600.0))"
    )
    times = []
    for _ in range(3):
        started = time.perf_counter()
        response = httpx.post(
            f"{base}/tap/sync",
            data={"LANG": "ADQL", "QUERY": query, "UPLOAD": "mine,param:mine", "RESPONSEFORMAT": "csv"},
            files={"mine": ("mine.xml", body.getvalue())},
            timeout=600,
        )
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    return statistics.median(times), response.text.count("\n") - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--upload", type=int, default=10_000)
    parser.add_argument("--cones", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="100,000 rows, a 2,000-row upload, 50 cones")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.upload, args.cones = 100_000, 2_000, 50
    home = Path(tempfile.mkdtemp(prefix="dalserver-bench-shards-"))
    home.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("DALSERVER_DATABASE_URL", "DALSERVER_SHARDS")}
    # The server starts after every ingest, so the default catalogue TTL serves it: with 0, every
    # query would re-read TAP_SCHEMA (some 9 ms), which is not what a cone costs.
    env.update(DALSERVER_HOME=str(home), DALSERVER_DATABASE_NAME=DATABASE)
    settings = Settings(home=home, database_name=DATABASE)
    server = None
    try:
        dalserver(env, "db", "init")
        for name in ("s1", "s2", "s3"):
            dalserver(env, "shards", "create", name)
        url = managed_cluster(settings).url(DATABASE)
        csv, parquet = make_catalogue(args.rows, home)
        meta = home / "bench.yaml"
        meta.write_text(SIDECAR)
        floor = bare_copy(url, csv)
        print(f"rows {args.rows:,}; bare COPY {floor:,.0f} rows/s")
        flat = dalserver(
            env, "ingest", "catalog", str(parquet), "--table", "bench.flat", "--meta", str(meta), "--quiet"
        )
        print(f"ingest, ordinary table (GiST): {args.rows / flat:,.0f} rows/s ({args.rows / flat / floor:.2f} x COPY)")
        for shards in (1, 3):
            seconds = dalserver(
                env, "ingest", "catalog", str(parquet), "--table", f"bench.sharded{shards}", "--meta", str(meta),
                "--shards", str(shards), "--quiet",
            )  # fmt: skip
            rate = args.rows / seconds
            print(
                f"ingest into {shards} shard(s) (GiST): {rate:,.0f} rows/s ({rate / floor:.2f} x COPY, "
                f"{flat / seconds:.2f} x the ordinary table's ingest)"
            )
        # bench/position_index.py's measure (its own rows, both indexes built and queried)
        print_report(position_index_report(url, rows=args.rows, queries=args.cones, builds=1))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server({**env, "DALSERVER_PORT": str(port), "DALSERVER_WORKERS": "1"}, base)
        for table in ("bench.flat", "bench.sharded3"):
            print(f"cone 0.2 deg p50, {table}: {cones(base, table, args.cones):.1f} ms")
        for table in ("bench.flat", "bench.sharded3"):
            seconds, pairs = cross_match(base, table, parquet, args.upload)
            print(f"UPLOAD {args.upload:,} x {table} at 2 arcsec: {seconds:.2f} s ({pairs} pairs)")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        for shard in local_shards(home):
            shard.remove()
        cluster = managed_cluster(settings)
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
