"""Query results as the ADBC PostgreSQL driver hands them to the writers, and the writers driven as
the server drives them (an async iterator of record batches in, the bytes of a document out).

The batches are what PostgreSQL's types arrive as: smallint, integer and bigint as int16, int32
and int64; real and double precision as float32 and float64; text as utf8; boolean; timestamp as
timestamp[us]; numeric as ADBC's opaque text; arrays as lists; and pgsphere values, which the
service casts to text with ``set_sphere_output('DEG')``, as their degree text ``(0.1d , -0.2d)``.
No database and no server are involved: these are the writers' real input.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import pyarrow as pa

from adql.catalog import ColumnMeta
from dalserver.formats.registry import FORMATS, OutputFormat
from dalserver.formats.votable import VOTableExtras

# ADBC hands PostgreSQL numeric over as text in an opaque extension type.
NUMERIC = pa.opaque(pa.string(), "numeric", "PostgreSQL")


def _deg(value: float) -> str:
    return f"{value:.15g}d"  # pgsphere's DEG output: %g with 15 digits, then 'd'


def spoint(ra: float, dec: float) -> str:
    """pgsphere's text of a point in degrees, e.g. ``(10d , -5d)``."""
    return f"({_deg(ra)} , {_deg(dec)})"


def scircle(ra: float, dec: float, radius: float) -> str:
    """e.g. ``<(10d , -5d) , 0.5d>``"""
    return f"<{spoint(ra, dec)} , {_deg(radius)}>"


def spoly(*vertices: tuple[float, float]) -> str:
    """e.g. ``{(10d , -5d),(10.5d , -5d),(10.25d , -4.5d)}``"""
    return "{" + ",".join(spoint(ra, dec) for ra, dec in vertices) + "}"


def numeric(values: Sequence[str | None]) -> pa.Array:
    return pa.ExtensionArray.from_storage(NUMERIC, pa.array(values, pa.string()))


def batch(columns: Sequence[ColumnMeta], *arrays: pa.Array) -> pa.RecordBatch:
    return pa.record_batch(list(arrays), names=[c.name for c in columns])


def slices(whole: pa.RecordBatch, *sizes: int) -> list[pa.RecordBatch]:
    """``whole`` cut into consecutive batches of these sizes (the rest in a last one)."""
    out, start = [], 0
    for size in sizes:
        out.append(whole.slice(start, size))
        start += size
    if start < whole.num_rows:
        out.append(whole.slice(start))
    return out


class QueryFailed(Exception):
    """What the database raises in the middle of a result (a cancelled or failing statement)."""


async def batches_of(
    batches: Iterable[pa.RecordBatch], failure: Exception | None = None
) -> AsyncIterator[pa.RecordBatch]:
    """The batches, then ``failure`` raised by the iterator itself, as QueryStream.batches() does."""
    for each in batches:
        await asyncio.sleep(0)
        yield each
    if failure is not None:
        raise failure


def write(
    fmt: OutputFormat,
    columns: Sequence[ColumnMeta],
    batches: Iterable[pa.RecordBatch],
    maxrec: int = 1_000_000,
    failure: Exception | None = None,
    extras: VOTableExtras | None = None,
) -> bytes:
    """The whole document ``fmt`` writes for these batches."""

    async def collect() -> bytes:
        chunks = [chunk async for chunk in fmt.stream(list(columns), batches_of(batches, failure), maxrec, extras)]
        assert all(isinstance(c, bytes) for c in chunks)
        return b"".join(chunks)

    return asyncio.run(collect())


def format_named(name: str) -> OutputFormat:
    """The output format whose first alias (its RESPONSEFORMAT short name) is ``name``."""
    (fmt,) = [f for f in FORMATS if f.aliases[0] == name]
    return fmt


FORMAT_NAMES = [f.aliases[0] for f in FORMATS]  # votable, votable/b2, csv, tsv, json, fits, parquet

# --- one result of every type the database delivers -----------------------------------------
EVERY_TYPE = [
    ColumnMeta("i2", "short", ucd="meta.number"),
    ColumnMeta("i4", "int"),
    ColumnMeta("i8", "long", ucd="meta.id;meta.main"),
    ColumnMeta("f4", "float", unit="mag"),
    ColumnMeta("f8", "double", unit="deg", ucd="pos.eq.ra"),
    ColumnMeta("flag", "boolean"),
    ColumnMeta("txt", "char", "*", description="free text"),
    ColumnMeta("sum", "long", description="SUM over bigints: numeric text from PostgreSQL"),
    ColumnMeta("obs_date", "char", "*", xtype="timestamp"),
    ColumnMeta("pos", "double", "2", xtype="point", unit="deg"),
    ColumnMeta("cone", "double", "3", xtype="circle", unit="deg"),
    ColumnMeta("footprint", "double", "*", xtype="polygon", unit="deg"),
    ColumnMeta("s_region", "char", "*", xtype="adql:REGION", ucd="pos.outline;obs.field"),
    ColumnMeta("counts", "int", "*"),
    ColumnMeta("weights", "double", "*"),
]
POLYGON = ((10.0, -5.0), (10.5, -5.0), (10.25, -4.5))


def every_type_batch(rows: int = 2) -> pa.RecordBatch:
    """``rows`` rows (at least 2) of every type: the second has only nulls, the others the values
    of ``EVERY_TYPE_VALUES`` as the database delivers them."""
    assert rows >= 2
    first = [
        (1, pa.int16()),
        (2, pa.int32()),
        (2**53 + 1, pa.int64()),
        (1.5, pa.float32()),
        (0.1, pa.float64()),
        (True, pa.bool_()),
        (TEXT, pa.string()),
        ("9007199254740993", None),  # numeric
        (datetime.datetime(2021, 3, 4, 5, 6, 7, 250000), pa.timestamp("us")),
        (spoint(10.0, -5.0), pa.string()),
        (scircle(10.0, -5.0, 0.5), pa.string()),
        (spoly(*POLYGON), pa.string()),
        (spoly(*POLYGON), pa.string()),
        ([1, 2, 3], pa.list_(pa.int32())),
        ([0.5, -1.5], pa.list_(pa.float64())),
    ]
    arrays = []
    for value, kind in first:
        cells: list[Any] = [value, None] + [value] * (rows - 2)
        arrays.append(numeric(cells) if kind is None else pa.array(cells, kind))
    return batch(EVERY_TYPE, *arrays)


TEXT = "Ωμέγα 😀 <&>\"'"  # Greek, an astral-plane emoji, and every XML-special character
# What a reader should find in a row of every_type_batch that is not null: the DALI values.
EVERY_TYPE_VALUES: dict[str, Any] = {
    "i2": 1,
    "i4": 2,
    "i8": 2**53 + 1,
    "f4": 1.5,
    "f8": 0.1,
    "flag": True,
    "txt": TEXT,
    "sum": 2**53 + 1,
    "obs_date": "2021-03-04T05:06:07.250000",
    "pos": [10.0, -5.0],
    "cone": [10.0, -5.0, 0.5],
    "footprint": [10.0, -5.0, 10.5, -5.0, 10.25, -4.5],
    "s_region": "Polygon ICRS 10 -5 10.5 -5 10.25 -4.5",
    "counts": [1, 2, 3],
    "weights": [0.5, -1.5],
}


def one_column(meta: ColumnMeta, array: pa.Array) -> tuple[list[ColumnMeta], pa.RecordBatch]:
    return [meta], batch([meta], array)
