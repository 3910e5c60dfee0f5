"""When a service fails: a run that cannot reach it backs the service off, exponentially, and
after ``dead_after`` failed runs it is dead (probed again after a week); the daily request budget
ends a run until the next UTC day. Real sockets and the session database: a port nobody listens
on, and the source dalserver."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.rows import dict_row

from tests.crawl.conftest import FirstCrawl, Sources
from tests.support.archive import Archive
from tests.support.servers import free_port
from vo_crawl import store
from vo_crawl.config import CrawlConfig
from vo_crawl.crawl import SERVICE_COLUMNS, Service, crawl_service
from vo_crawl.polite import Gates

CONFIG = CrawlConfig("dalserver/test (IVOA-copy https://operator.example/)", min_gap_seconds=0.01, retries=1,
                     retry_seconds=0.01, backoff_seconds=60, dead_after=3)  # fmt: skip


def _service(conn: psycopg.Connection, ivoid: str, url: str) -> Service:
    conn.execute(
        "INSERT INTO crawl.service (ivoid, kind, access_url, table_name, host, state, fail_count, row_count, "
        "requests_today, discovered, seen) VALUES (%s, 'obscore-tap', %s, 'ivoa.obscore', '127.0.0.1', 'active', "
        "0, 0, 0, now(), now()) ON CONFLICT (ivoid) DO NOTHING",
        (ivoid, url),
    )
    row = (
        conn.cursor(row_factory=dict_row)
        .execute(f"SELECT {SERVICE_COLUMNS} FROM crawl.service WHERE ivoid = %s", (ivoid,))
        .fetchone()
    )
    assert row is not None
    return Service.from_row(row)


def _state(conn: psycopg.Connection, ivoid: str) -> tuple[str, int, float, str]:
    state, fails, due, error = conn.execute(
        "SELECT state, fail_count, EXTRACT(EPOCH FROM next_due - now()), last_error FROM crawl.service WHERE ivoid = %s",
        (ivoid,),
    ).fetchone()
    return state, fails, float(due), error


def test_a_service_that_cannot_be_reached_backs_off_then_is_declared_dead(
    archive: Archive, first_crawl: FirstCrawl
) -> None:
    ivoid = "ivo://unreachable.test/tap"
    with psycopg.connect(archive.url, autocommit=True) as conn:
        store.prepare(conn)
        waits = []
        for _ in range(3):
            report = crawl_service(
                conn, Gates(0.01), _service(conn, ivoid, f"http://127.0.0.1:{free_port()}/tap"), CONFIG
            )
            assert report.outcome == "failed" and "cannot connect" in (report.message or "")
            waits.append(_state(conn, ivoid))
        problems = conn.execute("SELECT reason, count FROM crawl.problem WHERE service_ivoid = %s", (ivoid,)).fetchall()
    (s1, f1, d1, e1), (s2, f2, d2, _), (s3, f3, d3, _) = waits
    assert (s1, f1, s2, f2) == ("backoff", 1, "backoff", 2) and "cannot connect" in e1
    assert 55 < d1 <= 60 and 115 < d2 <= 120, "the back-off doubles with each failed run"
    assert (s3, f3) == ("dead", 3) and d3 > 6 * 86400, "dead services are probed again after a week"
    assert problems == [("cannot connect", 6)]  # two attempts a run (one retry), three runs


def test_the_daily_budget_ends_a_run_until_the_next_day(
    archive: Archive, sources: Sources, first_crawl: FirstCrawl
) -> None:
    ivoid = "ivo://budget.test/tap"
    with psycopg.connect(archive.url, autocommit=True) as conn:
        store.prepare(conn)
        report = crawl_service(
            conn, Gates(0.01), _service(conn, ivoid, f"{sources.plain}/tap"), replace(CONFIG, daily_requests=2)
        )
        state, fails, due, error = _state(conn, ivoid)
        used, rows = conn.execute(
            "SELECT requests_today, (SELECT count(*) FROM vo.remote_obscore WHERE source_ivoid = %s) "
            "FROM crawl.service WHERE ivoid = %s",
            (ivoid, ivoid),
        ).fetchone()
    assert report.outcome == "budget" and report.requests == 2 and used == 2 and rows == 0
    tomorrow = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    assert state == "active" and fails == 0 and "budget of 2 requests" in error
    assert abs(due - (tomorrow - datetime.now(UTC)).total_seconds()) < 5
