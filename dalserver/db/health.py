"""Whether the database answers, known without asking it on every request.

A probe on a connection of its own runs ``SELECT 1`` every ``interval`` seconds, each with a short
timeout, so a database that is down (refusing) or hung (a stopped process, a network partition)
is noticed within a few seconds. While it is down, requests that need it get a 503 at once
instead of hanging; when it answers again, the pools' idle connections, which died with the old
server, are replaced before anyone meets them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import psycopg

from dalserver.db.errors import DatabaseUnavailable, primary_message

log = logging.getLogger(__name__)


class DatabaseHealth:
    # What the probe asks; a subclass that wants more of the server (a standby's replay position)
    # asks it here and reads the answer in ``observe``.
    probe_sql = "SELECT 1"

    def __init__(self, url: str, interval: float = 1.0, timeout: float = 3.0):
        self.url = url
        self.what = "the database"  # in the log: which server this is
        self.interval = interval
        self.timeout = timeout
        self.up = True  # optimistic until the first probe: the app started against it
        self.reason = ""
        self.since = datetime.now(UTC)
        self._down_at = 0.0
        self.down = asyncio.Event()  # set while the database is known to be down
        self._watchers: set[asyncio.Future[None]] = set()  # watch()'s futures not yet done
        self._recovered: list[Callable[[], Awaitable[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._conn: psycopg.AsyncConnection | None = None
        self._soon = asyncio.Event()

    def on_recovery(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run ``action`` whenever the database answers again after an outage."""
        self._recovered.append(action)

    def check(self) -> None:
        """Raise ``DatabaseUnavailable`` at once while the database is known to be down."""
        if not self.up:
            raise DatabaseUnavailable(self.reason)

    def watch(self) -> asyncio.Future[None]:
        """A future of the caller's own, done when the database is found down (at once if it is
        known down now); wait for it beside other work and cancel it when done with it. Unlike a
        task waiting on ``down`` it costs no task and no turn of the event loop, and every
        request takes one or more (dalserver.http.routing, dalserver.db.query)."""
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not self.up:
            mine.set_result(None)
            return mine
        self._watchers.add(mine)
        mine.add_done_callback(self._watchers.discard)
        return mine

    def lost(self, reason: str) -> None:
        """A request met a broken connection: say so now rather than at the next probe."""
        self._mark_down(reason)

    def probe_soon(self) -> None:
        """Probe now rather than at the end of the interval."""
        self._soon.set()

    def observe(self, row: tuple[object, ...] | None) -> None:
        """What the probe's query answered (``probe_sql``)."""

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="database-health")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._drop()

    async def _run(self) -> None:
        while True:
            probe = asyncio.ensure_future(self._probe())
            finished, _ = await asyncio.wait((probe,), timeout=self.timeout)
            if not finished:
                # Not wait_for: cancelling a query politely asks the server, which a hung server
                # never answers. Cut the connection under the probe and leave it to unwind.
                probe.add_done_callback(_retrieve)
                await self._drop()
                probe.cancel()
                self._mark_down(f"it did not answer within {self.timeout:g} s")
            elif (failure := probe.exception()) is not None:
                await self._drop()
                self._mark_down(primary_message(failure))
            else:
                await self._mark_up()
            # While it is down, look more often: the first request after its return should work.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._soon.wait(), self.interval if self.up else self.interval / 4)
            self._soon.clear()

    async def _probe(self) -> None:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(
                self.url,
                autocommit=True,
                connect_timeout=max(1, int(self.timeout)),
                application_name="dalserver-health",
            )
        cursor = await self._conn.execute(self.probe_sql)
        self.observe(await cursor.fetchone())

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                # A hung server would hold a polite close: cut the socket instead.
                conn.pgconn.finish()

    def _mark_down(self, reason: str) -> None:
        self.reason = reason
        if self.up:
            self.up = False
            self.since = datetime.now(UTC)
            self._down_at = time.monotonic()
            self.down.set()
            for watcher in list(self._watchers):
                if not watcher.done():
                    watcher.set_result(None)
            log.warning("%s is not available: %s", self.what, reason)

    async def _mark_up(self) -> None:
        if self.up:
            return
        log.warning("%s answers again after %.1f s", self.what, time.monotonic() - self._down_at)
        for action in self._recovered:
            try:
                await action()
            except Exception as exc:  # a pool that cannot be refreshed heals on its next use
                log.warning("after the database came back: %s", exc)
        self.up, self.reason, self.since = True, "", datetime.now(UTC)
        self.down.clear()


def _retrieve(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()
