"""Connections that read query results as Arrow record batches (ADBC's PostgreSQL driver, see
dalserver.db.adbc).

ADBC fetches with ``COPY ... TO STDOUT (FORMAT binary)`` and decodes in C++ straight into Arrow
columns: about twice as fast as PostgreSQL's own text COPY, and 3.5 times faster than building
Python tuples with psycopg. Every writer then works on whole columns (see dalserver.formats).
The driver is synchronous, so connections are used from worker threads, one query at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor

from anyio import to_thread

from dalserver.db import metrics
from dalserver.db.adbc import ArrowConnection
from dalserver.db.errors import DatabaseUnavailable, primary_message
from dalserver.db.health import DatabaseHealth
from pgsql_text.session import READ_ONLY, setup_statements


def _connect(url: str) -> ArrowConnection:
    conn = ArrowConnection(url)
    try:
        # The same on a standby as on the primary: geometry in degrees (pgsphere), and so on.
        for statement in setup_statements("dalserver-query", query_session=True):
            conn.run(statement)
        # Every transaction on these connections is read-only: user queries never change data.
        conn.run(READ_ONLY)
        # Known before any query runs, so an async job's ABORT can cancel it from any process.
        conn.backend_pid = int(conn.rows("SELECT pg_backend_pid() AS pid")[0]["pid"])
    except BaseException:
        _close_quietly(conn)
        raise
    return conn


def with_connect_timeout(url: str, seconds: int) -> str:
    """``url`` with libpq's connect_timeout, unless it sets one: a hung server must not hang us."""
    if "connect_timeout=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}connect_timeout={seconds}"


class ArrowPool:
    """At most ``max_size`` ADBC connections to one server, opened on demand and reused; broken
    ones are dropped.

    ``health`` (when given) refuses at once while the database is known to be down; ``flush()``
    closes the idle connections, which is what to do when the server they talked to went away.
    ``name`` says which server it is (the primary, or a standby: dalserver.db.replicas), in the
    metrics and the log. A pool is also the simplest choice of server: ``choose()`` gives itself.
    """

    def __init__(
        self,
        url: str,
        max_size: int,
        health: DatabaseHealth | None = None,
        connect_timeout: int = 5,
        name: str = "primary",
        standby: bool = False,
    ):
        self.url = with_connect_timeout(url, connect_timeout)
        self.health = health
        self.name = name
        self.standby = standby
        self.busy = 0  # connections handed out and not yet given back
        self._idle: list[ArrowConnection] = []
        self._slots = asyncio.Semaphore(max_size)
        # The driver blocks: each connection is used from a worker thread. Room for every
        # connection, and for some abandoned to a hung server.
        self.executor = ThreadPoolExecutor(max_workers=2 * max_size + 2, thread_name_prefix="dalserver-query")

    def choose(self, exclude: Collection[ArrowPool] = ()) -> ArrowPool:
        """The server a query goes to: this one (``dalserver.db.replicas.QueryRouter`` chooses among several)."""
        return self

    def answered(self, pool: ArrowPool) -> None:
        metrics.query_ran(pool.name)

    async def acquire(self) -> ArrowConnection:
        """A connection whose session is read-only. ``conn.reused`` tells a connection that
        waited in the pool (and may have lost its server meanwhile)."""
        if self.health is not None:
            self.health.check()
        await self._slots.acquire()
        try:
            if self._idle:
                conn = self._idle.pop()
                conn.reused = True
            else:
                try:
                    conn = await to_thread.run_sync(_connect, self.url)
                except Exception as exc:
                    raise DatabaseUnavailable(f"cannot connect: {primary_message(exc)}") from exc
                conn.reused = False
        except BaseException:
            self._slots.release()
            raise
        self.busy += 1
        return conn

    def flush(self) -> None:
        """Close every idle connection (new ones are opened as needed)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            _close_quietly(conn)

    def release(self, conn: ArrowConnection, reusable: bool = True) -> None:
        try:
            if reusable:
                self._idle.append(conn)
            else:
                _close_quietly(conn)
        finally:
            self.busy -= 1
            self._slots.release()

    async def close(self) -> None:
        self.flush()
        self.executor.shutdown(wait=False, cancel_futures=True)


def _close_quietly(conn: ArrowConnection) -> None:
    with contextlib.suppress(Exception):  # a connection that failed is closed as well as it can be
        conn.close()
