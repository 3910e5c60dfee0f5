"""Result streaming speed of /tap/sync against PostgreSQL's own COPY, measured in the same run.

Usage: .venv/bin/python bench/stream.py [--rows 1000000] [--formats votable,csv,...]
Publishes a catalogue of N rows x 7 columns (bigint, 3 double, 2 real, smallint) with the real
ingest command, starts a real server on a free port, then for each output format downloads
``SELECT * FROM bench.stream`` (MAXREC above N) with httpx and reports rows/s, the ratio to
``COPY (same SQL) TO STDOUT`` on one connection (the floor), and the server's peak RSS while it
sent that format. Every format is first asked for once on 1,000 rows, untimed: the steady state
of a worker is measured, not its first use of a format. Uses the managed cluster under
$DALSERVER_HOME (default .dalserver), or DALSERVER_DATABASE_URL, in a database of its own.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import httpx
import psycopg
from common import bench_database, load_catalog, publish_catalogue, server_env, serving

from adql import to_postgres
from pgsql_text.session import SPHERE_OUTPUT_DEGREES

QUERY = "SELECT * FROM bench.stream"
FORMATS = ["votable", "votable/b2", "csv", "tsv", "json", "parquet", "fits"]


def copy_floor(url: str, sql: str) -> tuple[float, int]:
    """Seconds and bytes for COPY (sql) TO STDOUT (FORMAT csv), read to the end on one connection."""
    with psycopg.connect(url) as conn:
        conn.execute(SPHERE_OUTPUT_DEGREES)
        start = time.perf_counter()
        size = 0
        with conn.cursor() as cur, cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER true)") as copy:
            for block in copy:
                size += len(block)
        return time.perf_counter() - start, size


class PeakRSS:
    """Samples a process's resident memory every 20 ms while in use."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()

    def _rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._rss_mb())

    def __enter__(self) -> PeakRSS:
        self.peak = self._rss_mb()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def download(base: str, fmt: str, rows: int, query: str = QUERY) -> tuple[float, int]:
    params = {"LANG": "ADQL", "QUERY": query, "MAXREC": str(rows + 10), "RESPONSEFORMAT": fmt}
    start = time.perf_counter()
    size = 0
    # Uncompressed: this measures writing the format (bench/compression.py measures gzip).
    headers = {"Accept-Encoding": "identity"}
    with httpx.stream("POST", f"{base}/tap/sync", data=params, timeout=600, headers=headers) as response:
        if response.status_code != 200:
            raise SystemExit(f"{fmt}: HTTP {response.status_code}: {response.read()[:500]!r}")
        for block in response.iter_raw(1 << 20):
            size += len(block)
    return time.perf_counter() - start, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", default=",".join(FORMATS))
    args = parser.parse_args()
    url = bench_database()
    env, base = server_env(url, DALSERVER_MAXREC_HARD=str(args.rows + 10), DALSERVER_STATEMENT_TIMEOUT_SECONDS="600")
    publish_catalogue(env, args.rows, "bench.stream")
    sql = to_postgres(QUERY, load_catalog(url), row_limit=args.rows + 1).sql
    floor, floor_bytes = copy_floor(url, sql)
    print(f"{args.rows:,} rows x 7 columns; COPY TO STDOUT (floor): {floor:.2f} s, {args.rows / floor:,.0f} rows/s")
    with serving(env, base, url) as server:
        print(f"server RSS at rest: {PeakRSS(server.pid)._rss_mb():.0f} MB")
        # Each format once on 1,000 rows first: what a worker loads on a format's first use
        # (astropy's FITS writer, pyarrow.parquet) is not counted against every download.
        for fmt in args.formats.split(","):
            seconds, _ = download(base, fmt, 1000, "SELECT TOP 1000 * FROM bench.stream")
            print(f"first {fmt} answer (1,000 rows, untimed below): {seconds:.2f} s")
        print(f"server RSS after the first answers: {PeakRSS(server.pid)._rss_mb():.0f} MB")
        for fmt in args.formats.split(","):
            with PeakRSS(server.pid) as rss:
                seconds, size = download(base, fmt, args.rows)
            print(
                f"{fmt:11s} {seconds:6.2f} s {args.rows / seconds:>11,.0f} rows/s = {floor / seconds:.2f} x COPY; "
                f"{size / 1e6:6.0f} MB; server peak RSS {rss.peak:.0f} MB"
            )


if __name__ == "__main__":
    main()
