"""Run one SQL statement safely and hand its rows out as Arrow record batches.

Read-only session, statement timeout, results streamed by the database in batches of bounded
size: memory per request is bounded by the batch, whatever the result's size. The first batch is
fetched by ``open()``, before any byte is sent, so database errors can still become a proper
error document. What the rows are for, and how they are written, is the caller's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import pyarrow as pa

from dalserver.db.adbc import ArrowConnection, ArrowStatement
from dalserver.db.arrow_pool import ArrowPool
from dalserver.db.errors import DatabaseUnavailable, QueryCancelled, database_fault, is_connection_lost
from pgsql_text.session import READ_ONLY

T = TypeVar("T")
# Prepares a session of its own before the query (e.g. loads TAP uploads into temporary tables),
# on a connection that may still write; the session is made read-only after it and not reused.
SessionSetup = Callable[[ArrowConnection], None]


class QueryStream:
    """A running statement: ``open()`` fetches the first batch; iterate ``batches()``; always ``close()``."""

    def __init__(
        self,
        pool: ArrowPool,
        sql: str,
        timeout_seconds: float,
        batch_bytes: int,
        setup: SessionSetup | None = None,
    ):
        self.pool = pool
        self.sql = sql
        self.setup = setup
        self.timeout_seconds = timeout_seconds
        self.timeout_ms = max(1, int(timeout_seconds * 1000))
        self.batch_bytes = batch_bytes
        self._conn: ArrowConnection | None = None
        self._statement: ArrowStatement | None = None
        self._reader: pa.RecordBatchReader | None = None
        self._first: pa.RecordBatch | None = None
        self._second: pa.RecordBatch | None = None  # read with the first when that was small
        self._finished = False
        self._cancelled = False
        self._broken = False  # the connection itself failed: never back into the pool
        self._busy: asyncio.Future[Any] | None = None  # the worker thread's current call
        self._started = 0.0

    def _start(self) -> None:
        conn = self._conn
        assert conn is not None
        statement = self._statement = conn.statement()
        if conn.statement_timeout_ms != self.timeout_ms:
            statement.run(f"SET statement_timeout = {self.timeout_ms}")
            conn.statement_timeout_ms = self.timeout_ms  # a session setting: the same next time
        if self.setup is not None:
            self.setup(conn)
            statement.run(READ_ONLY)  # before the query: from here on nothing can write
        if self._cancelled:
            raise QueryCancelled()
        self._started = time.monotonic()
        self._reader = statement.query(self.sql, self.batch_bytes)
        self._first = self._next()
        if self._first is not None and self._first.nbytes < self.batch_bytes // 2:
            # The driver fills a batch up to the size hint unless the rows end first: a small
            # first batch is all there is, and the end is known now, saving a thread hop.
            self._second = self._next()

    def _next(self) -> pa.RecordBatch | None:
        assert self._reader is not None
        try:
            return self._reader.read_next_batch()
        except StopIteration:
            self._finished = True
            return None

    def _fault(self, exc: BaseException) -> Exception:
        timed_out = self._started > 0 and time.monotonic() - self._started >= self.timeout_seconds * 0.95
        return database_fault(exc, cancelled=self._cancelled, timed_out=timed_out)

    async def connect(self) -> int:
        """Take a connection (``open()`` does it if not done); returns its backend's process id."""
        if self._conn is None:
            # A session prepared by ``setup`` is never reused: what it made (temporary tables) goes with it.
            try:
                self._conn = await self.pool.acquire(writable_session=self.setup is not None)
            except Exception as exc:
                raise self._fault(exc) from exc
        return int(self._conn.backend_pid)

    async def open(self) -> None:
        """Run the statement up to its first batch. A connection that waited in the pool and
        finds its server gone is replaced once: after a database restart the first query works."""
        for attempt in (1, 2):
            await self.connect()
            assert self._conn is not None
            reused = self._conn.reused
            try:
                await self._in_thread(self._start)
                return
            except Exception as exc:
                self._finished = True  # the database ended the statement itself
                lost = is_connection_lost(exc)
                if lost:
                    self._broken = True
                    self.pool.flush()  # its idle siblings talked to the same server
                await self.close()
                if lost and reused and attempt == 1 and not self._cancelled:
                    self._finished = self._broken = False
                    continue
                raise self._fault(exc) from exc

    async def batches(self) -> AsyncIterator[pa.RecordBatch]:
        """The result's batches. While the caller writes one, the next is already being read in
        the query's thread, so reading and writing overlap (one batch ahead, no more)."""
        assert self._reader is not None, "open() first"
        batch, self._first = self._first, None
        while batch is not None:
            known = self._second is not None or self._finished
            ahead = None if known else self._submit(self._next)
            yield batch  # closed here early, close() waits for the thread to let go of the connection
            if ahead is None:
                batch, self._second = self._second, None
                continue
            try:
                batch = await self._completion(ahead)
            except Exception as exc:
                self._finished = True
                self._broken = is_connection_lost(exc)
                raise self._fault(exc) from exc

    def _submit(self, work: Callable[[], T]) -> asyncio.Future[T]:
        """``work`` on the connection, started now in the query's worker thread (the driver blocks)."""
        self._busy = asyncio.get_running_loop().run_in_executor(self.pool.executor, work)
        return self._busy

    async def _in_thread(self, work: Callable[[], T]) -> T:
        return await self._completion(self._submit(work))

    async def _completion(self, done: asyncio.Future[T]) -> T:
        """The result of work in the query's thread.

        If the task is cancelled (a client gone) or the database is found hung meanwhile, this
        returns at once; the connection stays with the thread until the driver returns, and is
        closed then (``close()``): it is never used from two threads at a time.
        """
        health = self.pool.health
        gone = asyncio.ensure_future(health.down.wait()) if health is not None else None
        try:
            await asyncio.wait([f for f in (done, gone) if f is not None], return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            self.cancel()
            raise
        finally:
            if gone is not None:
                gone.cancel()
        if done.done():
            return done.result()
        self.cancel()
        self._finished = self._broken = True
        assert health is not None
        raise DatabaseUnavailable(health.reason)

    def cancel(self) -> None:
        """Stop the statement from another thread or task (a client gone, an async job's ABORT)."""
        self._cancelled = True
        statement = self._statement
        if statement is not None and not self._finished:
            with contextlib.suppress(Exception):
                statement.cancel()

    async def close(self) -> None:
        """Give the connection back (cancelling an unfinished statement); safe to repeat."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        busy = self._busy
        if busy is not None and not busy.done():
            # A worker thread still holds the connection: finish when the driver lets go of it.
            self.cancel()
            busy.add_done_callback(lambda work: self._release_after(work, conn))
            return
        self._release(conn, self.setup is None and not self._broken)

    def _release_after(self, work: asyncio.Future[Any], conn: ArrowConnection) -> None:
        if not work.cancelled():
            work.exception()  # the cancelled statement's error is expected: nobody waits for it
        self._release(conn, False)

    def _release(self, conn: ArrowConnection, reusable: bool) -> None:
        try:
            if not self._finished and self._statement is not None:
                # The client went away, or a writer stopped early: stop the server's work now.
                self._statement.cancel()
                reusable = False
            if self._statement is not None:
                self._statement.close()
        except Exception:
            reusable = False
        finally:
            self.pool.release(conn, reusable)
