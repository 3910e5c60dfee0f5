"""FITS binary-table results (an empty primary HDU, then one BINTABLE).

A FITS header states the row count and every column's width before the first row, which a stream
cannot know. So rows are spooled to a temporary Arrow IPC file as they arrive (memory stays at
one batch) while the row count, the longest text and the longest array are noted; then the header
is written (by astropy, with TUNIT/TUCD/TUTYP/TCOMM, long values in CONTINUE cards, and TNULL for
integer nulls), and the spool is read back batch by batch into fixed-width big-endian rows. The
query status goes into the header as QUERY_STATUS, since nothing can follow the data.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from anyio import to_thread

from adql.catalog import ColumnMeta
from dalserver.formats.cells import scalar
from dalserver.formats.columns import arrow_type
from dalserver.formats.fixed import BIG_ENDIAN, INTEGER_NULLS, fixed_arrays, fixed_bytes
from dalserver.formats.limits import Batches, ResultState, limited

MEDIA_TYPE = "application/fits"
BLOCK = 2880
_CODES = {"boolean": "L", "unsignedByte": "B", "short": "I", "int": "J", "long": "K", "float": "E", "double": "D"}


@dataclass
class _Extent:
    """What the header needs to know about one column after all rows have been seen."""

    width: int = 1  # bytes of the longest text, or elements of the longest array
    has_nulls: bool = False


@dataclass
class _Spool:
    columns: list[ColumnMeta]
    schema: pa.Schema
    rows: int = 0
    extents: list[_Extent] = field(default_factory=list)

    def note(self, arrays: list[pa.Array]) -> None:
        self.rows += len(arrays[0])
        for extent, array in zip(self.extents, arrays, strict=True):
            extent.has_nulls = extent.has_nulls or array.null_count > 0
            if pa.types.is_string(array.type):
                longest = pc.max(pc.binary_length(array)).as_py()
            elif pa.types.is_list(array.type):
                longest = pc.max(pc.list_value_length(array)).as_py()
            else:
                continue
            extent.width = max(extent.width, longest or 0)


def _format(meta: ColumnMeta, kind: pa.DataType, extent: _Extent) -> str:
    if pa.types.is_string(kind):
        return f"{extent.width}A"
    code = _CODES[meta.datatype]
    return f"{extent.width}{code}" if pa.types.is_list(kind) else code


def _header(spool: _Spool, state: ResultState) -> bytes:
    from astropy.io import fits  # ~15 MB, for FITS answers only

    columns = []
    for meta, kind, extent in zip(spool.columns, spool.schema.types, spool.extents, strict=True):
        null = INTEGER_NULLS.get(meta.datatype) if extent.has_nulls and not pa.types.is_list(kind) else None
        columns.append(
            fits.Column(name=meta.name, format=_format(meta, kind, extent), unit=meta.unit or None, null=null)
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fits.verify.VerifyWarning)  # long or lower-case names, HIERARCH
        table = fits.BinTableHDU.from_columns(columns, nrows=0)
        header = table.header
        header["NAXIS2"] = spool.rows
        header["EXTNAME"] = "RESULT"
        for i, meta in enumerate(spool.columns, start=1):
            for key, value in (("TUCD", meta.ucd), ("TUTYP", meta.utype), ("TCOMM", meta.description)):
                if value:
                    # A value longer than one card goes on in CONTINUE cards (FITS 4.0 sec. 4.2.1.2),
                    # which astropy writes by itself: ObsCore's utypes are up to 69 characters.
                    header.set(f"{key}{i}", _ascii(value), after=f"TFORM{i}")
        status = "ERROR" if state.error else ("OVERFLOW" if state.overflow else "OK")
        header["HIERARCH QUERY_STATUS"] = status
        if state.error:
            header.add_comment(_ascii(state.error))
        primary = fits.PrimaryHDU().header
        primary["EXTEND"] = True
        cards: str = primary.tostring() + header.tostring()
        return cards.encode("ascii")


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")


def _row_bytes(batch: pa.RecordBatch, spool: _Spool) -> bytes:
    rows = batch.num_rows
    pieces = []
    for array, meta, extent in zip(batch.columns, spool.columns, spool.extents, strict=True):
        if pa.types.is_string(array.type):
            encoded = [b"" if v is None else v.encode("utf-8") for v in array.to_pylist()]
            pieces.append(np.array(encoded, dtype=f"S{extent.width}").view(np.uint8).reshape(rows, extent.width))
        elif meta.datatype == "boolean":
            codes = pc.fill_null(pc.if_else(array, scalar(ord("T")), scalar(ord("F"))), scalar(0))
            pieces.append(fixed_bytes(codes.to_numpy(zero_copy_only=False), "u1", rows))
        elif pa.types.is_list(array.type):
            pieces.append(fixed_arrays(array, BIG_ENDIAN[meta.datatype], extent.width, rows))
        else:
            dtype = BIG_ENDIAN[meta.datatype]
            fill = np.nan if dtype[1] == "f" else INTEGER_NULLS.get(meta.datatype, 0)
            pieces.append(fixed_bytes(pc.fill_null(array, fill).to_numpy(zero_copy_only=False), dtype, rows))
    return np.concatenate(pieces, axis=1).tobytes()


def _next_or_none(reader: pa.RecordBatchReader) -> pa.RecordBatch | None:
    try:
        return reader.read_next_batch()
    except StopIteration:  # cannot cross a thread boundary into a coroutine
        return None


async def fits_stream(columns: list[ColumnMeta], batches: Batches, maxrec: int) -> AsyncIterator[bytes]:
    schema = pa.schema([pa.field(f"c{i}", arrow_type(c)) for i, c in enumerate(columns)])
    spool = _Spool(columns, schema, extents=[_Extent() for _ in columns])
    state = ResultState()
    with tempfile.TemporaryFile(prefix="dalserver-fits-") as file:
        sink = pa.PythonFile(file, mode="w")
        writer = pa.ipc.new_stream(sink, schema)
        async for arrays in limited(batches, maxrec, state, columns):
            spool.note(arrays)
            await to_thread.run_sync(writer.write_batch, pa.record_batch(arrays, schema=schema))
        writer.close()
        yield _header(spool, state)
        file.seek(0)
        size = 0
        reader = pa.ipc.open_stream(pa.PythonFile(file, mode="r"))
        while (batch := await to_thread.run_sync(_next_or_none, reader)) is not None:
            data = await to_thread.run_sync(_row_bytes, batch, spool)
            size += len(data)
            yield data
        if size % BLOCK:
            yield bytes(BLOCK - size % BLOCK)
