"""Users' queries on hot standbys (PostgreSQL streaming replicas), spread over them; the primary
keeps the job store, LISTEN and advisory locks, ingest and everything else that writes.

A query goes to the standby with the fewest queries running from this process (ties taken in
turn), among those that may answer for the archive as this server knows it:

- it answers its probe (a second apart, as the primary's: dalserver.db.health) and is still a
  standby (a promoted one is a server of its own now, no longer following this primary);
- it has replayed the primary's write-ahead log at least up to where the published catalogue
  (TAP_SCHEMA) last changed, as this server read it: a table the service lists is never missing
  on the standby that answers (``require``);
- it is at most ``max_lag`` seconds behind the primary: how long the oldest change it has not
  replayed yet has been on the primary, from the primary's positions the primary's probe records.

With none of them fit, the primary answers. DataLink's look-ups of datasets by ID go the same way
(``look_up``), and to the primary as well for an ID the standby does not know. A standby that fails a query before its first row
(lost, refusing connections) is reported down at once and the query goes elsewhere
(dalserver.db.query), so losing one costs the queries it was streaming, no more; it is used again
as soon as its probe answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from itertools import count
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

import psycopg
from psycopg_pool import AsyncConnectionPool

from dalserver.db import metrics
from dalserver.db.arrow_pool import ArrowPool
from dalserver.db.errors import DatabaseUnavailable, primary_message
from dalserver.db.health import DatabaseHealth
from dalserver.db.pool import GuardedPool

log = logging.getLogger(__name__)
T = TypeVar("T")

PRIMARY = "primary"
FIRST_PROBE_SECONDS = 3.0  # the longest a server's start waits for its standbys' first answers
SETTLE_SECONDS = 0.2  # the longest a changed catalogue waits for the standbys' news
# A numeric position (bytes since the start of the write-ahead log), which pg_lsn is not in Python.
_FLUSHED = "SELECT pg_current_wal_flush_lsn() - '0/0'::pg_lsn"
_REPLAYED = (
    "SELECT pg_is_in_recovery(), "
    "CASE WHEN pg_is_in_recovery() THEN coalesce(pg_last_wal_replay_lsn() - '0/0'::pg_lsn, 0) END"
)


def server_address(url: str) -> str:
    """Host and port (or the socket directory) of a libpq URL or key=value string; never a password."""
    if "://" in url:
        parts = urlsplit(url)
        hosts = parts.netloc.rpartition("@")[2]
        query = parse_qs(parts.query)
        if not hosts and "host" in query:
            hosts = query["host"][0] + (f":{query['port'][0]}" if "port" in query else "")
        return hosts or "localhost"
    pairs = dict(p.split("=", 1) for p in url.split() if "=" in p)
    host = pairs.get("host", "localhost")
    return f"{host}:{pairs['port']}" if "port" in pairs else host


class PrimaryPositions:
    """Where the primary's write-ahead log stood over the last ``keep`` seconds: (when first
    seen, position), one entry per change, so a standby's lag in time can be told from its
    replay position alone."""

    def __init__(self, keep: float = 3600.0):
        self.keep = keep
        self._seen: deque[tuple[float, int]] = deque()

    def record(self, position: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if not self._seen or position > self._seen[-1][1]:
            self._seen.append((now, position))
        while len(self._seen) > 1 and self._seen[1][0] < now - self.keep:
            self._seen.popleft()

    @property
    def latest(self) -> int | None:
        return self._seen[-1][1] if self._seen else None

    def lag_bytes(self, replayed: int) -> int:
        latest = self.latest
        return max(0, latest - replayed) if latest is not None else 0

    def lag_seconds(self, replayed: int, now: float | None = None) -> float:
        """How long the primary has held something the standby at ``replayed`` has not replayed
        (0 when it has all of it): since the primary was first seen beyond that position."""
        now = time.monotonic() if now is None else now
        first_beyond = None
        for seen, position in reversed(self._seen):  # newest first: a standby caught up stops at once
            if position <= replayed:
                break
            first_beyond = seen
        return 0.0 if first_beyond is None else max(0.0, now - first_beyond)


class PrimaryHealth(DatabaseHealth):
    """The primary's probe, which also records its write-ahead log position (for the standbys'
    lag). On a server in recovery it fails, naming the mistake: the URL must name the primary."""

    probe_sql = _FLUSHED

    def __init__(self, url: str, positions: PrimaryPositions, **kwargs: float):
        super().__init__(url, **kwargs)
        self.positions = positions

    def observe(self, row: tuple[object, ...] | None) -> None:
        if row is not None and row[0] is not None:
            self.positions.record(int(row[0]))  # type: ignore[call-overload]  # numeric from PostgreSQL


class StandbyHealth(DatabaseHealth):
    """A standby's probe: whether it answers, is still a standby, and how far it has replayed."""

    probe_sql = _REPLAYED

    def __init__(self, url: str, name: str, **kwargs: float):
        super().__init__(url, **kwargs)
        self.what = f"standby {name}"
        self.in_recovery = True
        self.replayed = 0
        self.probed = asyncio.Event()  # its first probe answered: until then it is not used
        self.answered = asyncio.Event()  # set by every answer of its probe

    def observe(self, row: tuple[object, ...] | None) -> None:
        if row is None:
            return
        self.in_recovery = bool(row[0])
        if row[1] is not None:
            self.replayed = int(row[1])  # type: ignore[call-overload]  # numeric from PostgreSQL
        self.probed.set()
        self.answered.set()


@dataclass
class Standby:
    name: str  # replica1, replica2, ... in the order of DALSERVER_REPLICA_URLS
    address: str  # host and port, for people (no password)
    queries: ArrowPool
    health: StandbyHealth
    lookups: GuardedPool  # small look-ups by key (DataLink's datasets)


@dataclass(frozen=True)
class StandbyState:
    """What the router makes of a standby now."""

    usable: bool
    note: str  # for /availability and the log
    lag_seconds: float
    lag_bytes: int
    waits_for_catalogue: bool = False


class QueryRouter:
    """Chooses the server for each user's query (``choose``; the ``QueryServers`` of dalserver.db.query)."""

    def __init__(
        self,
        primary: ArrowPool,
        standbys: Sequence[Standby],
        positions: PrimaryPositions,
        max_lag: float,
        primary_lookups: AsyncConnectionPool | None = None,
    ):
        self.primary = primary
        self.primary_lookups = primary_lookups
        self.standbys = list(standbys)
        self.positions = positions
        self.max_lag = max_lag
        self.floor = 0  # the position every standby must have replayed (the catalogue's last change)
        self._turn = count()
        self._addresses = {PRIMARY: server_address(primary.url)} | {s.name: s.address for s in self.standbys}
        self._usable: dict[str, bool] = {}
        self._waited: dict[str, bool] = {}
        self._watch: asyncio.Task[None] | None = None

    # --- choosing ---------------------------------------------------------------------------
    def choose(self, exclude: Collection[ArrowPool] = ()) -> ArrowPool:
        fit = [s.queries for s in self.standbys if s.queries not in exclude and self.state(s).usable]
        if not fit:
            return self.primary
        fewest = min(pool.busy for pool in fit)
        least_busy = [pool for pool in fit if pool.busy == fewest]
        return least_busy[next(self._turn) % len(least_busy)]

    def answered(self, pool: ArrowPool) -> None:
        """Which server runs each query: counted (/metrics) and, with standbys, a line in the log
        (logger ``dalserver.db.replicas``), so the spread can be followed as well as counted."""
        metrics.query_ran(pool.name)
        if self.standbys:
            log.info("query on %s (%s)", pool.name, self._addresses.get(pool.name, "?"))

    async def look_up(self, look: Callable[[AsyncConnectionPool], Awaitable[T]], complete: Callable[[T], bool]) -> T:
        """``look`` (a small read by key) on a fit standby's connections, or the primary's. An
        answer that is not ``complete`` (an ID the standby does not know: not published, or
        published since it last replayed) or a standby that fails is asked of the primary."""
        assert self.primary_lookups is not None, "a router for look-ups is given the primary's pool"
        fit = [s for s in self.standbys if self.state(s).usable]
        if fit:
            standby = fit[next(self._turn) % len(fit)]
            try:
                found = await look(standby.lookups)
            except (DatabaseUnavailable, psycopg.OperationalError) as exc:
                standby.health.lost(primary_message(exc))
                metrics.query_moved(standby.name, "unavailable")
            else:
                metrics.lookup_ran(standby.name)
                if complete(found):
                    return found
        metrics.lookup_ran(PRIMARY)
        return await look(self.primary_lookups)

    def state(self, standby: Standby) -> StandbyState:
        health = standby.health
        lag_seconds = self.positions.lag_seconds(health.replayed)
        lag_bytes = self.positions.lag_bytes(health.replayed)
        behind = f"{lag_seconds:.1f} s ({lag_bytes} bytes) behind the primary"
        if not health.up:
            note = f"down since {health.since:%Y-%m-%dT%H:%M:%SZ}: {health.reason}"
            return StandbyState(False, note, lag_seconds, lag_bytes)
        if not health.probed.is_set():
            return StandbyState(False, "not used until its first probe answers", lag_seconds, lag_bytes)
        if not health.in_recovery:
            note = "not a standby any more (promoted?): it no longer follows this primary, and is not used"
            return StandbyState(False, note, lag_seconds, lag_bytes)
        if health.replayed < self.floor:
            note = f"not used until it has replayed the catalogue's last change; {behind}"
            return StandbyState(False, note, lag_seconds, lag_bytes, waits_for_catalogue=True)
        if lag_seconds > self.max_lag:
            note = f"not used: {behind}, more than DALSERVER_REPLICA_MAX_LAG_SECONDS ({self.max_lag:g} s)"
            return StandbyState(False, note, lag_seconds, lag_bytes)
        return StandbyState(True, f"answering queries, {behind}", lag_seconds, lag_bytes)

    def require(self, position: int) -> None:
        """From now on a standby answers only once it has replayed ``position`` (the primary's,
        when the catalogue last changed); they are probed at once rather than within a second."""
        if position > self.floor:
            self.floor = position
            for standby in self.standbys:
                standby.health.probe_soon()

    async def settle(self, timeout: float = SETTLE_SECONDS) -> None:
        """Wait (at most ``timeout``) for the standbys behind the floor, as last probed, to be
        probed again: one that replayed the change meanwhile (usually within milliseconds) is
        used at once, rather than the primary until its next probe."""
        behind = [s.health for s in self.standbys if s.health.up and s.health.replayed < self.floor]
        for health in behind:
            health.answered.clear()
            health.probe_soon()
        if behind:
            waiting = [asyncio.ensure_future(h.answered.wait()) for h in behind]
            await asyncio.wait(waiting, timeout=timeout)
            for future in waiting:
                future.cancel()

    # --- what the operator sees -------------------------------------------------------------
    def notes(self) -> list[str]:
        """One line per standby, for VOSI availability."""
        return [f"standby {s.name} ({s.address}): {self.state(s).note}" for s in self.standbys]

    def _report(self) -> None:
        """Metrics of every standby, and a log line whenever one is taken out of use or back."""
        for standby in self.standbys:
            state = self.state(standby)
            metrics.server_state(standby.name, standby.health.up, state.usable)
            metrics.standby_lag(standby.name, state.lag_seconds, state.lag_bytes)
            before = self._usable.get(standby.name)
            if before is not None and before != state.usable:
                # Waiting for the catalogue's last change is the normal course of an ingest: info.
                level = logging.INFO if state.waits_for_catalogue or self._waited.get(standby.name) else logging.WARNING
                if state.usable:
                    log.log(level, "standby %s (%s) answers queries again", standby.name, standby.address)
                else:
                    log.log(level, "standby %s (%s) %s", standby.name, standby.address, state.note)
            self._usable[standby.name] = state.usable
            self._waited[standby.name] = state.waits_for_catalogue
        metrics.server_state(PRIMARY, self.primary.health is None or self.primary.health.up, True)

    # --- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        metrics.server_known(PRIMARY, server_address(self.primary.url), PRIMARY)
        if not self.standbys:
            return  # the primary answers everything, as without a router
        for standby in self.standbys:
            metrics.server_known(standby.name, standby.address, "standby")
            standby.health.on_recovery(_flusher(standby.queries, standby.lookups))
            await standby.health.start()
            await standby.lookups.open(wait=False)  # a standby down at start is tried again when used
        # The first queries go to the standbys, not to the primary while their probes are under way.
        first = [asyncio.ensure_future(s.health.probed.wait()) for s in self.standbys]
        await asyncio.wait(first, timeout=FIRST_PROBE_SECONDS)
        for waiting in first:
            waiting.cancel()
        self._watch = asyncio.create_task(self._watch_loop(), name="standby-watch")

    async def _watch_loop(self) -> None:
        while True:
            self._report()
            await asyncio.sleep(1.0)

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        for standby in self.standbys:
            await standby.health.stop()
            await standby.queries.close()
            await standby.lookups.close()


class CatalogueFloor:
    """Told every TAP_SCHEMA read (``dalserver.db.metadata.CatalogCache``): when what it read
    differs from the last read, the primary's position now (after the read, so at or past the
    change) becomes the router's floor. A table listed is then never missing where a query runs."""

    def __init__(self, router: QueryRouter, pool: AsyncConnectionPool):
        self.router = router
        self.pool = pool
        self._last: object = None

    async def __call__(self, schemas: object) -> None:
        if self._last is not None and schemas == self._last:
            return
        async with self.pool.connection() as conn:
            row = await (await conn.execute(_FLUSHED)).fetchone()
            await conn.rollback()
        self._last = schemas
        if row is not None and row[0] is not None:
            self.router.require(int(row[0]))
            await self.router.settle()


def _flusher(pool: ArrowPool, lookups: GuardedPool) -> Callable[[], Awaitable[None]]:
    async def flush() -> None:
        # Their idle connections died with the server that came back.
        pool.flush()
        await lookups.check()

    return flush


def standbys_from_urls(urls: Sequence[str], pool_size: int) -> list[Standby]:
    standbys = []
    for index, url in enumerate(urls, start=1):
        name = f"replica{index}"
        health = StandbyHealth(url, name)
        pool = ArrowPool(url, pool_size, health, name=name, standby=True)
        standbys.append(Standby(name, server_address(url), pool, health, GuardedPool(url, pool_size, health)))
    return standbys
