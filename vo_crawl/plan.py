"""Which cells to fetch: the census gives each sky cell's count, the plan turns counts into
units (cells small enough to fetch), and comparing units with what the last run stored says
which need fetching and which stored cells have gone. Pure functions.

A unit is the coarsest cell whose count fits ``limit`` (or a cell of the census order, however
full: its fetch is split further). The same counts always give the same units, so a service
whose counts have not changed gives the stored units back and nothing is fetched; a changed
count changes the units around it only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from vo_crawl.healpix import BASE_CELLS, NO_POSITION, Cell


@dataclass(frozen=True)
class StoredCell:
    cell: Cell
    census: int | None
    state: str  # done, error
    refresh_after: datetime | None


@dataclass
class Work:
    fetch: list[tuple[Cell, int | None]] = field(default_factory=list)  # units to fetch, with their census
    unchanged: int = 0  # units whose stored rows are up to date
    gone: list[Cell] = field(default_factory=list)  # stored cells that no unit keeps as they are


def units_from_counts(counts: Mapping[int, int], order: int, limit: int) -> dict[Cell, int]:
    """Units from exact counts per cell of ``order`` (an ivo_healpix_index census)."""
    sums: list[dict[int, int]] = [defaultdict(int) for _ in range(order + 1)]
    for index, n in counts.items():
        if n > 0:
            sums[order][index] += n
    for k in range(order, 0, -1):
        for index, n in sums[k].items():
            sums[k - 1][index >> 2] += n
    units: dict[Cell, int] = {}

    def visit(cell: Cell) -> None:
        n = sums[cell.order].get(cell.index, 0)
        if n == 0:
            return
        if n <= limit or cell.order == order:
            units[cell] = n
            return
        for child in cell.children():
            visit(child)

    for base in BASE_CELLS:
        visit(base)
    return units


def units_from_queries(count: Callable[[Cell], int], limit: int, max_order: int) -> dict[Cell, int]:
    """Units found by counting cell after cell from the 12 base cells down: where there is no
    ivo_healpix_index. ``count`` asks the service (its count covers a circle around the cell)."""
    units: dict[Cell, int] = {}
    pending = list(BASE_CELLS)
    while pending:
        cell = pending.pop(0)
        n = count(cell)
        if n == 0:
            continue
        if n <= limit or cell.order >= max_order:
            units[cell] = n
        else:
            pending.extend(cell.children())
    return units


def plan(
    units: Mapping[Cell, int | None],
    stored: Iterable[StoredCell],
    now: datetime,
) -> Work:
    """What to fetch: a unit is fetched unless a stored cell of exactly its extent is done, has
    the same census, is not due for its refresh, and no other stored cell overlaps it. A stored
    cell that is not a unit is gone (its rows are replaced by the units over it, or removed)."""
    by_cell = {s.cell: s for s in stored}
    positioned = sorted(c for c in by_cell if c.has_position)
    work = Work()
    for cell, census in sorted(units.items()):
        mine = by_cell.get(cell)
        others = cell.has_position and any(s != cell and s.overlaps(cell) for s in positioned)
        fresh = (
            mine is not None
            and mine.state == "done"
            and mine.census == census
            and (mine.refresh_after is None or now < mine.refresh_after)
            and not others
        )
        if fresh:
            work.unchanged += 1
        else:
            work.fetch.append((cell, census))
    work.gone = sorted(c for c in by_cell if c not in units)
    return work


def without_position_unit(count: int) -> dict[Cell, int]:
    return {NO_POSITION: count} if count > 0 else {}
