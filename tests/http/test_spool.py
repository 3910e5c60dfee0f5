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


def test_a_batch_in_two_chunks_waits_for_no_timer_when_sending_does_not_suspend() -> None:
    """A batch encoded in parts is put as consecutive chunks with no await between them, and a
    reader whose send returns at once comes straight back for the next: the writer must be woken
    by the reader taking the first chunk, not by its spill timer (it slept it, 0.5 s a batch)."""

    async def two_chunk_batches() -> AsyncIterator[bytes]:
        for chunk in _chunks(8, 1200 << 10):  # two of them do not fit in MEMORY together
            yield chunk

    async def run() -> tuple[list[bytes], float]:
        start = time.perf_counter()
        got = [chunk async for chunk in spooled(two_chunk_batches(), MEMORY, 1 << 30)]  # no suspending
        return got, time.perf_counter() - start

    got, seconds = asyncio.run(run())
    assert got == _chunks(8, 1200 << 10)
    assert seconds < 0.5  # the spill timer (0.5 s) never ran out


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
