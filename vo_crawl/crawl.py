"""One crawl of one service: read what it can do (once a week), take its census, fetch the cells
whose count changed (or whose refresh is due), replace them in the cache, forget the cells that
have gone, and record how it went in the service's state.

A cell that comes back unusable (an HTML page, a broken VOTable, an error) is an error for that
cell only; it is fetched again next run. A request that still fails after its retries (timeouts,
503s) ends the run: the service backs off, exponentially with each failed run, and is declared
dead after ``dead_after`` of them, then probed once a week. The daily request budget ends a run
until the next UTC day.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row
from tqdm import tqdm

from archive_io.remote_rows import DATA_COLUMNS, RowConverter, Source
from archive_io.remote_votable import Answer
from vo_crawl import queries, store
from vo_crawl.config import CrawlConfig
from vo_crawl.discovery import OBSCORE_TAP, SIA1, SIA2
from vo_crawl.healpix import BASE_CELLS, NO_POSITION, Cell, descendants
from vo_crawl.plan import StoredCell, plan, units_from_counts, units_from_queries, without_position_unit
from vo_crawl.polite import BudgetExhausted, Gates, PoliteClient, Reply, RequestFailed
from vo_crawl.remote import CellError, Remote

log = logging.getLogger(__name__)
SIA1_ORDER = 2  # SIA 1.0 services take boxes of tens of degrees at most
REQUIRED_COLUMNS = ("obs_publisher_did", "s_ra", "s_dec")
FAILING_CELLS = 3  # cells in a row failing after their retries that end a run


@dataclass
class Service:
    """A row of crawl.service, as a crawl needs it."""

    ivoid: str
    kind: str
    access_url: str
    table_name: str | None
    title: str | None
    state: str
    fail_count: int
    has_healpix_udf: bool | None
    maxrec_hard: int | None
    response_format: str | None
    remote_columns: list[str] | None
    capabilities_read: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Service:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


SERVICE_COLUMNS = ", ".join(Service.__dataclass_fields__)


@dataclass
class RunReport:
    ivoid: str
    title: str | None = None
    outcome: str = "interrupted"
    requests: int = 0
    census_requests: int = 0
    cells_checked: int = 0
    cells_fetched: int = 0
    rows_written: int = 0
    rows_removed: int = 0
    rows_skipped: int = 0
    cell_errors: list[str] = field(default_factory=list)
    message: str | None = None
    changed: bool = False

    def line(self) -> str:
        text = (
            f"{self.ivoid}: {self.outcome}; {self.requests} requests ({self.census_requests} census), "
            f"{self.cells_fetched} of {self.cells_checked} cells fetched, {self.rows_written} rows written, "
            f"{self.rows_removed} removed, {self.rows_skipped} skipped"
        )
        if self.cell_errors:
            text += f"; {len(self.cell_errors)} cells failed"
        if self.message:
            text += f" ({self.message})"
        return text


class ServiceFailing(Exception):
    """The service cannot be crawled now (the run ends, the service backs off)."""


def _now() -> datetime:
    return datetime.now(UTC)


class ServiceCrawl:
    """The crawl of one service over one connection (autocommit, with its staging table)."""

    def __init__(self, conn: psycopg.Connection, gates: Gates, service: Service, config: CrawlConfig):
        self.conn = conn
        self.service = service
        self.config = config
        self.report = RunReport(service.ivoid, service.title)
        self.started = _now()
        self.client = PoliteClient(config, gates, self._before_request, self._after_attempt)
        base = service.access_url
        self.remote = Remote(self.client, base, self._count)
        self.source = Source(service.ivoid, service.access_url, service.kind)

    # --- accounting ------------------------------------------------------------------------------
    def _count(self, purpose: str) -> None:
        if purpose == "census":
            self.report.census_requests += 1

    def _before_request(self) -> None:
        row = self.conn.execute(
            "UPDATE crawl.service SET requests_today = CASE WHEN requests_day = (now() AT TIME ZONE 'UTC')::date "
            "THEN requests_today + 1 ELSE 1 END, requests_day = (now() AT TIME ZONE 'UTC')::date "
            "WHERE ivoid = %s AND (requests_day IS DISTINCT FROM (now() AT TIME ZONE 'UTC')::date "
            "OR requests_today < %s) RETURNING requests_today",
            (self.service.ivoid, self.config.daily_requests),
        ).fetchone()
        if row is None:
            raise BudgetExhausted(f"the daily budget of {self.config.daily_requests} requests is used up")
        self.report.requests += 1

    def _after_attempt(self, url: str, reply: Reply | None, failure: RequestFailed | None) -> None:
        if failure is not None:
            self.problem(failure.reason, failure.message)
        elif reply is not None and reply.status in (429, 502, 503, 504):
            self.problem(f"http {reply.status}", f"{url} answered HTTP {reply.status}")

    def problem(self, reason: str, message: str, count: int = 1) -> None:
        self.conn.execute(
            "INSERT INTO crawl.problem (service_ivoid, reason, count, last_seen, last_message) "
            "VALUES (%s, %s, %s, now(), %s) ON CONFLICT (service_ivoid, reason) DO UPDATE SET "
            "count = crawl.problem.count + EXCLUDED.count, last_seen = now(), last_message = EXCLUDED.last_message",
            (self.service.ivoid, reason, count, message[:2000]),
        )

    # --- what the service is ---------------------------------------------------------------------
    def _limit(self) -> int:
        hard = self.service.maxrec_hard
        return max(1, min(self.config.rows_per_request, hard) if hard else self.config.rows_per_request)

    def ensure_metadata(self) -> None:
        """Capabilities and the ObsCore table's columns, read again after a week."""
        svc = self.service
        fresh = (
            svc.capabilities_read is not None
            and (_now() - svc.capabilities_read).total_seconds() < self.config.capabilities_max_age_seconds
        )
        if fresh and (svc.kind != OBSCORE_TAP or svc.remote_columns):
            return
        caps = self.remote.capabilities() if svc.kind == OBSCORE_TAP else None
        columns: list[str] | None = None
        if svc.kind == OBSCORE_TAP:
            fmt = caps.response_format if caps else "votable"
            try:
                answer = self.remote.tap(
                    queries.columns_query(svc.table_name or "ivoa.obscore"), 10000, fmt, "metadata"
                )
            except CellError as exc:
                raise ServiceFailing(f"its ObsCore table's columns cannot be read: {exc.message}") from None
            columns = sorted({str(row[0]).strip().lower() for row in answer.rows if row and row[0]})
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise ServiceFailing(f"its table {svc.table_name} has no column {', '.join(missing)}")
        svc.has_healpix_udf = bool(caps and caps.has_healpix_udf)
        svc.maxrec_hard = caps.maxrec_hard if caps else None
        svc.response_format = caps.response_format if caps else "votable"
        svc.remote_columns = columns
        svc.capabilities_read = _now()
        self.conn.execute(
            "UPDATE crawl.service SET has_healpix_udf = %s, maxrec_hard = %s, response_format = %s, "
            "remote_columns = %s::jsonb, capabilities_read = now() WHERE ivoid = %s",
            (
                svc.has_healpix_udf,
                svc.maxrec_hard,
                svc.response_format,
                None if columns is None else json.dumps(columns),
                svc.ivoid,
            ),
        )

    # --- census ----------------------------------------------------------------------------------
    def _query(self, adql: str, maxrec: int, purpose: str) -> Answer:
        svc = self.service
        return self.remote.tap(adql, maxrec, svc.response_format or "votable", purpose)

    def _table(self) -> str:
        return self.service.table_name or "ivoa.obscore"

    def _count_in(self, cell: Cell) -> int:
        answer = self._query(queries.count_query(self._table(), cell), 1, "census")
        try:
            return int(float(answer.rows[0][0]))  # type: ignore[arg-type]  # a cell is text or a number; anything else raises TypeError, caught below
        except (IndexError, TypeError, ValueError):
            raise CellError("bad count", f"the count of cell {cell} is not a number") from None

    def census(self) -> dict[Cell, int | None]:
        svc = self.service
        if svc.kind == SIA2:
            return dict.fromkeys(BASE_CELLS)
        if svc.kind == SIA1:
            return {c: None for base in BASE_CELLS for c in descendants(base, SIA1_ORDER)}
        limit = self._limit()
        if svc.has_healpix_udf:
            order = self.config.census_order
            try:
                answer = self._query(queries.healpix_census(self._table(), order), 12 * 4**order + 2, "census")
                if answer.overflow:
                    raise CellError("census overflow", "the census was cut by the service's row limit")
                counts: dict[int, int] = {}
                without = 0
                for cell, n in answer.rows:
                    if cell is None or cell == "":
                        without += int(float(n))  # type: ignore[arg-type]  # a census count is text or a number; anything else raises TypeError
                    else:
                        counts[int(float(cell))] = int(float(n))  # type: ignore[arg-type]  # a census cell is text or a number; anything else raises TypeError
                # The census is exact, but a cell is fetched by a circle around it (neighbours'
                # rows come too): units of a third of the limit rarely overflow.
                units: dict[Cell, int | None] = dict(units_from_counts(counts, order, max(1, limit // 3)))
                units.update(without_position_unit(without))
                return units
            except CellError as exc:
                log.warning("%s: the ivo_healpix_index census failed (%s); counting cell by cell", svc.ivoid, exc)
                self.problem("census query failed", exc.message)
        units = dict(units_from_queries(self._count_in, limit, self.config.max_census_order))
        units.update(without_position_unit(self._count_in(NO_POSITION)))
        return units

    # --- fetching --------------------------------------------------------------------------------
    def _columns(self) -> list[str]:
        remote = set(self.service.remote_columns or ())
        return [c for c in DATA_COLUMNS if c in remote]

    def _fetch_piece(self, piece: Cell, maxrec: int) -> Answer:
        svc = self.service
        if svc.kind == SIA2:
            return self.remote.sia(queries.sia2_params(piece, maxrec))
        if svc.kind == SIA1:
            return self.remote.sia(queries.sia1_params(piece, maxrec))
        return self._query(queries.fetch_query(self._table(), self._columns(), piece), maxrec, "fetch")

    def _stage(self, answer: Answer, piece: Cell, skipped: Counter[str], examples: dict[str, str]) -> None:
        low, high = piece.span if piece.has_position else (0, 0)

        def in_piece(h: int | None) -> bool:
            # A circle around the piece brings its neighbours' rows too: each row is kept only by
            # the cell it lies in, so a row at a border is stored once, by its own cell.
            if not piece.has_position:
                return h is None
            return h is not None and low <= h < high

        converted = RowConverter(answer.fields, self.source, self.started).convert(answer.rows, in_piece)
        skipped.update(converted.skipped)
        for reason, example in converted.examples.items():
            examples.setdefault(reason, example)
        store.stage(self.conn, converted.rows)

    def _pages(self, piece: Cell, maxrec: int, skipped: Counter[str], examples: dict[str, str]) -> int:
        """A cell too full to split further, fetched page by page in publisher-DID order."""
        if self.service.kind != OBSCORE_TAP:
            raise CellError(
                "too many at one position", f"more than {maxrec} datasets in cell {piece}, which SIA cannot page"
            )
        after: str | None = None
        requests = 0
        while True:
            adql = queries.page_query(self._table(), self._columns(), piece, after)
            answer = self._query(adql, maxrec, "fetch")
            requests += 1
            self._stage(answer, piece, skipped, examples)
            if not answer.overflow and len(answer.rows) < maxrec:
                return requests
            names = [f.name.lower() for f in answer.fields]
            if "obs_publisher_did" not in names or not answer.rows:
                raise CellError("paging stuck", f"cell {piece}: the service's pages carry no obs_publisher_did")
            last = str(answer.rows[-1][names.index("obs_publisher_did")])
            if last == after:
                raise CellError("paging stuck", f"cell {piece}: the service's pages do not advance")
            after = last

    def fetch_unit(self, cell: Cell, census: int | None) -> store.Replaced:
        maxrec = self._limit()
        skipped: Counter[str] = Counter()
        examples: dict[str, str] = {}
        requests = 0
        store.discard_staged(self.conn)
        pieces = [cell]
        while pieces:
            piece = pieces.pop()
            if piece.has_position and piece.order >= self.config.max_split_order:
                requests += self._pages(piece, maxrec, skipped, examples)
                continue
            answer = self._fetch_piece(piece, maxrec)
            requests += 1
            if answer.overflow:
                if piece.has_position:
                    pieces.extend(piece.children())
                else:
                    requests += self._pages(piece, maxrec, skipped, examples)
                continue
            self._stage(answer, piece, skipped, examples)
        refresh = store.refresh_time(_now(), self.config.refresh_days, cell, self.service.ivoid)
        return store.replace_cell(self.conn, self.service.ivoid, cell, census, requests, skipped, examples, refresh)

    # --- the run ---------------------------------------------------------------------------------
    def _stored(self) -> list[StoredCell]:
        rows = self.conn.execute(
            "SELECT hpx_order, hpx_index, census, state, refresh_after FROM crawl.cell WHERE service_ivoid = %s",
            (self.service.ivoid,),
        ).fetchall()
        return [StoredCell(Cell(o, i), c, s, r) for o, i, c, s, r in rows]

    def run(self, bar: tqdm[Any] | None = None) -> RunReport:
        svc = self.service
        self.ensure_metadata()
        units = self.census()
        work = plan(units, self._stored(), _now())
        self.report.cells_checked = len(units)
        if bar is not None:
            bar.reset(total=len(work.fetch))
        failed: list[Cell] = []
        in_a_row = 0  # cells whose requests still failed after their retries
        for cell, census in work.fetch:
            try:
                done = self.fetch_unit(cell, census)
            except CellError as exc:
                failed.append(cell)
                self.report.cell_errors.append(f"{cell}: {exc.message}")
                self.problem(exc.reason, exc.message)
                store.cell_failed(self.conn, svc.ivoid, cell, census, exc.message, 1)
            except RequestFailed as exc:
                # One cell that keeps timing out is that cell's error; several in a row are the
                # service's trouble: the run ends, and the service backs off instead of being hammered.
                failed.append(cell)
                self.report.cell_errors.append(f"{cell}: {exc.message}")
                store.cell_failed(self.conn, svc.ivoid, cell, census, exc.message, 1)
                in_a_row += 1
                if in_a_row >= FAILING_CELLS:
                    raise ServiceFailing(f"{in_a_row} cells in a row failed; the last: {exc.message}") from None
            else:
                in_a_row = 0
                self.report.cells_fetched += 1
                self.report.rows_written += done.written
                self.report.rows_removed += done.removed
                self.report.rows_skipped += sum(done.skipped.values())
                self.report.changed |= done.changed
                for reason, n in done.skipped.items():
                    self.problem(f"skipped: {reason}", done.examples.get(reason, reason), n)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(rows=self.report.rows_written, refresh=False)
        for gone in work.gone:
            if any(f.overlaps(gone) for f in failed):
                continue  # its replacement is not complete: kept until it is
            keep = [u for u in units if u.overlaps(gone)]
            removed = store.clear_cell(self.conn, svc.ivoid, gone, keep)
            self.report.rows_removed += removed
            self.report.changed |= removed > 0
        if self.report.changed:
            store.summarise_service(self.conn, svc.ivoid)
        self.report.outcome = "partial" if failed else "ok"
        if failed and not self.report.cells_fetched:
            raise ServiceFailing(f"every cell fetched failed; the first: {self.report.cell_errors[0]}")
        return self.report

    def close(self) -> None:
        self.client.close()


def _tomorrow() -> datetime:
    now = _now()
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)


def crawl_service(
    conn: psycopg.Connection, gates: Gates, service: Service, config: CrawlConfig, bar: tqdm[Any] | None = None
) -> RunReport:
    """Crawl ``service`` once and record the outcome (state, back-off, run log)."""
    got = conn.execute("SELECT pg_try_advisory_lock(hashtext('dalserver.crawl.run:' || %s))", (service.ivoid,))
    if not got.fetchone()[0]:  # type: ignore[index]  # a SELECT without FROM returns exactly one row
        report = RunReport(service.ivoid, service.title, outcome="skipped")
        report.message = "another crawl is working on this service"
        return report
    if service.state == "dead":
        config = _probe(config)  # a dead service is asked once, not hammered
    crawl = ServiceCrawl(conn, gates, service, config)
    report = crawl.report
    conn.execute(
        "INSERT INTO crawl.run (service_ivoid, started, outcome, requests, census_requests, cells_checked, "
        "cells_fetched, rows_written, rows_removed, rows_skipped) VALUES (%s, %s, 'interrupted', 0, 0, 0, 0, 0, 0, 0)",
        (service.ivoid, crawl.started),
    )
    conn.execute("UPDATE crawl.service SET last_attempt = %s WHERE ivoid = %s", (crawl.started, service.ivoid))
    try:
        crawl.run(bar)
        errors = "; ".join(report.cell_errors[:3]) if report.cell_errors else None
        conn.execute(
            "UPDATE crawl.service SET state = 'active', state_reason = NULL, fail_count = 0, last_success = now(), "
            "next_due = now() + make_interval(secs => %s), last_error = %s WHERE ivoid = %s",
            (config.interval_seconds, errors, service.ivoid),
        )
    except BudgetExhausted as exc:
        report.outcome, report.message = "budget", str(exc)
        conn.execute(
            "UPDATE crawl.service SET next_due = %s, last_error = %s WHERE ivoid = %s",
            (_tomorrow(), str(exc), service.ivoid),
        )
    except (RequestFailed, ServiceFailing, CellError) as exc:
        _failed(conn, service, config, report, exc)
    except Exception as exc:  # our bug, not the service's: reported, the service keeps its state
        log.exception("crawling %s failed", service.ivoid)
        report.outcome, report.message = "error", f"internal error ({type(exc).__name__}: {exc}); see the log"
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
    finally:
        conn.execute(
            "UPDATE crawl.run SET finished = now(), outcome = %s, requests = %s, census_requests = %s, "
            "cells_checked = %s, cells_fetched = %s, rows_written = %s, rows_removed = %s, rows_skipped = %s, "
            "message = %s WHERE service_ivoid = %s AND started = %s",
            (
                report.outcome,
                report.requests,
                report.census_requests,
                report.cells_checked,
                report.cells_fetched,
                report.rows_written,
                report.rows_removed,
                report.rows_skipped,
                report.message or ("; ".join(report.cell_errors[:3]) or None),
                service.ivoid,
                crawl.started,
            ),
        )
        conn.execute("SELECT pg_advisory_unlock(hashtext('dalserver.crawl.run:' || %s))", (service.ivoid,))
        crawl.close()
    return report


def _probe(config: CrawlConfig) -> CrawlConfig:
    return replace(config, retries=0)


def _failed(conn: psycopg.Connection, service: Service, config: CrawlConfig, report: RunReport, exc: Exception) -> None:
    """A failed run: back off exponentially; dead after ``dead_after`` failed runs in a row."""
    message = getattr(exc, "message", None) or str(exc)
    wait = getattr(exc, "wait", None)
    report.outcome, report.message = "failed", message
    if isinstance(exc, CellError):
        crawl_problem = exc.reason
    elif isinstance(exc, RequestFailed):
        crawl_problem = None  # counted when it happened
    else:
        crawl_problem = "cannot be crawled"
    if crawl_problem:
        conn.execute(
            "INSERT INTO crawl.problem (service_ivoid, reason, count, last_seen, last_message) "
            "VALUES (%s, %s, 1, now(), %s) ON CONFLICT (service_ivoid, reason) DO UPDATE SET "
            "count = crawl.problem.count + 1, last_seen = now(), last_message = EXCLUDED.last_message",
            (service.ivoid, crawl_problem, message[:2000]),
        )
    fails = service.fail_count + 1
    if fails >= config.dead_after:
        state, delay = "dead", config.dead_retry_seconds
        reason = f"{fails} failed runs in a row; probed again after {config.dead_retry_seconds / 86400:g} days"
    else:
        state = "backoff"
        delay = min(config.backoff_seconds * 2 ** (fails - 1), config.backoff_max_seconds)
        if wait is not None:
            delay = max(delay, wait)
        reason = f"failed run {fails} of {config.dead_after} before it is declared dead"
    conn.execute(
        "UPDATE crawl.service SET state = %s, state_reason = %s, fail_count = %s, last_error = %s, "
        "next_due = now() + make_interval(secs => %s) WHERE ivoid = %s",
        (state, reason, fails, message[:2000], delay, service.ivoid),
    )


def due_services(conn: psycopg.Connection, only: str | None = None) -> list[Service]:
    """The services a pass crawls: those due (every one not excluded, with ``only``)."""
    cur = conn.cursor(row_factory=dict_row)
    if only:
        rows = cur.execute(
            f"SELECT {SERVICE_COLUMNS} FROM crawl.service WHERE ivoid = %s AND state <> 'excluded'",
            (only.lower(),),
        ).fetchall()
    else:
        rows = cur.execute(
            f"SELECT {SERVICE_COLUMNS} FROM crawl.service WHERE state <> 'excluded' "
            "AND (next_due IS NULL OR next_due <= now()) ORDER BY host, ivoid"
        ).fetchall()
    return [Service.from_row(r) for r in rows]
