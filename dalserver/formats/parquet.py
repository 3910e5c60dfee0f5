"""Parquet results, streamed: one row group per batch, column metadata (unit, UCD, utype,
description, xtype) on the fields, and the query status (OK, OVERFLOW, ERROR) in the footer."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pyarrow as pa
from anyio import to_thread

from adql.catalog import ColumnMeta
from dalserver.formats.columns import arrow_type, described
from dalserver.formats.limits import Batches, ResultState, limited
from dalserver.formats.parallel import PART_ROWS

MEDIA_TYPE = "application/vnd.apache.parquet"


def _field(meta: ColumnMeta) -> pa.Field:
    info = described(meta, ("unit", "ucd", "utype", "description", "xtype"))
    return pa.field(meta.name, arrow_type(meta), metadata=info or None)


async def parquet_stream(columns: list[ColumnMeta], batches: Batches, maxrec: int) -> AsyncIterator[bytes]:
    schema = pa.schema([_field(c) for c in columns])
    sink = io.BytesIO()
    # Imported here: pyarrow's Parquet module loads its file-system libraries (S3 among them),
    # several MB a worker carries only once someone asks for Parquet.
    import pyarrow.parquet as pq

    writer = pq.ParquetWriter(sink, schema)
    state = ResultState()

    def drain() -> bytes:
        data = sink.getvalue()
        sink.seek(0)
        sink.truncate()
        return data

    async for arrays in limited(batches, maxrec, state, columns):
        table = pa.Table.from_arrays(arrays, schema=schema)
        if table.num_rows >= PART_ROWS:  # off the event loop, which sends the previous row group meanwhile
            await to_thread.run_sync(writer.write_table, table)
        else:
            writer.write_table(table)
        if chunk := drain():
            yield chunk
    status = "ERROR" if state.error else ("OVERFLOW" if state.overflow else "OK")
    footer = {"QUERY_STATUS": status}
    if state.error:
        footer["QUERY_STATUS_MESSAGE"] = state.error
    writer.add_key_value_metadata(footer)
    writer.close()
    yield drain()
