"""What ``dalserver crawl services`` and ``dalserver crawl status`` print: the services with their
state, and how the crawls have gone (runs, skipped rows and problems by reason)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg

STATE_NAMES = {"active": "active", "backoff": "backing off", "dead": "dead", "excluded": "excluded"}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "never"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Rows as aligned text columns (the last one unpadded)."""
    texts = [[str(c) for c in header], *[["" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in texts) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(widths[i]) if i < len(header) - 1 else cell for i, cell in enumerate(r)) for r in texts
    ]


def services(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT s.ivoid, s.kind, s.state, s.state_reason, s.last_success, s.row_count, "
        "COALESCE((SELECT sum(count) FROM crawl.problem p WHERE p.service_ivoid = s.ivoid "
        "AND p.reason NOT LIKE 'skipped:%'), 0), s.last_error, s.next_due, s.access_url "
        "FROM crawl.service s ORDER BY s.state = 'excluded', s.ivoid"
    ).fetchall()
    if not rows:
        return [
            "no services yet: harvest a registry (dalserver registry harvest URL) or add one (dalserver crawl add URL)"
        ]
    out = []
    for ivoid, kind, state, reason, success, count, errors, last_error, due, url in rows:
        said: str = STATE_NAMES.get(state) or state
        if state in ("backoff", "dead") and due:
            said += f" until {_when(due)}"
        note = reason if state == "excluded" else (last_error or "")
        out.append((ivoid, kind, said, _when(success), count, errors, (note or "")[:100], url))
    return table(("IVOID", "KIND", "STATE", "LAST SUCCESS", "ROWS", "ERRORS", "LAST ERROR / WHY", "URL"), out)


def status(conn: psycopg.Connection, runs: int = 20) -> list[str]:
    lines = []
    states: dict[str, int] = dict(conn.execute("SELECT state, count(*) FROM crawl.service GROUP BY state").fetchall())
    sources, rows = conn.execute(
        "SELECT count(*) FILTER (WHERE row_count > 0), COALESCE(sum(row_count), 0) FROM crawl.service"
    ).fetchone()  # type: ignore[misc]  # an aggregate query returns exactly one row
    cells, failing = conn.execute("SELECT count(*), count(*) FILTER (WHERE state = 'error') FROM crawl.cell").fetchone()  # type: ignore[misc]  # an aggregate query returns exactly one row
    total = sum(states.values())
    parts = ", ".join(f"{states[s]} {STATE_NAMES[s]}" for s in STATE_NAMES if states.get(s))
    lines.append(f"{total} services ({parts or 'none'}); {rows} rows from {sources} sources in vo.remote_obscore")
    lines.append(f"{cells} sky cells stored, {failing} to fetch again after an error")
    due = conn.execute(
        "SELECT min(next_due) FROM crawl.service WHERE state <> 'excluded' AND next_due > now()"
    ).fetchone()[0]  # type: ignore[index]  # an aggregate query returns exactly one row
    now_due = conn.execute(
        "SELECT count(*) FROM crawl.service WHERE state <> 'excluded' AND (next_due IS NULL OR next_due <= now())"
    ).fetchone()[0]  # type: ignore[index]  # an aggregate query returns exactly one row
    lines.append(f"due now: {now_due}; next due: {_when(due) if due else 'none'} (UTC)")
    recent = conn.execute(
        "SELECT started, service_ivoid, outcome, requests, census_requests, cells_fetched, cells_checked, "
        "rows_written, rows_removed, rows_skipped FROM crawl.run ORDER BY started DESC LIMIT %s",
        (runs,),
    ).fetchall()
    if recent:
        lines += ["", "last runs:"]
        lines += table(
            ("STARTED", "SERVICE", "OUTCOME", "REQUESTS", "CENSUS", "CELLS", "WRITTEN", "REMOVED", "SKIPPED"),
            [(_when(s), i, o, r, c, f"{f}/{k}", w, rm, sk) for s, i, o, r, c, f, k, w, rm, sk in recent],
        )
    skipped = conn.execute(
        "SELECT c.service_ivoid, s.key, sum(s.value::bigint) FROM crawl.cell c, jsonb_each_text(c.skipped) s "
        "GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    if skipped:
        lines += ["", "rows not stored (as the cells now stand), by reason:"]
        lines += table(("SERVICE", "REASON", "ROWS"), skipped)
    problems = conn.execute(
        "SELECT service_ivoid, reason, count, last_seen, last_message FROM crawl.problem "
        "WHERE reason NOT LIKE 'skipped:%' ORDER BY service_ivoid, count DESC"
    ).fetchall()
    if problems:
        lines += ["", "problems since the first crawl, by reason:"]
        lines += table(
            ("SERVICE", "REASON", "COUNT", "LAST", "LAST MESSAGE"),
            [(i, r, n, _when(t), (m or "")[:100]) for i, r, n, t, m in problems],
        )
    conn.rollback()
    return lines
