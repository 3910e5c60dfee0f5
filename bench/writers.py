"""Where a download's CPU goes, per row: reading the result from PostgreSQL (ADBC) and each writer.

Usage: .venv/bin/python bench/writers.py [--rows 200000] [--repeat 5] [--parts N]
No server and no HTTP: the catalogue of bench/stream.py (7 columns: bigint, 3 double, 2 real,
smallint) as Arrow batches of the size the service reads (DALSERVER_FETCH_BATCH_BYTES, 1 MiB),
written by every output format's writer in this process; and the same rows read from PostgreSQL by
the ADBC driver as the service reads them. CPU time (all threads) and wall time, best of
``--repeat``, in microseconds per row: CPU is what a busy machine cannot hide, wall what a quiet
one with free cores shows (the writers encode large batches on every core, formats.parallel;
``--parts 1`` shows them on one). Uses the bench database (see bench/stream.py).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator, Callable
from functools import partial

import numpy as np
import pyarrow as pa
from common import bench_database

from adql.catalog import ColumnMeta
from dalserver.db.adbc import ArrowConnection
from dalserver.formats.registry import FORMATS, OutputFormat
from dalserver.settings import Settings

try:
    from dalserver.formats import parallel
except ImportError:  # the code before issue #28 (for a before/after run): one part, on the event loop
    parallel = None  # type: ignore[assignment]

COLUMNS = [
    ColumnMeta("source_id", "long"),
    ColumnMeta("ra", "double"),
    ColumnMeta("dec", "double"),
    ColumnMeta("mag_g", "float"),
    ColumnMeta("mag_r", "float"),
    ColumnMeta("flags", "short"),
    ColumnMeta("parallax", "double"),
]


def catalogue(rows: int) -> pa.Table:
    rng = np.random.default_rng(7)
    return pa.table(
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


def best_of(repeat: int, work: Callable[[], object]) -> tuple[float, float]:
    """Best CPU seconds and best wall seconds of ``repeat`` runs."""
    cpu, wall = [], []
    for _ in range(repeat):
        start_cpu, start = time.process_time(), time.perf_counter()
        work()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return min(cpu), min(wall)


def adbc_read(url: str, rows: int, batch_bytes: int, repeat: int) -> tuple[float, float]:
    conn = ArrowConnection(url)
    try:
        conn.run("DROP TABLE IF EXISTS public.bench_writers")
        conn.run(
            "CREATE TABLE public.bench_writers AS SELECT g::bigint AS source_id, random() * 360 AS ra, "
            "random() * 180 - 90 AS dec, (random() * 12 + 14)::real AS mag_g, (random() * 12 + 14)::real AS mag_r, "
            f"(random() * 255)::smallint AS flags, random() AS parallax FROM generate_series(1, {rows}) g"
        )

        def read() -> None:
            statement = conn.statement()
            try:
                for _ in statement.query("SELECT * FROM public.bench_writers", batch_bytes):
                    pass
            finally:
                statement.close()

        read()  # the table into the page cache
        return best_of(repeat, read)
    finally:
        conn.run("DROP TABLE IF EXISTS public.bench_writers")
        conn.close()


async def written_bytes(fmt: OutputFormat, rows_of: Callable[[], AsyncIterator[pa.RecordBatch]], rows: int) -> int:
    return sum([len(chunk) async for chunk in fmt.stream(COLUMNS, rows_of(), rows + 1)])


def write_once(fmt: OutputFormat, rows_of: Callable[[], AsyncIterator[pa.RecordBatch]], rows: int) -> int:
    return asyncio.run(written_bytes(fmt, rows_of, rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--parts", type=int, default=0, help="encode a large batch in this many parts (0: cores)")
    args = parser.parse_args()
    if args.parts and parallel is not None:
        parallel.PARTS = args.parts
    parts = parallel.PARTS if parallel is not None else 1
    batch_bytes = Settings().fetch_batch_bytes
    table = catalogue(args.rows)
    batches = table.to_batches(max_chunksize=max(1, batch_bytes * args.rows // table.nbytes))

    async def rows_of() -> AsyncIterator[pa.RecordBatch]:
        for each in batches:
            yield each

    print(f"{args.rows:,} rows x 7 columns in batches of {batches[0].num_rows:,} rows; {parts} part(s)")
    cpu, wall = adbc_read(bench_database(), args.rows, batch_bytes, args.repeat)
    print(f"{'ADBC read':14s} CPU {cpu / args.rows * 1e6:5.2f} us/row   wall {wall / args.rows * 1e6:5.2f} us/row")
    for fmt in FORMATS:
        size = write_once(fmt, rows_of, args.rows)  # first use: imports
        cpu, wall = best_of(args.repeat, partial(write_once, fmt, rows_of, args.rows))
        print(
            f"{fmt.aliases[0]:14s} CPU {cpu / args.rows * 1e6:5.2f} us/row   wall {wall / args.rows * 1e6:5.2f} us/row"
            f"   {size / args.rows:5.1f} bytes/row"
        )


if __name__ == "__main__":
    main()
