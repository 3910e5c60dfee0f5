"""Parquet results, streamed: one row group per batch, column metadata (unit, UCD, utype,
description) on the fields, and the query status (OK, OVERFLOW, ERROR) in the footer."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from adql.catalog import ColumnMeta
from dalserver.formats.limits import Batches, ResultState, limited
from dalserver.formats.votable import geometry_numbers, stcs_region

MEDIA_TYPE = "application/vnd.apache.parquet"

_ARROW = {
    "boolean": pa.bool_(),
    "short": pa.int16(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
}


def _field(meta: ColumnMeta) -> tuple[pa.Field, Callable[[Any], Any]]:
    if meta.xtype in ("point", "circle", "polygon"):
        arrow: pa.DataType = pa.list_(pa.float64())
        convert: Callable[[Any], Any] = lambda v: geometry_numbers(str(v))  # noqa: E731
    elif meta.xtype == "adql:REGION":
        arrow, convert = pa.string(), lambda v: stcs_region(str(v))
    elif meta.datatype in _ARROW:
        arrow, convert = _ARROW[meta.datatype], (lambda v: v)
    else:
        arrow, convert = pa.string(), str
    info = {
        k: v
        for k, v in (
            ("unit", meta.unit),
            ("ucd", meta.ucd),
            ("utype", meta.utype),
            ("description", meta.description),
            ("xtype", meta.xtype),
        )
        if v
    }
    return pa.field(meta.name, arrow, metadata=info or None), convert


async def parquet_stream(columns: list[ColumnMeta], batches: Batches, maxrec: int) -> AsyncIterator[bytes]:
    fields, converters = zip(*(_field(c) for c in columns), strict=True) if columns else ((), ())
    schema = pa.schema(list(fields))
    sink = io.BytesIO()
    writer = pq.ParquetWriter(sink, schema)
    state = ResultState()

    def drain() -> bytes:
        data = sink.getvalue()
        sink.seek(0)
        sink.truncate()
        return data

    async for batch in limited(batches, maxrec, state):
        arrays = [
            pa.array([None if row[i] is None else convert(row[i]) for row in batch], type=field.type)
            for i, (field, convert) in enumerate(zip(fields, converters, strict=True))
        ]
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
        if chunk := drain():
            yield chunk
    status = "ERROR" if state.error else ("OVERFLOW" if state.overflow else "OK")
    footer = {"QUERY_STATUS": status}
    if state.error:
        footer["QUERY_STATUS_MESSAGE"] = state.error
    writer.add_key_value_metadata(footer)
    writer.close()
    yield drain()
