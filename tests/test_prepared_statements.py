"""A small query whose text its session ran before is answered from a prepared statement
(dalserver.db.prepared), exactly as the text itself would be answered, on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import psycopg
import pyarrow as pa
import pytest

from adql.translate import Parameterized
from dalserver.db.arrow_pool import ArrowPool
from dalserver.db.errors import QueryTimeout
from dalserver.db.query import QueryStream
from tests.support.archive import Archive

SCHEMA = "prepared_test"
EVERY_TYPE = (
    f"SELECT s, i, b, r, d, t, ts, n, flag, ints, CAST(pos AS text) AS pos FROM {SCHEMA}.every_type ORDER BY i LIMIT 10"  # noqa: S608
)
BATCH_BYTES = 1 << 20


@pytest.fixture
def every_type(db: psycopg.Connection) -> Iterator[None]:
    db.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    db.execute(f"CREATE SCHEMA {SCHEMA}")
    db.execute(
        f"CREATE TABLE {SCHEMA}.every_type (s smallint, i integer, b bigint, r real, d double precision, "
        "t text, ts timestamp, n numeric, flag boolean, ints integer[], pos spoint)"
    )
    db.execute(
        f"INSERT INTO {SCHEMA}.every_type SELECT g, g, g * 10000000000, g / 3.0, g / 7.0, 'row ' || g, "
        "timestamp '2026-01-01' + g * interval '1 hour', g / 11.0, g % 2 = 0, ARRAY[g, -g], "
        "spoint(radians(g), radians(-g)) FROM generate_series(1, 20) AS g"
    )
    db.execute(f"INSERT INTO {SCHEMA}.every_type (i) VALUES (0)")  # and NULLs
    yield
    db.execute(f"DROP SCHEMA {SCHEMA} CASCADE")


async def _answer(
    pool: ArrowPool, sql: str, timeout: float = 30.0, copy: bool = False, parameterized: Parameterized | None = None
) -> list[pa.RecordBatch]:
    stream = QueryStream(pool, sql, timeout, BATCH_BYTES, copy=copy, parameterized=parameterized)
    try:
        await stream.open()
        return [batch async for batch in stream.batches()]
    finally:
        await stream.close()


async def _prepared(pool: ArrowPool) -> list[str]:
    stream = QueryStream(pool, "SELECT 1", 30.0, BATCH_BYTES)
    await stream.connect()
    try:
        rows = await stream.lookup("SELECT statement FROM pg_prepared_statements ORDER BY prepare_time")
        return [str(row["statement"]) for row in rows]
    finally:
        await stream.close()


def _runs(archive: Archive, *steps: str) -> list[tuple[list[pa.RecordBatch], list[str]]]:
    """Each SQL text of ``steps`` answered in turn on one session: its batches, and the texts the
    session held prepared afterwards."""

    async def run() -> list[tuple[list[pa.RecordBatch], list[str]]]:
        pool = ArrowPool(archive.url, 1)
        try:
            return [(await _answer(pool, sql), await _prepared(pool)) for sql in steps]
        finally:
            await pool.close()

    return asyncio.run(run())


def test_a_small_query_run_again_comes_from_a_prepared_statement_with_the_same_types_and_values(
    archive: Archive, every_type: None
) -> None:
    (first, after_first), (second, after_second), (third, _) = _runs(archive, EVERY_TYPE, EVERY_TYPE, EVERY_TYPE)
    assert not any(EVERY_TYPE in text for text in after_first)  # seen once: run as it is
    assert any(EVERY_TYPE in text for text in after_second)
    plain = pa.Table.from_batches(first)
    assert plain.num_rows == 10
    for again in (second, third):
        table = pa.Table.from_batches(again)
        assert table.schema.equals(plain.schema, check_metadata=True)
        assert table.equals(plain)


def test_a_column_that_changes_type_between_two_identical_queries_comes_back_with_its_new_type(
    archive: Archive, every_type: None, db: psycopg.Connection
) -> None:
    sql = f"SELECT i, r FROM {SCHEMA}.every_type WHERE i BETWEEN 1 AND 3 ORDER BY i LIMIT 5"  # noqa: S608

    async def run() -> list[pa.Table]:
        pool = ArrowPool(archive.url, 1)
        try:
            before = [pa.Table.from_batches(await _answer(pool, sql)) for _ in range(2)]  # prepared the second time
            db.execute(f"ALTER TABLE {SCHEMA}.every_type ALTER COLUMN r TYPE double precision")
            after = [pa.Table.from_batches(await _answer(pool, sql)) for _ in range(3)]
            return before + after
        finally:
            await pool.close()

    tables = asyncio.run(run())
    assert [t.schema.field("r").type for t in tables] == [pa.float32()] * 2 + [pa.float64()] * 3
    # the values as stored: real's, now held in double precision
    assert (
        tables[-1].column("r").to_pylist()
        == pa.array([1 / 3.0, 2 / 3.0, 1.0], pa.float32()).cast(pa.float64()).to_pylist()
    )


def test_a_session_keeps_only_so_many_statements_prepared_the_least_recently_run_let_go(
    archive: Archive, every_type: None
) -> None:
    texts = [f"SELECT i FROM {SCHEMA}.every_type WHERE i = {k} LIMIT 1" for k in range(3)]  # noqa: S608

    async def run() -> list[str]:
        pool = ArrowPool(archive.url, 1)
        try:
            conn = await pool.acquire()
            conn.prepared.keep = 2
            pool.release(conn)
            first, second, third = texts
            for sql in [first, second, first, second, first, third, third]:  # the third prepared last
                await _answer(pool, sql)
            return await _prepared(pool)
        finally:
            await pool.close()

    held = asyncio.run(run())
    assert [text.rsplit(" AS ", 1)[1] for text in held] == [texts[0], texts[2]]  # the second run least recently


def test_a_prepared_query_still_ends_at_the_statement_timeout(archive: Archive) -> None:
    sql = "SELECT pg_sleep(0.5) IS NULL AS slept LIMIT 1"

    async def run() -> None:
        pool = ArrowPool(archive.url, 1)
        try:
            for _ in range(2):
                await _answer(pool, sql)
            assert any(sql in text for text in await _prepared(pool))
            with pytest.raises(QueryTimeout):
                await _answer(pool, sql, timeout=0.1)
        finally:
            await pool.close()

    asyncio.run(run())


def test_a_large_query_after_a_small_one_on_its_session_still_streams_in_batches(archive: Archive) -> None:
    """The session's statement timeout changes (a setting sent without COPY) before a result
    that must come in bounded batches."""
    sql = "SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 200000) AS g"

    async def run() -> int:
        pool = ArrowPool(archive.url, 1)
        try:
            await _answer(pool, "SELECT 1 AS one LIMIT 1", timeout=20.0)
            stream = QueryStream(pool, sql, 30.0, 65536, copy=True)
            try:
                await stream.open()
                return sum([1 async for _ in stream.batches()])
            finally:
                await stream.close()
        finally:
            await pool.close()

    assert asyncio.run(run()) > 10


def test_queries_of_one_shape_with_other_numbers_share_one_statement_and_answer_as_their_own_sql(
    archive: Archive, every_type: None
) -> None:
    shape = f"SELECT i, d, b FROM {SCHEMA}.every_type WHERE d > CAST({{}} AS double precision) AND i < {{}} ORDER BY i"
    numbered = shape.format("$1", "$2")
    numbers = [("0.5", "10"), ("1.25", "3000000000"), ("-1e1", "2"), ("2.0", "4000000000")]

    async def run() -> list[tuple[pa.Table, pa.Table, list[str]]]:
        pool = ArrowPool(archive.url, 1)
        try:
            found = []
            for real, integer in numbers:
                sql = shape.format(real, integer)
                kind = "integer" if abs(int(integer)) < 2**31 else "bigint"
                parameterized = Parameterized(numbered, ("numeric", kind), (real, integer))
                answer = pa.Table.from_batches(await _answer(pool, sql, parameterized=parameterized))
                found.append((answer, pa.Table.from_batches(await _answer(pool, sql)), await _prepared(pool)))
            return found
        finally:
            await pool.close()

    found = asyncio.run(run())
    for answer, plain, _ in found:
        assert answer.schema.equals(plain.schema, check_metadata=True) and answer.equals(plain)
    assert [answer.num_rows for answer, _, _ in found] == [6, 12, 1, 6]
    held = found[-1][2]
    assert sum(numbered in text for text in held) == 2  # one statement per types: (numeric, bigint), (numeric, integer)
