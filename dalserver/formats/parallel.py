"""A large batch's bytes made on every core: its rows cut into consecutive parts, each part encoded
in a worker thread, the parts' bytes in order. pyarrow.compute and numpy let go of the GIL while
they work, so a 2-core machine formats a batch in about half the time, and the event loop, free
meanwhile, sends the previous batch and reads the next one from the database.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import pyarrow as pa
from anyio import to_thread

Encode = Callable[[list[pa.Array]], bytes]

# Below this many rows a batch is encoded where it is: a thread hop (about 0.1 ms) costs more than
# it saves, and a small query (a cone, one SIA row) is answered without one.
PART_ROWS = 8192
# A batch at or above PART_ROWS is cut into parts of at least this many rows, one a core. A 1 MiB
# batch of a narrow table has 10-20 thousand rows: with parts of PART_ROWS it stayed in one piece on
# one core (a 7-column row is about 70 bytes), and the other core idled while it was encoded.
MIN_PART_ROWS = 2048
PARTS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def part_bounds(rows: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` consecutive (offset, length) ranges covering ``rows`` rows, as even as can be."""
    edges = [rows * k // parts for k in range(parts + 1)]
    return [(start, stop - start) for start, stop in zip(edges, edges[1:], strict=False)]


async def encoded_parts(encode: Encode, arrays: list[pa.Array]) -> list[bytes]:
    """``encode`` applied to consecutive parts of the rows of ``arrays``, in row order."""
    rows = len(arrays[0]) if arrays else 0
    if rows < PART_ROWS:
        return [encode(arrays)]
    parts = max(1, min(PARTS, rows // MIN_PART_ROWS))
    if parts == 1:
        return [await to_thread.run_sync(encode, arrays)]
    slices = [[a.slice(offset, length) for a in arrays] for offset, length in part_bounds(rows, parts)]
    return list(await asyncio.gather(*(to_thread.run_sync(encode, part) for part in slices)))
