"""The spool between a query and its reader (dalserver/http/spool.py): a reader that keeps up never
costs a disk write, even with chunks larger than the memory allowance; a reader that lags gets
every chunk in order from the file while the query runs on; a failure reaches the reader after
the chunks made before it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from dalserver.http.spool import Spool, spooled

CHUNK = 5 << 20  # a TABLEDATA chunk of a 1 MiB Arrow batch is about this size
MEMORY = 2 << 20


def _chunks(count: int, size: int = CHUNK) -> list[bytes]:
    return [bytes([i % 251]) * size for i in range(count)]


async def _fill(spool: Spool, chunks: list[bytes]) -> None:
    for chunk in chunks:
        await spool.put(chunk)
        await asyncio.sleep(0)  # the query's next batch takes its time in a thread
    spool.end()


async def _drain(spool: Spool) -> list[bytes]:
    got = []
    while (chunk := await spool.get()) is not None:
        got.append(chunk)
    return got


def test_a_reader_that_keeps_up_gets_chunks_larger_than_memory_without_a_file() -> None:
    async def run() -> tuple[list[bytes], bool]:
        spool = Spool(MEMORY, 1 << 30)
        chunks = _chunks(8)
        _, got = await asyncio.gather(_fill(spool, chunks), _drain(spool))
        return got, spool._fd is None

    got, no_file = asyncio.run(run())
    assert got == _chunks(8)
    assert no_file


def test_a_writer_putting_two_chunks_in_a_row_is_woken_by_the_reader_not_its_spill_timer() -> None:
    """A batch encoded in parts is put as consecutive chunks with no await between them, and a
    reader whose send returns at once comes straight back for the next: the writer must be woken
    by the reader taking the first chunk. It slept its spill timer instead (0.5 s a batch); with
    the timer at an hour, such a writer never finishes."""

    async def batches_in_two_chunks(spool: Spool, chunks: list[bytes]) -> None:
        for first, second in zip(chunks[::2], chunks[1::2], strict=True):
            await spool.put(first)
            await spool.put(second)
            await asyncio.sleep(0)  # the next batch is encoded in threads
        spool.end()

    async def run() -> list[bytes]:
        spool = Spool(MEMORY, 1 << 30, spill_after=3600)
        chunks = _chunks(8, 1200 << 10)  # two of them do not fit in MEMORY together
        _, got = await asyncio.gather(batches_in_two_chunks(spool, chunks), _drain(spool))
        return got

    async def within_a_minute() -> list[bytes]:
        return await asyncio.wait_for(run(), 60)  # a hang guard, not a speed figure

    assert asyncio.run(within_a_minute()) == _chunks(8, 1200 << 10)


def test_a_lagging_reader_gets_every_chunk_in_order_from_the_file_while_the_query_ends() -> None:
    async def run() -> tuple[list[bytes], float, bool]:
        spool = Spool(MEMORY, 1 << 30, spill_after=0.05)
        chunks = _chunks(6, 1 << 20)
        start = time.perf_counter()
        await _fill(spool, chunks)  # nobody reads yet: the query must still finish
        filled = time.perf_counter() - start
        used_file = spool._fd is not None
        got = await _drain(spool)
        spool.close()
        return got, filled, used_file

    got, filled, used_file = asyncio.run(run())
    assert got == _chunks(6, 1 << 20)
    assert used_file and filled < 2


def test_a_failure_reaches_the_reader_after_the_chunks_before_it() -> None:
    async def source() -> AsyncIterator[bytes]:
        yield b"first"
        yield b"second"
        raise RuntimeError("the database went away")

    async def run() -> list[bytes]:
        got = []
        with pytest.raises(RuntimeError, match="went away"):
            async for chunk in spooled(source(), MEMORY, 1 << 30):
                got.append(chunk)
        return got

    assert asyncio.run(run()) == [b"first", b"second"]
