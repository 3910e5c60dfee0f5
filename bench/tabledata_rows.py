"""Where the TABLEDATA writer of a small result should stop writing rows in Python: the CPU time of
encoding one batch by plain Python (dalserver.formats.tabledata_rows) and by pyarrow.compute (the
path every larger batch takes), at row counts from 1 up, for SIA's ObsCore columns (34: text, some
null, doubles, bigints, a timestamp and an STC-S region, as bench/sia.py fills them) and a cone's
(source_id, ra, dec, mag_g, mag_r as bench/small_queries.py asks them); then the whole writer
(head, rows, tail) for SIA's one row and a 50-row cone, both ways.

Usage: .venv/bin/python bench/tabledata_rows.py [--repeat 7]
No database and no server: the columns as the writer receives them (formats.columns.canonical).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator, Callable

import numpy as np
import pyarrow as pa

from adql.catalog import ColumnMeta
from dalserver.formats import votable
from dalserver.formats.columns import arrow_type
from dalserver.formats.tabledata_rows import FEW_ROWS, tabledata_rows
from dalserver.formats.votable_nulls import null_cell
from ivoa.vocabulary import StandardID
from schemas.model import builtin_schemas, catalog_of

ROWS = [1, 2, 5, 10, 20, 50, 100, 150, 200, 300, 500]
CONE = [
    ColumnMeta("source_id", "long"),
    ColumnMeta("ra", "double", unit="deg"),
    ColumnMeta("dec", "double", unit="deg"),
    ColumnMeta("mag_g", "float"),
    ColumnMeta("mag_r", "float"),
]
# What bench/sia.py stores in each ObsCore column; the others are null.
_TEXT = {
    "dataproduct_type": "image",
    "obs_collection": "bench",
    "access_format": "image/fits",
    "facility_name": "Bench",
    "instrument_name": "BenchCam",
    "data_rights": "public",
    "obs_release_date": "2020-01-01T00:00:00",
}
_NUMBERS = {"calib_level", "access_estsize", "s_ra", "s_dec", "s_fov", "s_xel1", "s_xel2", "t_min", "t_max"}
_NUMBERS |= {"t_exptime", "em_min", "em_max"}


def obscore_columns() -> list[ColumnMeta]:
    (table,) = [t for t in catalog_of(builtin_schemas()).tables if t.name == "obscore"]
    return list(table.columns)


def obscore_arrays(columns: list[ColumnMeta], rows: int, rng: np.random.Generator) -> list[pa.Array]:
    arrays = []
    ra, dec = rng.uniform(1, 61, rows), rng.uniform(-15, 15, rows)
    for c in columns:
        kind = arrow_type(c)
        if c.name == "s_region":
            values = [
                f"Polygon ICRS {a - 0.18} {d - 0.175} {a + 0.18} {d - 0.175} {a + 0.18} {d + 0.175}"
                for a, d in zip(ra, dec, strict=True)
            ]
            arrays.append(pa.array(values, kind))
        elif c.name in ("obs_id", "obs_publisher_did", "access_url"):
            arrays.append(pa.array([f"http://bench.invalid/{k}.fits" for k in range(rows)], kind))
        elif c.name in _TEXT:
            arrays.append(pa.array([_TEXT[c.name]] * rows, kind))
        elif c.name in _NUMBERS and pa.types.is_floating(kind):
            arrays.append(pa.array(rng.uniform(0, 60000, rows), kind))
        elif c.name in _NUMBERS:
            arrays.append(pa.array(rng.integers(0, 4096, rows), kind))
        else:
            arrays.append(pa.nulls(rows, kind))
    return arrays


def cone_arrays(rows: int, rng: np.random.Generator) -> list[pa.Array]:
    return [
        pa.array(np.arange(rows, dtype=np.int64)),
        pa.array(rng.uniform(0, 360, rows)),
        pa.array(rng.uniform(-60, 60, rows)),
        pa.array(rng.uniform(14, 26, rows).astype(np.float32)),
        pa.array(rng.uniform(14, 26, rows).astype(np.float32)),
    ]


def cpu_us(work: Callable[[], object], repeat: int) -> float:
    """The best CPU time of one call, in microseconds, over ``repeat`` rounds of enough calls."""
    calls = 1
    while True:  # enough calls for some 20 ms a round
        start = time.process_time()
        for _ in range(calls):
            work()
        if time.process_time() - start > 0.02:
            break
        calls *= 2
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(calls):
            work()
        best = min(best, time.process_time() - start)
    return best / calls * 1e6


def both_ways(encode: Callable[[], bytes], repeat: int) -> tuple[float, float]:
    """CPU microseconds of ``encode`` in Python (as the writer chooses) and by pyarrow.compute."""
    python = cpu_us(encode, repeat)
    saved, votable.FEW_ROWS = votable.FEW_ROWS, -1
    try:
        arrow = cpu_us(encode, repeat)
    finally:
        votable.FEW_ROWS = saved
    return python, arrow


async def _batches(batch: pa.RecordBatch) -> AsyncIterator[pa.RecordBatch]:
    yield batch


def whole_document(columns: list[ColumnMeta], arrays: list[pa.Array], maxrec: int) -> Callable[[], bytes]:
    batch = pa.record_batch(arrays, names=[c.name for c in columns])
    extras = votable.VOTableExtras(infos=(("standardID", StandardID.SIA2),))
    loop = asyncio.new_event_loop()

    async def collect() -> bytes:
        return b"".join([c async for c in votable.tabledata_stream(columns, _batches(batch), maxrec, extras)])

    return lambda: loop.run_until_complete(collect())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(28)
    obscore = obscore_columns()
    shapes = {
        "ObsCore (34 columns)": (obscore, lambda rows: obscore_arrays(obscore, rows, rng)),
        "cone (5 columns)": (CONE, lambda rows: cone_arrays(rows, rng)),
    }
    print(
        f"CPU microseconds to encode one batch of TABLEDATA rows (best of {args.repeat}); Python up to {FEW_ROWS} rows"
    )
    for label, (columns, make) in shapes.items():
        nulls = [null_cell(c) for c in columns]
        print(f"  {label}:")
        for rows in ROWS:
            arrays = make(rows)
            python, arrow = both_ways(lambda a=arrays, n=nulls: votable.encode_tabledata(a, n), args.repeat)
            if rows > FEW_ROWS:  # the writer takes the Arrow path here: time Python's rows directly
                python = cpu_us(lambda a=arrays, n=nulls: tabledata_rows(a, n), args.repeat)
            print(
                f"    {rows:4d} rows: Python {python:8.1f}  pyarrow.compute {arrow:8.1f}  ratio {python / arrow:5.2f}"
            )
    print("The whole writer (head, rows, tail), CPU microseconds:")
    for label, columns, arrays, maxrec in (
        ("SIA, 1 ObsCore row of 2 (MAXREC=1)", obscore, obscore_arrays(obscore, 2, rng), 1),
        ("cone, 50 rows", CONE, cone_arrays(50, rng), 50),
    ):
        python, arrow = both_ways(whole_document(columns, arrays, maxrec), args.repeat)
        print(f"  {label:36s} now {python:7.1f}  with pyarrow.compute {arrow:7.1f}")


if __name__ == "__main__":
    main()
