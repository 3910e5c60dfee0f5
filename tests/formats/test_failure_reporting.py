"""A writer that refuses a value after the first bytes tells whoever feeds it the batches, so that
an async job ends in ERROR instead of COMPLETED with a document that says ERROR."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pyarrow as pa

from adql.catalog import ColumnMeta
from dalserver.formats.limits import ResultState, limited


class Batches:
    def __init__(self, batches: list[pa.RecordBatch]):
        self._batches = iter(batches)
        self.reported: list[Exception] = []

    def __aiter__(self) -> AsyncIterator[pa.RecordBatch]:
        return self

    async def __anext__(self) -> pa.RecordBatch:
        try:
            return next(self._batches)
        except StopIteration:
            raise StopAsyncIteration from None

    def failed(self, exc: Exception) -> None:
        self.reported.append(exc)


def _refuse_the_second(count: list[int]) -> Callable[[list[pa.Array]], list[pa.Array]]:
    def prepare(arrays: list[pa.Array]) -> list[pa.Array]:
        count[0] += 1
        if count[0] == 2:
            raise ValueError("column n holds the value its null stands for")
        return arrays

    return prepare


def test_a_value_the_writer_refuses_is_reported_to_the_batches_and_recorded() -> None:
    columns = [ColumnMeta("n", "long")]
    batch = pa.record_batch([pa.array([1, 2], pa.int64())], names=["n"])
    source, state = Batches([batch, batch, batch]), ResultState()

    async def run() -> int:
        return len([a async for a in limited(source, 100, state, columns, _refuse_the_second([0]))])

    assert asyncio.run(run()) == 1
    assert state.error is not None and "null stands for" in state.error
    assert len(source.reported) == 1 and "null stands for" in str(source.reported[0])
