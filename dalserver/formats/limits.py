"""What every writer shares: cutting the rows at MAXREC, and noticing a failure mid-stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

Batches = AsyncIterator[list[tuple[Any, ...]]]


@dataclass
class ResultState:
    overflow: bool = False  # rows were cut at MAXREC
    error: str | None = None  # the query failed after the first bytes were sent


async def limited(batches: Batches, maxrec: int, state: ResultState) -> Batches:
    """Pass ``batches`` on, at most ``maxrec`` rows; record an overflow or a late failure in ``state``."""
    from dalserver.errors import DALIError

    sent = 0
    try:
        async for batch in batches:
            room = maxrec - sent
            if len(batch) > room:
                batch = batch[:room]
                state.overflow = True
            if batch:
                sent += len(batch)
                yield batch
            if state.overflow:
                return
    except Exception as exc:  # the status line is gone: the document itself must say it
        state.error = exc.message if isinstance(exc, DALIError) else f"the query failed while sending results: {exc}"
