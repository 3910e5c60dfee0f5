"""Run one translated query safely and hand its rows out as Arrow record batches.

Read-only session, statement timeout, results streamed by the database in batches of bounded
size: memory per request is bounded by the batch, whatever the result's size. The first batch is
fetched before any byte is sent, so database errors can still become a proper error document.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import pyarrow as pa
from anyio import to_thread

from dalserver.db.arrow_pool import READ_ONLY, ArrowPool
from dalserver.errors import DALIError
from dalserver.tap.upload import UploadTable, load_uploads

_PRIMARY = re.compile(r"ERROR:\s+(.*?)\s*(?:\n|$)")
_TIMEOUT = "canceling statement due to statement timeout"


class QueryTimeout(DALIError):
    """The statement timeout ended the query."""


class QueryCancelled(DALIError):
    """The query was cancelled on request (an async job's ABORT)."""


def database_error_message(exc: Exception) -> DALIError:
    """A client-facing message for an error PostgreSQL raised while running a user's query."""
    text = str(exc)
    if _TIMEOUT in text:
        return QueryTimeout(
            "the query ran longer than the service's time limit and was cancelled; "
            "narrow it down, or use the asynchronous endpoint"
        )
    if "canceling statement due to user request" in text:
        return QueryCancelled("the query was cancelled")
    found = _PRIMARY.search(text)
    primary = found.group(1) if found else text.strip().splitlines()[0]
    return DALIError(f"the database could not run the query: {primary}")


class QueryStream:
    """A running query: ``open()`` fetches the first batch; iterate for the rest; always ``close()``."""

    def __init__(
        self,
        pool: ArrowPool,
        sql: str,
        timeout_seconds: float,
        batch_bytes: int,
        uploads: list[UploadTable] | None = None,
    ):
        self.pool = pool
        self.sql = sql
        self.uploads = uploads or []
        self.timeout_ms = max(1, int(timeout_seconds * 1000))
        self.batch_bytes = batch_bytes
        self._conn: Any = None
        self._cursor: Any = None
        self._reader: pa.RecordBatchReader | None = None
        self._first: pa.RecordBatch | None = None
        self._finished = False
        self._cancelled = False

    def _start(self) -> None:
        cursor = self._cursor = self._conn.cursor()
        cursor.execute(f"SET statement_timeout = {self.timeout_ms}")
        if self.uploads:
            load_uploads(cursor, self.uploads)
            cursor.execute(READ_ONLY)  # before the user's query: from here on nothing can write
        if self._cancelled:
            raise QueryCancelled("the query was cancelled")
        cursor.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(self.batch_bytes)})
        cursor.execute(self.sql)
        self._reader = cursor.fetch_record_batch()
        self._first = self._next()

    def _next(self) -> pa.RecordBatch | None:
        assert self._reader is not None
        try:
            return self._reader.read_next_batch()
        except StopIteration:
            self._finished = True
            return None

    async def connect(self) -> int:
        """Take a connection (``open()`` does it if not done); returns its backend's process id."""
        if self._conn is None:
            # A session that held uploads is never reused: its temporary tables go with it.
            self._conn = await self.pool.acquire(writable_session=bool(self.uploads))
        return int(self._conn.backend_pid)

    async def open(self) -> None:
        await self.connect()
        try:
            await to_thread.run_sync(self._start)
        except Exception as exc:
            self._finished = True  # the database ended the statement itself
            await self.close()
            if isinstance(exc, DALIError):
                raise
            raise database_error_message(exc) from exc

    async def batches(self) -> AsyncIterator[pa.RecordBatch]:
        assert self._reader is not None, "open() first"
        batch, self._first = self._first, None
        while batch is not None:
            yield batch
            try:
                batch = await to_thread.run_sync(self._next)
            except Exception as exc:
                self._finished = True
                raise database_error_message(exc) from exc

    def cancel(self) -> None:
        """Stop the query from another thread or task (an async job's ABORT)."""
        self._cancelled = True
        cursor = self._cursor
        if cursor is not None and not self._finished:
            with contextlib.suppress(Exception):
                cursor.adbc_cancel()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        reusable = not self.uploads
        try:
            if not self._finished and self._cursor is not None:
                # The client went away, or a writer stopped early: stop the server's work now.
                self._cursor.adbc_cancel()
                reusable = False
            if self._cursor is not None:
                self._cursor.close()
        except Exception:
            reusable = False
        finally:
            self.pool.release(conn, reusable)
