"""What an operator scrapes at /metrics (Prometheus text format): which database server ran the
users' queries, and each server's state and, for a standby, how far behind the primary it is.

One ``dalserver serve`` has several worker processes; their figures are summed (counters) or
combined (gauges) through prometheus_client's multiprocess mode, in a directory the command makes
and names in ``PROMETHEUS_MULTIPROC_DIR`` before any worker starts. prometheus_client picks its
mode when it is first imported, so it is imported here on first use, never at module import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Any

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class _Metrics:
    queries: Any
    lookups: Any
    moved: Any
    up: Any
    in_use: Any
    lag_seconds: Any
    lag_bytes: Any
    info: Any


@cache
def _metrics() -> _Metrics:
    from prometheus_client import Counter, Gauge

    return _Metrics(
        queries=Counter(
            "dalserver_queries",
            "Users' queries (TAP, SIA, cone search) run, by the database server that ran them",
            ["server"],
        ),
        lookups=Counter(
            "dalserver_lookups",
            "Look-ups of datasets by ID (DataLink), by the database server that answered them",
            ["server"],
        ),
        moved=Counter(
            "dalserver_query_moves",
            "Queries that a server could not run (down, or a recovery conflict) and went to another",
            ["server", "reason"],
        ),
        # A worker that sees a server down says so: the lowest of the live workers' values.
        up=Gauge(
            "dalserver_database_up",
            "Whether the server answers its probe (1) or not (0)",
            ["server"],
            multiprocess_mode="livemin",
        ),
        in_use=Gauge(
            "dalserver_database_in_use",
            "Whether users' queries may go to the server now (a standby: up, a standby, caught up enough)",
            ["server"],
            multiprocess_mode="livemin",
        ),
        lag_seconds=Gauge(
            "dalserver_replica_lag_seconds",
            "How long the oldest change a standby has not replayed yet has been on the primary",
            ["server"],
            multiprocess_mode="livemax",
        ),
        lag_bytes=Gauge(
            "dalserver_replica_lag_bytes",
            "Bytes of the primary's write-ahead log a standby has not replayed yet",
            ["server"],
            multiprocess_mode="livemax",
        ),
        info=Gauge(
            "dalserver_database_server_info",
            "The database servers by name: their address (host and port, or socket directory)",
            ["server", "address", "role"],
            multiprocess_mode="livemax",
        ),
    )


def query_ran(server: str) -> None:
    _metrics().queries.labels(server).inc()


def lookup_ran(server: str) -> None:
    _metrics().lookups.labels(server).inc()


def query_moved(server: str, reason: str) -> None:
    _metrics().moved.labels(server, reason).inc()


def server_known(server: str, address: str, role: str) -> None:
    _metrics().info.labels(server, address, role).set(1)


def server_state(server: str, up: bool, in_use: bool) -> None:
    metrics = _metrics()
    metrics.up.labels(server).set(1 if up else 0)
    metrics.in_use.labels(server).set(1 if in_use else 0)


def standby_lag(server: str, seconds: float, lag_bytes: int) -> None:
    metrics = _metrics()
    metrics.lag_seconds.labels(server).set(seconds)
    metrics.lag_bytes.labels(server).set(lag_bytes)


def exposition() -> bytes:
    """Every metric of this server (all its workers, in multiprocess mode) in the text format."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

    _metrics()  # declared even before the first query, so a scrape lists them all
    if not os.environ.get(MULTIPROCESS_VARIABLE):
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


def worker_stopped() -> None:
    """This process's gauges leave the combined figures (its counters stay in the sums)."""
    if os.environ.get(MULTIPROCESS_VARIABLE):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())
