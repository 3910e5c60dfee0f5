"""The live part of a federated search: which services to ask (the crawler's, from crawl.service),
asking them all at once with one deadline, and what each sent back as rows of vo.remote_obscore.

A service is asked when the crawler considers it alive (active, or backing off), its coverage
(the order-6 MOC of its cached rows) touches the region searched, widened by the reach of a
footprint, and it can hold a matching row at all (an ObsCore table with every constrained column;
an SIA 1.0 service only for a search with a position). At most ``federated_live_services`` are
asked, those that answered the crawler most recently first: services of one host take turns, so
the reliable ones come before the one that may stall.

Each service's answer is untrusted input: checked and read by ``archive_io`` (entity expansion
off, size-limited by the client), converted to the cache's types by the crawler's own converter,
off the event loop. Whatever goes wrong is that service's outcome (``timeout`` or ``error``),
never the search's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from psycopg_pool import AsyncConnectionPool

from archive_io.remote_answers import UnusableAnswer, votable_answer
from archive_io.remote_rows import DATA_COLUMNS, STAGED_COLUMNS, TABLE, RowConverter, Source
from dalserver.dali.values import Circle
from dalserver.federated.live_client import LiveClient, LiveFailure, LiveReply
from dalserver.federated.reach import enclosing, widened
from dalserver.federated.remote_queries import (
    OBSCORE_TAP,
    SIA1,
    SIA2,
    RemoteRequest,
    constrained_columns,
    sia1_request,
    sia2_request,
    tap_request,
)

log = logging.getLogger(__name__)

COVERAGE_ORDER = 6  # crawl.service.coverage
OK, TIMEOUT, ERROR = "ok", "timeout", "error"
_ARROW_TYPES = {
    "text": pa.string(),
    "spoly": pa.string(),  # pgsphere's text form; cast where the rows are loaded
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "double precision": pa.float64(),
    "timestamp": pa.timestamp("us"),
}
LIVE_SQL_TYPES = {c.name: c.sql_type for c in TABLE.columns}  # the cache's column types, which live rows take
LIVE_SCHEMA = pa.schema([(name, _ARROW_TYPES[LIVE_SQL_TYPES[name]]) for name in STAGED_COLUMNS])


@dataclass(frozen=True)
class LiveService:
    """A row of crawl.service, as a live search needs it."""

    ivoid: str
    kind: str
    access_url: str
    table_name: str | None
    response_format: str | None
    remote_columns: tuple[str, ...] | None


@dataclass
class LiveOutcome:
    service: LiveService
    status: str  # ok, timeout or error
    message: str  # what went wrong, or what came back
    seconds: float
    rows: pa.Table | None = None  # LIVE_SCHEMA; crawled_at is null (the rows were not crawled)
    answered: int = 0  # rows in the service's answer
    skipped: Counter[str] = field(default_factory=Counter)  # rows that could not be read, by reason
    overflow: bool = False  # the service had more than it sent


def _region_sql(circles: list[Circle] | None) -> tuple[str, list[Any]]:
    if circles is None:
        return "", []
    parts, params = [], []
    for circle in circles:
        reach = widened(circle)
        parts.append(f"coverage && smoc({COVERAGE_ORDER}, scircle(spoint(radians(%s), radians(%s)), radians(%s)))")
        params += [reach.ra, reach.dec, reach.radius]
    return " AND (" + " OR ".join(parts) + ")", params


async def candidate_services(
    pool: AsyncConnectionPool, circles: list[Circle] | None, values: dict[str, list[str]], most: int
) -> list[LiveService]:
    """The services one search asks, in the order they take turns."""
    region, params = _region_sql(circles)
    sql = (
        "SELECT ivoid, kind, access_url, table_name, response_format, remote_columns FROM crawl.service "
        f"WHERE state IN ('active', 'backoff') AND coverage IS NOT NULL{region} "
        "ORDER BY last_success DESC NULLS LAST, ivoid"
    )
    async with pool.connection() as conn:
        rows = await (await conn.execute(sql, params)).fetchall()
        await conn.rollback()
    needed = constrained_columns(values)
    found = []
    for ivoid, kind, url, table, fmt, columns in rows:
        service = LiveService(ivoid, kind, url, table, fmt, tuple(columns) if columns else None)
        if kind == SIA1 and circles is None:
            continue  # SIA 1.0 cannot be asked without a position
        if kind == OBSCORE_TAP and service.remote_columns is not None and not needed <= set(service.remote_columns):
            continue  # a column the search constrains is missing there: no row of it can match
        if kind in (OBSCORE_TAP, SIA2, SIA1):
            found.append(service)
    return found[:most]


def remote_request(
    service: LiveService, values: dict[str, list[str]], circles: list[Circle] | None, maxrec: int
) -> RemoteRequest:
    if service.kind == SIA2:
        return sia2_request(service.access_url, values, maxrec)
    if service.kind == SIA1:
        assert circles is not None
        return sia1_request(service.access_url, enclosing(circles), maxrec)
    remote = service.remote_columns
    columns = [c for c in DATA_COLUMNS if c in remote] if remote else []  # none known: SELECT *
    return tap_request(
        service.access_url,
        service.table_name or "ivoa.obscore",
        columns,
        values,
        circles,
        maxrec,
        service.response_format,
    )


def live_table(rows: Sequence[Sequence[Any]]) -> pa.Table:
    """Converted rows (``archive_io.remote_rows.STAGED_COLUMNS`` order) as an Arrow table of the
    cache's types, crawled_at left null: these rows were fetched now, not crawled."""
    arrays = []
    for index, column in enumerate(LIVE_SCHEMA):
        values = [None] * len(rows) if column.name == "crawled_at" else [row[index] for row in rows]
        arrays.append(pa.array(values, type=column.type))
    return pa.Table.from_arrays(arrays, schema=LIVE_SCHEMA)


def _read(reply: LiveReply, service: LiveService, fetched: datetime, maxrec: int) -> LiveOutcome:
    """The rows of one answer, the first ``maxrec`` of them (a service may send more than it was
    asked for); run in a worker thread: parsing is CPU work."""
    answer = votable_answer(reply.status, reply.content_type, reply.body, reply.url)
    source = Source(service.ivoid, service.access_url, service.kind)
    converted = RowConverter(answer.fields, source, fetched).convert(answer.rows[:maxrec])
    return LiveOutcome(
        service,
        OK,
        "",
        0.0,
        live_table(converted.rows),
        len(answer.rows),
        converted.skipped,
        answer.overflow or len(answer.rows) > maxrec,
    )


async def _ask(
    client: LiveClient, service: LiveService, request: RemoteRequest, started: float, maxrec: int
) -> LiveOutcome:
    try:
        reply = await client.get(request)
        outcome = await asyncio.to_thread(_read, reply, service, datetime.now(UTC), maxrec)
    except (LiveFailure, UnusableAnswer) as exc:
        return LiveOutcome(service, ERROR, exc.message, time.monotonic() - started)
    outcome.seconds = time.monotonic() - started
    return outcome


async def ask_services(
    client: LiveClient,
    services: Sequence[LiveService],
    values: dict[str, list[str]],
    circles: list[Circle] | None,
    maxrec: int,
    timeout: float,
) -> list[LiveOutcome]:
    """Every service asked at once; each has ``timeout`` seconds from now, its turn at its host
    included. The outcomes come in the services' order."""
    started = time.monotonic()
    tasks = [
        asyncio.ensure_future(_ask(client, s, remote_request(s, values, circles, maxrec), started, maxrec))
        for s in services
    ]
    if not tasks:
        return []
    try:
        await asyncio.wait(tasks, timeout=timeout)
    finally:
        for task in tasks:
            task.cancel()  # a finished task ignores it; the others give their host's turn back
        await asyncio.gather(*tasks, return_exceptions=True)
    outcomes = []
    for service, task in zip(services, tasks, strict=True):
        if task.cancelled():
            outcomes.append(LiveOutcome(service, TIMEOUT, f"no answer within {timeout:g} s", timeout))
        elif (exc := task.exception()) is not None:  # our bug, not the service's: said, and logged
            log.error("live search of %s failed", service.ivoid, exc_info=exc)
            outcomes.append(LiveOutcome(service, ERROR, f"internal error: {exc}", time.monotonic() - started))
        else:
            outcomes.append(task.result())
    return outcomes
