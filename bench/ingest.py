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

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from dalserver.db.bootstrap import bootstrap
from dalserver.db.location import database_url
from dalserver.settings import Settings

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
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    if status != 0:
        raise SystemExit(f"ingest failed: {err}")
    total = float(re.search(r"rows in ([\d.]+) s", out).group(1))  # type: ignore[union-attr]
    load = float(re.search(r"loading ([\d.]+) s", out).group(1))  # type: ignore[union-attr]
    return total, load, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    args = parser.parse_args()
    settings = Settings(database_name="dalserver_bench")
    url = database_url(settings)
    bootstrap(url)
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
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench CASCADE")
        conn.execute("DELETE FROM tap_schema.columns WHERE table_name LIKE 'bench.%'")
        conn.execute("DELETE FROM tap_schema.tables WHERE schema_name = 'bench'")
        conn.execute("DELETE FROM tap_schema.schemas WHERE schema_name = 'bench'")


if __name__ == "__main__":
    main()
