"""A large result is read from the database while its writer works, up to READ_AHEAD batches
ahead of it and no further (memory per query stays bounded), with a real PostgreSQL session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pyarrow as pa

from dalserver.db.arrow_pool import ArrowPool
from dalserver.db.query import READ_AHEAD, QueryStream
from tests.support.archive import Archive

ROWS = 20_000
SQL = f"SELECT g::bigint AS id, repeat('x', 100) AS pad FROM generate_series(1, {ROWS}) AS g"
BATCH_BYTES = 16384  # some 150 rows a batch: a result of well over a hundred batches


async def _settled(count: Callable[[], int], target: int) -> int:
    """``count()`` once it reached ``target`` (or after 10 s) and then stayed 0.3 s unchanged."""
    for _ in range(200):
        if count() >= target:
            break
        await asyncio.sleep(0.05)
    while True:
        seen = count()
        await asyncio.sleep(0.3)
        if count() == seen:
            return seen


async def _opened(url: str) -> tuple[ArrowPool, QueryStream, AsyncIterator[pa.RecordBatch]]:
    pool = ArrowPool(url, 1)
    stream = QueryStream(pool, SQL, 60, BATCH_BYTES)
    await stream.open()
    return pool, stream, stream.batches()


def test_reading_goes_on_while_a_batch_is_written_and_stops_read_ahead_batches_on(archive: Archive) -> None:
    async def run() -> list[int]:
        pool, stream, batches = await _opened(archive.url)
        try:
            await anext(batches)  # the writer holds the first batch and does not come back yet
            held = [await _settled(lambda: stream.batches_read, 1 + READ_AHEAD)]
            await anext(batches)
            held.append(await _settled(lambda: stream.batches_read, 2 + READ_AHEAD))
            return held
        finally:
            await stream.close()
            await pool.close()

    assert asyncio.run(run()) == [1 + READ_AHEAD, 2 + READ_AHEAD]


def test_rows_read_ahead_come_out_whole_and_in_order(archive: Archive) -> None:
    async def run() -> tuple[list[int], int]:
        pool, stream, batches = await _opened(archive.url)
        ids: list[int] = []
        try:
            async for batch in batches:
                ids += batch.column(0).to_pylist()
                await asyncio.sleep(0.001 if len(ids) % 7 else 0)  # a writer of uneven pace
            return ids, stream.batches_read
        finally:
            await stream.close()
            await pool.close()

    ids, read = asyncio.run(run())
    assert ids == list(range(1, ROWS + 1))
    assert read > 100


def test_a_writer_that_stops_early_starts_no_further_read_and_gives_the_session_back(archive: Archive) -> None:
    async def run() -> tuple[int, int, int]:
        pool, stream, batches = await _opened(archive.url)
        try:
            await anext(batches)
            await anext(batches)
            await batches.aclose()  # type: ignore[attr-defined]  # an async generator's
            await stream.close()
            stopped = await _settled(lambda: stream.batches_read, 0)
            return stopped, stream.batches_read, pool.busy
        finally:
            await pool.close()

    stopped, later, busy = asyncio.run(run())
    assert stopped == later <= 2 + READ_AHEAD
    assert busy == 0
