"""The sky cells and the plan (no database, no server): a cell's query circle holds every position
of the cell, cells nest as ranges of order-29 indexes, the census becomes the coarsest cells that
fit a request, and only changed cells are fetched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from archive_io.sky_cells import order29
from vo_crawl.healpix import BASE_CELLS, NO_POSITION, Cell, angular_distance, bounding_circle
from vo_crawl.plan import StoredCell, plan, units_from_counts, units_from_queries
from vo_crawl.store import refresh_time

NOW = datetime(2026, 6, 1, tzinfo=UTC)
RNG = np.random.default_rng(11)
RA = RNG.uniform(0, 360, 60000)
DEC = np.degrees(np.arcsin(RNG.uniform(-1, 1, 60000)))
H29 = order29(RA, DEC)


@pytest.mark.parametrize("order", [0, 2, 5, 9])
def test_a_cells_query_circle_holds_every_position_of_the_cell(order: int) -> None:
    cells = H29 >> (2 * (29 - order))
    for index in np.unique(cells)[:200]:
        ra, dec, radius = bounding_circle(Cell(order, int(index)))
        inside = cells == index
        assert np.all(angular_distance(ra, dec, RA[inside], DEC[inside]) < radius)


def test_cells_nest_as_ranges_of_order_29_indexes() -> None:
    cell = Cell(3, 100)
    low, high = cell.span
    assert (high - low) == 4 ** (29 - 3)
    assert [c.span for c in cell.children()] == [
        (low + i * (high - low) // 4, low + (i + 1) * (high - low) // 4) for i in range(4)
    ]
    child = cell.children()[2].children()[1]
    assert cell.contains(child) and child.ancestor(3) == cell and not child.contains(cell)
    assert cell.overlaps(child) and child.overlaps(cell) and not cell.overlaps(Cell(3, 101))
    assert not NO_POSITION.overlaps(cell) and NO_POSITION.contains(NO_POSITION)
    assert int(H29[0]) >> (2 * (29 - 3)) == next(c.index for c in _cells_at(3) if c.span[0] <= H29[0] < c.span[1])


def _cells_at(order: int) -> list[Cell]:
    return [Cell(order, i) for i in range(12 * 4**order)]


def test_the_census_becomes_the_coarsest_cells_that_fit_a_request() -> None:
    counts: dict[int, int] = {}
    for h in (H29 >> (2 * (29 - 6))).tolist():
        counts[h] = counts.get(h, 0) + 1
    units = units_from_counts(counts, 6, 2000)
    assert sum(units.values()) == len(H29)
    assert all(n <= 2000 for c, n in units.items() if c.order < 6)
    covered = sorted(c.span for c in units)
    assert all(a[1] <= b[0] for a, b in zip(covered, covered[1:], strict=False)), "units overlap"
    assert {c.order for c in units} == {1}  # 60,000 rows: 5,000 in an order-0 cell, 1,250 in an order-1
    dense = units_from_counts({0: 5000, 1: 10}, 6, 100)
    assert dense == {Cell(6, 0): 5000, Cell(6, 1): 10}  # a full cell of the census order stays a unit


def test_counting_cell_by_cell_splits_only_full_cells() -> None:
    asked: list[Cell] = []

    def count(cell: Cell) -> int:
        asked.append(cell)
        ra, dec, radius = bounding_circle(cell)
        return int(np.count_nonzero(angular_distance(ra, dec, RA[:3000], DEC[:3000]) < radius))

    units = units_from_queries(count, 400, 12)
    assert asked[:12] == list(BASE_CELLS)
    assert all(n <= 400 for n in units.values())
    assert all(any(u.contains(Cell(29, int(h))) for u in units) for h in H29[:3000])
    assert len(asked) < 12 + 4 * len(units)


def _stored(units: dict[Cell, int], **changes: object) -> list[StoredCell]:
    return [StoredCell(c, n, "done", NOW + timedelta(days=10)) for c, n in units.items()]


def test_an_unchanged_census_plans_nothing_and_a_changed_count_only_its_cell() -> None:
    units: dict[Cell, int | None] = {Cell(1, 4): 10, Cell(1, 5): 20, Cell(2, 40): 5, NO_POSITION: 3}
    stored = _stored(units)
    same = plan(units, stored, NOW)
    assert same.fetch == [] and same.gone == [] and same.unchanged == 4
    changed = plan({**units, Cell(1, 5): 21}, stored, NOW)
    assert changed.fetch == [(Cell(1, 5), 21)] and changed.gone == []
    due = plan(units, stored, NOW + timedelta(days=11))
    assert len(due.fetch) == 4, "every cell is refetched once its refresh is due"
    failed = [s if s.cell != Cell(2, 40) else StoredCell(s.cell, s.census, "error", None) for s in stored]
    assert plan(units, failed, NOW).fetch == [(Cell(2, 40), 5)]


def test_a_new_partition_fetches_the_new_cells_and_forgets_the_old_ones() -> None:
    stored = _stored({Cell(1, 4): 10, Cell(1, 5): 3000, NO_POSITION: 2})
    units: dict[Cell, int | None] = {Cell(1, 4): 10, **{c: 750 for c in Cell(1, 5).children()}}
    work = plan(units, stored, NOW)
    assert [c for c, _ in work.fetch] == list(Cell(1, 5).children())
    assert work.gone == [NO_POSITION, Cell(1, 5)]  # the rows without a position are gone at the source
    merged = plan({Cell(0, 1): 40}, _stored({c: 10 for c in Cell(0, 1).children()}), NOW)
    assert merged.fetch == [(Cell(0, 1), 40)] and len(merged.gone) == 4


def test_refreshes_are_spread_over_the_last_quarter_of_the_period() -> None:
    times = {refresh_time(NOW, 30, Cell(3, i), "ivo://x/tap") for i in range(200)}
    assert all(NOW + timedelta(days=22.5) <= t <= NOW + timedelta(days=30) for t in times)
    assert len(times) > 150
    assert refresh_time(NOW, 30, Cell(3, 7), "ivo://x/tap") == refresh_time(NOW, 30, Cell(3, 7), "ivo://x/tap")
