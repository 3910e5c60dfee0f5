"""Run one SQL statement safely and hand its rows out as Arrow record batches.

Read-only session, statement timeout, results streamed by the database in batches of bounded
size: memory per request is bounded by the batch, whatever the result's size. The first batch is
fetched by ``open()``, before any byte is sent, so database errors can still become a proper
error document. What the rows are for, and how they are written, is the caller's business.

The server the statement runs on is chosen when it takes a connection (``QueryServers``: one pool,
or the primary and its standbys, dalserver.db.replicas). A standby that cannot be reached, or
fails before the first batch, is reported lost and the statement runs on another server instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Collection
from typing import Any, Protocol, TypeVar

import pyarrow as pa

from adql.translate import Parameterized
from dalserver.db import metrics
from dalserver.db.adbc import ArrowConnection, ArrowStatement
from dalserver.db.arrow_pool import ArrowPool
from dalserver.db.errors import (
    DatabaseUnavailable,
    QueryCancelled,
    database_fault,
    is_connection_lost,
    primary_message,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
# Prepares the session before the query (e.g. hands it the TAP uploads, dalserver.tap.upload); a
# session so prepared is not reused: what it was given goes with it.
SessionSetup = Callable[[ArrowConnection], None]


class QueryServers(Protocol):
    """Where a query may run: ``choose`` gives a server's pool, not one of ``exclude`` unless
    there is no other (the primary is the last resort)."""

    def choose(self, exclude: Collection[ArrowPool] = ()) -> ArrowPool: ...

    def answered(self, pool: ArrowPool) -> None:
        """``pool``'s server runs the query (it returned its first batch): counted, and logged."""


class QueryStream:
    """A running statement: ``open()`` fetches the first batch; iterate ``batches()``; always ``close()``."""

    def __init__(
        self,
        servers: QueryServers,
        sql: str,
        timeout_seconds: float,
        batch_bytes: int,
        setup: SessionSetup | None = None,
        copy: bool = True,
        parameterized: Parameterized | None = None,
    ):
        """``copy=False``: the result is known to be small, and read whole in one round trip
        (``ArrowStatement.query``); ``parameterized``: the same SQL with its numbers as
        parameters, whose statement a session prepares for every query of its shape
        (dalserver.db.prepared)."""
        self.servers = servers
        self.copy = copy
        self.parameterized = parameterized
        self._pool: ArrowPool | None = None  # the server chosen by connect()
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
        self._failed: list[ArrowPool] = []  # standbys this query met broken: not chosen again

    def _start(self) -> None:
        conn = self._conn
        assert conn is not None
        kept = not self.copy and self.setup is None  # a small query on a session that goes back to its pool
        statement = self._statement = conn.kept_statement() if kept else conn.statement()
        if conn.statement_timeout_ms != self.timeout_ms:
            statement.run(f"SET statement_timeout = {self.timeout_ms}", copy=False)
            conn.statement_timeout_ms = self.timeout_ms  # a session setting: the same next time
        if self.setup is not None:
            self.setup(conn)
        if self._cancelled:
            raise QueryCancelled()
        self._started = time.monotonic()
        if self.copy or self.setup is not None:  # a session set up is not reused: nothing to prepare for
            self._reader = statement.query(self.sql, self.batch_bytes, self.copy)
        else:
            self._reader = conn.prepared.query(
                self.sql,
                lambda sql: statement.run(sql, copy=False),
                lambda sql: statement.query(sql, self.batch_bytes, copy=False),
                self.parameterized,
            )
        self._first = self._next()
        if self._first is not None and self._first.nbytes < self.batch_bytes // 2:
            # The driver fills a batch up to the size hint unless the rows end first: a small
            # first batch is all there is, and the end is known now, saving a thread hop.
            self._second = self._next()
        if self._finished:
            # The result is closed here, in the query's thread, once read to the end (a small
            # one): closing it lets go of the GIL, and the event loop, which closed it at
            # ``close()``, then waited for a query thread to give the GIL back. The statement
            # itself is closed by ``close()`` as before (a cancel may reach it until then).
            try:
                statement.close_result()
            except Exception:
                self._broken = True  # as at close(): the session is not trusted again

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
        while self._conn is None:
            pool = self._pool = self.servers.choose(self._failed)
            try:
                self._conn = await pool.acquire()
            except Exception as exc:
                if not self._try_elsewhere(pool, exc, "unavailable"):
                    raise self._fault(exc) from exc
        return int(self._conn.backend_pid)

    @property
    def backend_cancels(self) -> bool:
        """Whether cancelling its backend (pg_cancel_backend, from any process) stops the query's
        work: on the primary, yes; a standby's backend cannot be reached that way."""
        return not self.pool.standby

    async def lookup(self, sql: str) -> list[dict[str, Any]]:
        """A small result read on the query's session before its statement (``connect()`` first)."""
        conn = self._conn
        assert conn is not None, "connect() first"
        try:
            return await self._in_thread(lambda: conn.rows(sql))
        except Exception as exc:
            self._broken = is_connection_lost(exc)
            raise self._fault(exc) from exc

    @property
    def all_read(self) -> bool:
        """Whether every batch of the result is in memory (``open()`` read to the end: a small
        result), so its answer can be written whole at once."""
        return self._reader is not None and self._finished

    @property
    def pool(self) -> ArrowPool:
        """The pool of the server the query runs on (once ``connect()`` chose it)."""
        assert self._pool is not None, "connect() first"
        return self._pool

    async def open(self) -> None:
        """Run the statement up to its first batch. A connection that waited in the pool and
        finds its server gone is replaced once: after a database restart the first query works.
        A standby that fails the statement this way, or is found down meanwhile, is left for
        another server."""
        retried = False
        while True:
            await self.connect()
            assert self._conn is not None
            pool, reused = self.pool, self._conn.reused
            try:
                await self._in_thread(self._start)
                self.servers.answered(pool)
                return
            except Exception as exc:
                self._finished = True  # the database ended the statement itself
                lost = is_connection_lost(exc)
                if lost:
                    self._broken = True
                    pool.flush()  # its idle siblings talked to the same server
                await self.close()
                if lost and reused and not retried and not self._cancelled:
                    retried = True
                elif not self._try_elsewhere(pool, exc, "unavailable"):
                    raise self._fault(exc) from exc
                self._finished = self._broken = False

    def _try_elsewhere(self, pool: ArrowPool, exc: BaseException, reason: str) -> bool:
        """Whether the query should go to another server after ``pool`` failed it with ``exc``:
        only a standby that could not be reached or was lost, and not for a cancelled query."""
        if self._cancelled or not pool.standby:
            return False
        if not (isinstance(exc, DatabaseUnavailable) or is_connection_lost(exc)):
            return False
        self._failed.append(pool)
        if pool.health is not None:
            pool.health.lost(primary_message(exc))
        metrics.query_moved(pool.name, reason)
        log.warning("standby %s failed a query (%s); it goes to another server", pool.name, primary_message(exc))
        return True

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
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()

        def job() -> None:
            try:
                result = work()
            except BaseException as exc:
                loop.call_soon_threadsafe(_fail, done, exc)
            else:
                loop.call_soon_threadsafe(_succeed, done, result)

        # The loop is told by the thread itself (one wake-up), not through a concurrent future
        # chained to an asyncio one; a job the executor drops unrun (shut down) cancels it.
        self.pool.executor.submit(job).add_done_callback(
            lambda job_future: job_future.cancelled() and loop.call_soon_threadsafe(done.cancel)
        )
        self._busy = done
        return done

    async def _in_thread(self, work: Callable[[], T]) -> T:
        # What the wait needs is made before the work is submitted: the thread cannot start until
        # the event loop lets go of the GIL, so the loop should have nothing left to do by then.
        wake = _Wake(self._watch())
        return await self._completion(self._submit(work), wake)

    def _watch(self) -> asyncio.Future[None] | None:
        health = self.pool.health
        return health.watch() if health is not None else None

    async def _completion(self, done: asyncio.Future[T], wake: _Wake | None = None) -> T:
        """The result of work in the query's thread.

        If the task is cancelled (a client gone) or the database is found hung meanwhile, this
        returns at once; the connection stays with the thread until the driver returns, and is
        closed then (``close()``): it is never used from two threads at a time.
        """
        if wake is None:
            wake = _Wake(self._watch())
        try:
            await wake.first(done)
        except asyncio.CancelledError:
            self.cancel()
            raise
        finally:
            wake.release()
        if done.done():
            return done.result()
        self._stop_statement()  # the server is gone: not the client's cancel
        self._finished = self._broken = True
        health = self.pool.health
        assert health is not None
        raise DatabaseUnavailable(health.reason)

    def cancel(self) -> None:
        """Stop the statement from another thread or task (a client gone, an async job's ABORT)."""
        self._cancelled = True
        self._stop_statement()

    def _stop_statement(self) -> None:
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


def _succeed(done: asyncio.Future[T], result: T) -> None:
    if not done.cancelled():
        done.set_result(result)


def _fail(done: asyncio.Future[T], exc: BaseException) -> None:
    if not done.cancelled():
        done.set_exception(exc)


class _Wake:
    """Wakes a waiting task when its work is done or the database is found down (``gone``),
    whichever comes first: what ``asyncio.wait`` does, with one future and no task."""

    def __init__(self, gone: asyncio.Future[None] | None):
        self.gone = gone
        self._waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if gone is not None:
            gone.add_done_callback(self._wake)

    def _wake(self, _: object) -> None:
        if not self._waiter.done():
            self._waiter.set_result(None)

    async def first(self, done: asyncio.Future[Any]) -> None:
        """Until ``done`` is done, or the database found down (whichever first)."""
        if done.done():  # a batch read ahead while the last one was written
            return
        done.add_done_callback(self._wake)
        try:
            await self._waiter
        finally:
            done.remove_done_callback(self._wake)

    def release(self) -> None:
        if self.gone is not None:
            self.gone.remove_done_callback(self._wake)
            self.gone.cancel()
