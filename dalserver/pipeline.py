"""The one way a table answer is made: a prepared query and a writer in, the bytes of the answer out.

TAP sync hands the bytes to the HTTP response, an async job writes them to its result file, SIA
(and every later protocol that answers with a table) does as TAP sync. So MAXREC and OVERFLOW,
statement timeouts, cancellation and a failure after the first byte behave the same everywhere:

- ``start()`` fetches the first batch before any byte exists, so a query the database refuses is
  still the protocol's error document (a fault from ``dalserver.db.errors``);
- the SQL asks for one row beyond MAXREC; the writer stops at MAXREC and says OVERFLOW;
- a failure after the first byte is written into the document by the writer (the status line is
  gone) and kept in ``late_error`` for callers that can do better (an async job ends in ERROR);
- ``cancel()`` stops the database's work from any task or thread; a reader that stops reading
  (a client gone) stops it too, when the chunks are closed.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pyarrow as pa

from adql.catalog import ColumnMeta
from adql.translate import Parameterized
from dalserver.dali.faults import DALIError, FatalFault
from dalserver.db.query import QueryServers, QueryStream, SessionSetup
from dalserver.formats.registry import OutputFormat
from dalserver.formats.votable import VOTableExtras
from dalserver.http.heap_trim import LARGE_ANSWER_BYTES, large_answer_ended
from dalserver.http.stages import mark


@dataclass(frozen=True)
class PreparedQuery:
    """SQL ready to run and what its answer is: the columns' metadata and the row limit."""

    sql: str  # already limited to maxrec + 1 rows (0 for maxrec = 0: metadata only)
    columns: list[ColumnMeta]
    maxrec: int
    setup: SessionSetup | None = None  # prepares the query's session first (TAP uploads)
    # Sees each batch as it leaves the database, before MAXREC cuts it (the federated search counts
    # its rows by origin this way); it must not keep them.
    watch: Callable[[pa.RecordBatch], None] | None = None
    # Makes the stream that runs it (servers, timeout seconds, batch bytes), when not a plain
    # QueryStream on ``servers``: a TAP upload scattered over a sharded catalogue's shards.
    stream: Callable[[QueryServers, float, int], QueryStream] | None = None
    # The SQL with its numbers as parameters (adql.cache's templates): one prepared statement
    # serves every query of the shape (dalserver.db.prepared).
    parameterized: Parameterized | None = None


@dataclass(frozen=True)
class ResultWriter:
    """The format of the answer and what it carries besides the rows (service descriptors)."""

    fmt: OutputFormat
    extras: VOTableExtras | None = None


@dataclass(frozen=True)
class Limits:
    timeout_seconds: float  # the statement timeout
    batch_bytes: int  # rows leave the database in batches of about this size: memory per request


# A result the SQL's own LIMIT keeps below this many bytes (reckoning a text or an open array at
# VARIABLE_VALUE_BYTES) is read without COPY, in one round trip (dalserver.db.adbc).
SMALL_RESULT_BYTES = 1 << 20
VARIABLE_VALUE_BYTES = 10_000
_VALUE_BYTES = {"boolean": 1, "unsignedByte": 1, "short": 2, "int": 4, "float": 4, "long": 8, "double": 8}
_OUTER_LIMIT = re.compile(r"\bLIMIT (\d+)(?: OFFSET \d+)?$")


def _value_bytes(column: ColumnMeta) -> int:
    width = _VALUE_BYTES.get(column.datatype)
    size = column.arraysize or "1"
    if width is None or "*" in size:
        return VARIABLE_VALUE_BYTES
    try:
        return width * math.prod(int(n) for n in size.split("x"))
    except ValueError:
        return VARIABLE_VALUE_BYTES


def _outer_limit(sql: str) -> re.Match[str] | None:
    """``_OUTER_LIMIT.search(sql)``, tried only where it can match: such a match runs to the end
    of the text and holds no other "LIMIT ", so it starts at the last one. Searched from the start,
    the pattern was tried at every character of the SQL (15 us for SIA's 840 characters); ``\\b``
    still sees the character before ``start``."""
    start = sql.rfind("LIMIT ")
    return None if start < 0 else _OUTER_LIMIT.match(sql, start)


def known_small(query: PreparedQuery) -> bool:
    """Whether the answer to ``query`` is small: the LIMIT that ends its SQL (the outermost
    query's) times what a row is reckoned to take (fixed-width values as they are, anything else
    at VARIABLE_VALUE_BYTES) is at most SMALL_RESULT_BYTES."""
    found = _outer_limit(query.sql)
    if found is None:
        return False
    return int(found[1]) * sum(_value_bytes(c) for c in query.columns) <= SMALL_RESULT_BYTES


def row_limit(maxrec: int) -> int:
    """The LIMIT the SQL should have: one row beyond MAXREC tells an overflow apart from an exact fit."""
    return maxrec + 1 if maxrec else 0


class _ReportedBatches:
    """The query's batches, for a writer; a failure, raised by the query while it iterates or
    reported by the writer through ``failed()``, is remembered by the run."""

    def __init__(
        self,
        batches: AsyncIterator[pa.RecordBatch],
        failed: Callable[[Exception], None],
        watch: Callable[[pa.RecordBatch], None] | None = None,
    ):
        self._batches = batches
        self.failed = failed
        self.watch = watch

    def __aiter__(self) -> _ReportedBatches:
        return self

    async def __anext__(self) -> pa.RecordBatch:
        try:
            batch = await self._batches.__anext__()
        except StopAsyncIteration:
            raise
        except Exception as exc:
            self.failed(exc)
            raise
        if self.watch is not None:
            self.watch(batch)
        return batch


class QueryRun:
    """One query on its way to bytes: ``connect()`` (optional), ``start()``, then ``chunks()``."""

    def __init__(self, query: PreparedQuery, writer: ResultWriter, servers: QueryServers, limits: Limits):
        self.query = query
        self.writer = writer
        if query.stream is not None:
            self.stream = query.stream(servers, limits.timeout_seconds, limits.batch_bytes)
        else:
            self.stream = QueryStream(
                servers,
                query.sql,
                limits.timeout_seconds,
                limits.batch_bytes,
                query.setup,
                copy=not known_small(query),
                parameterized=query.parameterized,
            )
        self.late_error: DALIError | None = None

    @property
    def media_type(self) -> str:
        return self.writer.fmt.mime

    async def connect(self) -> int:
        """Take the database session now; returns its backend process id (for a cancel from elsewhere)."""
        return await self.stream.connect()

    @property
    def server(self) -> str:
        """The name of the database server the query runs on (once connected)."""
        return self.stream.pool.name

    @property
    def backend_cancels(self) -> bool:
        """Whether pg_cancel_backend of its session (from any server process) stops the query."""
        return self.stream.backend_cancels

    async def start(self) -> None:
        """Run the query up to its first batch; a refusal is raised here, before any byte."""
        await self.stream.connect()
        mark("connection")
        await self.stream.open()
        mark("database")

    def failed(self, exc: Exception) -> None:
        """A failure after the first byte, whether of the query or of the writer refusing a value."""
        if self.late_error is None:
            self.late_error = (
                exc if isinstance(exc, DALIError) else FatalFault(f"the answer could not be written: {exc}")
            )

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        """The answer's bytes; the database session is given back when they end or are closed."""
        fmt, extras = self.writer.fmt, self.writer.extras
        sent = 0
        try:
            batches = _ReportedBatches(self.stream.batches(), self.failed, self.query.watch)
            async for chunk in fmt.stream(self.query.columns, batches, self.query.maxrec, extras):
                sent += len(chunk)
                yield chunk
        finally:
            await self.stream.close()
            mark("writing")
            if sent >= LARGE_ANSWER_BYTES:
                large_answer_ended()  # its freed heap goes back soon, from the worker's trim task

    def cancel(self) -> None:
        self.stream.cancel()

    async def close(self) -> None:
        """Give the session back (cancelling the query if it has not finished); safe to repeat."""
        await self.stream.close()


class AnswerChunks:
    """The bytes of a started answer (an async iterator), and whether all its rows are read
    already (``rows_in_memory``: a small result, whose answer can go out as one body)."""

    def __init__(self, run: QueryRun):
        self._run = run
        self._chunks = run.chunks()

    def __aiter__(self) -> AnswerChunks:
        return self

    async def __anext__(self) -> bytes:
        return await self._chunks.__anext__()

    async def aclose(self) -> None:
        await self._chunks.aclose()

    @property
    def rows_in_memory(self) -> bool:
        return self._run.stream.all_read


async def answer(
    query: PreparedQuery,
    writer: ResultWriter,
    servers: QueryServers,
    limits: Limits,
    client_gone: Awaitable[None] | None = None,
) -> AnswerChunks:
    """The bytes of the answer to ``query``, started: faults before the first byte are raised here.

    ``client_gone`` completes when whoever asked has gone away: the query is then cancelled
    even before its first row (once the bytes flow, the HTTP server notices by itself)."""
    run = QueryRun(query, writer, servers, limits)
    if client_gone is None:
        await run.start()
        return AnswerChunks(run)
    started = False

    def gone(watched: asyncio.Future[None]) -> None:
        if not watched.cancelled():
            watched.exception()  # retrieved: a failed watch is the client's absence too
            if not started:
                run.cancel()

    # The query starts in this task, the client is watched in another: one task a query, not two.
    watcher = asyncio.ensure_future(client_gone)
    watcher.add_done_callback(gone)
    try:
        await run.start()  # the query's fault, or QueryCancelled when the client went away
    finally:
        started = True
        watcher.cancel()
    return AnswerChunks(run)
