"""How many connections each server worker may open, so that all of them together stay within
the database's ``max_connections``."""

from __future__ import annotations

import psycopg

# Per worker, besides its two pools: the job runner's listener and the health probe.
FIXED_PER_WORKER = 2
# Left for everything else: the ingest command, an operator's psql, bootstrap of a starting server.
HEADROOM = 10


def max_connections(url: str) -> int:
    """The connections the database accepts for ordinary users."""
    with psycopg.connect(url, connect_timeout=10) as conn:
        total = int(conn.execute("SHOW max_connections").fetchone()[0])  # type: ignore[index]  # SHOW returns exactly one row
        reserved = int(conn.execute("SHOW superuser_reserved_connections").fetchone()[0])  # type: ignore[index]  # SHOW returns exactly one row
    return total - reserved


def pool_size_per_worker(wanted: int, workers: int, available: int) -> int:
    """The size of each of a worker's two pools: ``wanted``, or less when ``workers`` of them
    would not fit in ``available`` connections. Raises ValueError when not even one fits."""
    budget = (available - HEADROOM) // workers - FIXED_PER_WORKER
    size = min(wanted, budget // 2)
    if size < 1:
        raise ValueError(
            f"{workers} workers need at least {workers * (FIXED_PER_WORKER + 2) + HEADROOM} database connections; "
            f"the database allows {available}: use fewer workers or raise max_connections"
        )
    return size
