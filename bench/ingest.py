"""Catalogue ingest speed against PostgreSQL's own COPY, measured in the same run.

Usage: .venv/bin/python bench/ingest.py [--rows 5000000]
Writes a catalogue of N rows x 7 columns as CSV and Parquet, times a plain COPY of the CSV into an
unindexed table (the floor), then `dalserver ingest catalog` on each file in a subprocess, and
prints rows/s, the ratio to COPY (for the load alone and end to end, the latter including the
pgsphere index and ANALYZE) and the ingest process's peak memory. Uses the managed cluster under
$DALSERVER_HOME (default .dalserver), or DALSERVER_DATABASE_URL, in a database of its own.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from common import SIDECAR, bench_database, drop_bench_schema, make_catalogue  # bench/ is on sys.path


def plain_copy(url: str, csv: Path) -> float:
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_floor")
        conn.execute(
            "CREATE TABLE bench_floor (source_id bigint, ra double precision, dec double precision, "
            "mag_g real, mag_r real, flags smallint, parallax double precision)"
        )
        conn.commit()
        start = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy("COPY bench_floor FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            csv.open("rb") as fh,
        ):
            while block := fh.read(1 << 20):
                copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - start
        conn.execute("DROP TABLE bench_floor")
        conn.commit()
    return seconds


def dalserver_ingest(env: dict[str, str], path: Path, sidecar: Path) -> tuple[float, float, float]:
    """(total seconds, load seconds, peak RSS in MB) of one `dalserver ingest catalog` run."""
    command = [
        sys.executable,
        "-m",
        "dalserver",
        "ingest",
        "catalog",
        str(path),
        "--table",
        "bench.catalogue",
        "--meta",
        str(sidecar),
        "--quiet",
    ]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]  # both are PIPEs
    if status != 0:
        raise SystemExit(f"ingest failed: {err}")
    total = float(re.search(r"rows in ([\d.]+) s", out).group(1))  # type: ignore[union-attr]  # it always says
    load = float(re.search(r"loading ([\d.]+) s", out).group(1))  # type: ignore[union-attr]  # it always says
    return total, load, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    args = parser.parse_args()
    url = bench_database()
    env = {**os.environ, "DALSERVER_DATABASE_URL": url}
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as tmp:
        folder = Path(tmp)
        print(f"writing {args.rows:,} rows x 7 columns ...", flush=True)
        csv, parquet = make_catalogue(args.rows, folder)
        sidecar = folder / "meta.yaml"
        sidecar.write_text(SIDECAR)
        print(f"CSV {csv.stat().st_size / 1e6:.0f} MB, Parquet {parquet.stat().st_size / 1e6:.0f} MB")
        floor = plain_copy(url, csv)
        floor_rate = args.rows / floor
        print(f"plain COPY of the CSV (floor): {floor:.1f} s, {floor_rate:,.0f} rows/s")
        for label, path in (("CSV", csv), ("Parquet", parquet)):
            total, load, rss = dalserver_ingest(env, path, sidecar)
            print(
                f"dalserver ingest {label:8s}: load {args.rows / load:,.0f} rows/s = {floor / load:.2f} x COPY; "
                f"end to end incl. spatial index {args.rows / total:,.0f} rows/s = {floor / total:.2f} x COPY; "
                f"peak RSS {rss:.0f} MB"
            )
    drop_bench_schema(url)


if __name__ == "__main__":
    main()
