"""A crawl pass: discovery (rr into crawl.service), rows of services no longer crawled removed,
then every due service crawled, hosts in parallel and each host's services one after another
(one request in flight per host), each with its progress bar. ``run_forever`` repeats passes.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psycopg
from tqdm import tqdm

from vo_crawl import store
from vo_crawl.config import CrawlConfig
from vo_crawl.crawl import RunReport, Service, crawl_service, due_services
from vo_crawl.discovery import find_services, sync_services
from vo_crawl.polite import Gates


@dataclass
class PassReport:
    services_found: int = 0
    purged: dict[str, int] = field(default_factory=dict)  # ivoid -> rows removed
    runs: list[RunReport] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(self.purged.values()) or any(r.changed for r in self.runs)


def discover(url: str, config: CrawlConfig, purge: bool = True) -> tuple[int, dict[str, int]]:
    """crawl.service from rr; with ``purge``, the rows of services no longer crawled go.
    (services found, rows removed by service)."""
    with psycopg.connect(url, autocommit=True) as conn:
        found = find_services(conn, config)
        gone = sync_services(conn, found, config)
        purged = {ivoid: store.purge_service(conn, ivoid) for ivoid in gone} if purge else {}
    return len(found), {k: v for k, v in purged.items() if v}


def _crawl_host(
    url: str,
    services: list[Service],
    gates: Gates,
    config: CrawlConfig,
    progress: bool,
    slot: int,
    stop: threading.Event,
) -> list[RunReport]:
    reports = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET application_name = 'dalserver-crawl'")
        store.prepare(conn)
        for service in services:
            if stop.is_set():
                break
            with tqdm(
                desc=(service.title or service.ivoid)[:40],
                unit="cell",
                total=0,
                position=slot,
                leave=True,
                disable=not progress,
            ) as bar:
                reports.append(crawl_service(conn, gates, service, config, bar))
    return reports


def run_pass(
    url: str, config: CrawlConfig, only: str | None = None, progress: bool = True, discover_first: bool = True
) -> PassReport:
    report = PassReport()
    if discover_first:
        report.services_found, report.purged = discover(url, config)
    with psycopg.connect(url, autocommit=True) as conn:
        due = due_services(conn, only)
    by_host: dict[str, list[Service]] = defaultdict(list)
    for service in due:
        by_host[(urlsplit(service.access_url).hostname or "").lower()].append(service)
    if not by_host:
        return report
    gates = Gates(config.min_gap_seconds)
    stop = threading.Event()
    workers = max(1, min(len(by_host), config.hosts_in_parallel))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crawl") as pool:
        futures = [
            pool.submit(_crawl_host, url, services, gates, config, progress, slot % workers, stop)
            for slot, services in enumerate(by_host.values())
        ]
        try:
            for future in futures:
                report.runs.extend(future.result())
        except KeyboardInterrupt:
            stop.set()  # each host finishes the service it is on; its cells are whole either way
            raise
    return report


def seconds_until_due(url: str) -> float | None:
    """How long until the next service falls due (None: none will)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT EXTRACT(EPOCH FROM (min(COALESCE(next_due, now())) - now())) FROM crawl.service "
            "WHERE state <> 'excluded'"
        ).fetchone()
    return None if row is None or row[0] is None else max(0.0, float(row[0]))


def run_forever(
    url: str,
    config: CrawlConfig,
    only: str | None,
    progress: bool,
    after_pass: Callable[[PassReport], None],
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Passes for ever: after each, wait until a service is due (at most the interval; at least
    a minute, so that a service due again at once does not spin)."""
    while True:
        after_pass(run_pass(url, config, only, progress))
        wait = seconds_until_due(url)
        sleep(max(60.0, min(config.interval_seconds, wait if wait is not None else config.interval_seconds)))
