"""Run one translated query safely and hand its rows out in batches.

Read-only transaction, statement timeout, server-side cursor in binary mode, fixed batch size:
memory per request is bounded by the batch, whatever the result's size. The first batch is
fetched before any byte is sent, so database errors can still become a proper error document.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import AsyncConnectionPool

from dalserver.errors import DALIError

_cursor_names = itertools.count()


def database_error_message(exc: psycopg.Error) -> DALIError:
    """A client-facing message for an error PostgreSQL raised while running a user's query."""
    if isinstance(exc, pg_errors.QueryCanceled):
        return DALIError(
            "the query ran longer than the service's time limit and was cancelled; "
            "narrow it down, or use the asynchronous endpoint"
        )
    diag = getattr(exc, "diag", None)
    primary = (diag.message_primary if diag else None) or str(exc).splitlines()[0]
    return DALIError(f"the database could not run the query: {primary}")


class QueryStream:
    """A running query: ``open()`` fetches the first batch; iterate for the rest; always ``close()``."""

    def __init__(self, pool: AsyncConnectionPool, sql: str, timeout_seconds: float, batch_rows: int):
        self.pool = pool
        self.sql = sql
        self.timeout_ms = max(1, int(timeout_seconds * 1000))
        self.batch_rows = batch_rows
        self._conn: psycopg.AsyncConnection | None = None
        self._cursor: psycopg.AsyncServerCursor | None = None
        self._first: list[tuple[Any, ...]] = []

    async def open(self) -> None:
        self._conn = await self.pool.getconn()
        try:
            await self._conn.execute("SET TRANSACTION READ ONLY")
            await self._conn.execute("SELECT set_config('statement_timeout', %s, true)", (str(self.timeout_ms),))
            self._cursor = self._conn.cursor(name=f"q{next(_cursor_names)}", binary=True)
            await self._cursor.execute(self.sql)  # type: ignore[arg-type]  # built by adql from a checked tree
            self._first = await self._cursor.fetchmany(self.batch_rows)
        except psycopg.Error as exc:
            await self.close()
            raise database_error_message(exc) from exc

    async def batches(self) -> AsyncIterator[list[tuple[Any, ...]]]:
        assert self._cursor is not None, "open() first"
        if self._first:
            yield self._first
            self._first = []
        while True:
            try:
                batch = await self._cursor.fetchmany(self.batch_rows)
            except psycopg.Error as exc:
                raise database_error_message(exc) from exc
            if not batch:
                return
            yield batch

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if self._cursor is not None and not conn.closed:
                await self._cursor.close()
            if not conn.closed:
                await conn.rollback()
        except psycopg.Error:
            pass
        finally:
            await self.pool.putconn(conn)
