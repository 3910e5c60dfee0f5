"""A session's small queries (read whole, without COPY) run one after the other on one statement
that stays open with the session (dalserver.db.adbc.ArrowConnection.kept_statement), closed with
it; on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pyarrow as pa
import pytest

from dalserver.dali.faults import DALIError
from dalserver.db.arrow_pool import ArrowPool
from dalserver.db.query import QueryStream
from tests.support.archive import Archive

BATCH_BYTES = 1 << 20
NUMBERS = "SELECT g, g / 7.0 AS n, 'row ' || g AS t FROM generate_series(1, {}) AS g ORDER BY g LIMIT 50"
EMPTY = "SELECT g FROM generate_series(1, 3) AS g WHERE g > 5 LIMIT 50"


async def _answer(pool: ArrowPool, sql: str, copy: bool) -> tuple[list[pa.RecordBatch], int]:
    """The batches of the answer to ``sql``, and the backend process that gave them."""
    stream = QueryStream(pool, sql, 30.0, BATCH_BYTES, copy=copy)
    try:
        backend = await stream.connect()
        await stream.open()
        return [batch async for batch in stream.batches()], backend
    finally:
        await stream.close()


def _same(found: list[pa.RecordBatch], expected: list[pa.RecordBatch]) -> bool:
    """The same rows, of the same types."""
    schemas = {batch.schema for batch in found + expected}
    return len(schemas) <= 1 and [r for b in found for r in b.to_pylist()] == [
        r for b in expected for r in b.to_pylist()
    ]


def test_small_queries_one_after_another_on_a_session_answer_as_each_would_alone(archive: Archive) -> None:
    """Several texts, one asked again (then prepared), an empty result, and one the database
    refuses in between: the session stays the same and every answer equals the query's own
    through COPY on a session of its own."""
    steps = [NUMBERS.format(10), NUMBERS.format(3), EMPTY, NUMBERS.format(10), "SELECT no_such_column LIMIT 1"]
    steps += [NUMBERS.format(10), EMPTY, NUMBERS.format(40)]

    async def run() -> tuple[list[tuple[list[pa.RecordBatch], int] | None], list[list[pa.RecordBatch] | None]]:
        small, alone = ArrowPool(archive.url, 1), ArrowPool(archive.url, 1)
        try:
            found: list[tuple[list[pa.RecordBatch], int] | None] = []
            expected: list[list[pa.RecordBatch] | None] = []
            for sql in steps:
                try:
                    found.append(await _answer(small, sql, copy=False))
                except DALIError:
                    found.append(None)
                    expected.append(None)
                    continue
                alone.flush()
                expected.append((await _answer(alone, sql, copy=True))[0])
            return found, expected
        finally:
            await small.close()
            await alone.close()

    found, expected = asyncio.run(run())
    assert [answer is None for answer in found] == [sql.startswith("SELECT no_such") for sql in steps]
    assert len({answer[1] for answer in found if answer is not None}) == 1  # one session throughout
    for answer, want in zip(found, expected, strict=True):
        if answer is not None:
            assert want is not None and _same(answer[0], want)


def test_a_session_that_ran_small_queries_ends_on_the_server_when_dropped(
    archive: Archive, db: psycopg.Connection
) -> None:
    """The driver refuses to close a connection whose statement is open (and the pool closes
    quietly): the kept statement is closed first, so the backend really goes."""

    async def run() -> int:
        pool = ArrowPool(archive.url, 1)
        try:
            _, backend = await _answer(pool, NUMBERS.format(5), copy=False)
            await _answer(pool, NUMBERS.format(6), copy=False)
            pool.flush()
            return backend
        finally:
            await pool.close()

    backend = asyncio.run(run())
    deadline = time.monotonic() + 10
    while db.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (backend,)).fetchone() != (0,):
        if time.monotonic() > deadline:
            pytest.fail(f"backend {backend} still runs after its session was dropped")
        time.sleep(0.05)
