"""What every writer shares: cutting the rows at MAXREC, and noticing a failure mid-stream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pyarrow as pa

from adql.catalog import ColumnMeta
from dalserver.dali.faults import DALIError
from dalserver.formats.columns import canonical_batch

Batches = AsyncIterator[pa.RecordBatch]


@dataclass
class ResultState:
    overflow: bool = False  # rows were cut at MAXREC
    error: str | None = None  # the query failed after the first bytes were sent
    failure: Exception | None = None  # what failed, for formats that cannot say so in the document


Prepare = Callable[[list[pa.Array]], list[pa.Array]]


def _unchanged(arrays: list[pa.Array]) -> list[pa.Array]:
    return arrays


async def limited(
    batches: Batches, maxrec: int, state: ResultState, columns: list[ColumnMeta], prepare: Prepare = _unchanged
) -> AsyncIterator[list[pa.Array]]:
    """The columns of at most ``maxrec`` rows, batch by batch, each in the type its metadata
    declares (see formats.columns) and then as ``prepare`` makes them for one format; an overflow
    or a late failure (of the query, or of ``prepare`` refusing a value) is recorded in ``state``."""
    sent = 0
    try:
        async for batch in batches:
            room = maxrec - sent
            if batch.num_rows > room:
                batch = batch.slice(0, room)
                state.overflow = True
            if batch.num_rows:
                sent += batch.num_rows
                yield prepare(canonical_batch(batch, columns))
            if state.overflow:
                return
    except Exception as exc:  # the status line is gone: the document itself must say it
        state.error = exc.message if isinstance(exc, DALIError) else f"the query failed while sending results: {exc}"
        state.failure = exc
        # Whoever feeds the batches may want to know too (an async job ends in ERROR rather than
        # COMPLETED with a document that says ERROR): dalserver.pipeline's batches take failed().
        report = getattr(batches, "failed", None)
        if report is not None:
            report(exc)
