"""HEALPix cells as the crawler uses them: a cell of any order is a range of order-29 indexes, a
circle that surely contains it (its query shape at a remote service), and the local assignment of
positions to cells, which makes the partition exact whatever the remote's shapes return.

HEALPix cell edges are not great circles: the polygon of a cell's four vertices is not the cell
(it misses slivers along curved edges). The circle here is centred on the cell and reaches its
farthest boundary point (sampled densely along the true edges) with a margin, so every position
of the cell lies inside it; rows of neighbouring cells that come back too are assigned to their
own cell locally and dropped from this one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from archive_io.sky_cells import MAX_ORDER

EDGE_SAMPLES = 16  # boundary points per edge when looking for a cell's farthest point
MARGIN = 0.01  # relative margin on the circle's radius (the edge between samples bulges far less)


@dataclass(frozen=True, order=True)
class Cell:
    """A nested HEALPix cell; order -1 is the bucket of rows without a position."""

    order: int
    index: int

    @property
    def has_position(self) -> bool:
        return self.order >= 0

    @property
    def span(self) -> tuple[int, int]:
        """The order-29 indexes of the cell: ``[low, high)``."""
        shift = 2 * (MAX_ORDER - self.order)
        return self.index << shift, (self.index + 1) << shift

    def children(self) -> tuple[Cell, Cell, Cell, Cell]:
        order, first = self.order + 1, self.index << 2
        return Cell(order, first), Cell(order, first + 1), Cell(order, first + 2), Cell(order, first + 3)

    def parent(self) -> Cell:
        return Cell(self.order - 1, self.index >> 2)

    def contains(self, other: Cell) -> bool:
        if not (self.has_position and other.has_position) or other.order < self.order:
            return self == other
        return other.index >> (2 * (other.order - self.order)) == self.index

    def overlaps(self, other: Cell) -> bool:
        return self.contains(other) or other.contains(self)

    def ancestor(self, order: int) -> Cell:
        """The cell of ``order`` (coarser or equal) that holds this one."""
        return Cell(order, self.index >> (2 * (self.order - order)))

    def __str__(self) -> str:
        return "no position" if not self.has_position else f"{self.order}/{self.index}"


NO_POSITION = Cell(-1, 0)
BASE_CELLS = tuple(Cell(0, i) for i in range(12))


def _lonlat(ipix: np.ndarray, order: int, **kwargs: object) -> tuple[np.ndarray, np.ndarray]:
    from cdshealpix import nested

    lon, lat = nested.healpix_to_lonlat(ipix.astype(np.uint64), order, num_threads=1, **kwargs)
    return np.asarray(lon.deg, dtype=float), np.asarray(lat.deg, dtype=float)


def angular_distance(ra1: float, dec1: float, ra2: np.ndarray, dec2: np.ndarray) -> np.ndarray:
    """Great-circle distances in degrees (haversine: accurate for small angles too)."""
    p1, p2 = math.radians(dec1), np.radians(dec2)
    dp, dl = p2 - p1, np.radians(ra2 - ra1)
    h = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    degrees: np.ndarray = np.degrees(2 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))
    return degrees


@lru_cache(maxsize=65536)
def centre(cell: Cell) -> tuple[float, float]:
    ra, dec = _lonlat(np.array([cell.index]), cell.order)
    return float(ra[0]), float(dec[0])


@lru_cache(maxsize=65536)
def bounding_circle(cell: Cell) -> tuple[float, float, float]:
    """(ra, dec, radius) in degrees of a circle that contains the whole cell."""
    from cdshealpix import nested

    ra, dec = centre(cell)
    lon, lat = nested.vertices(np.array([cell.index], dtype=np.uint64), cell.order, step=EDGE_SAMPLES, num_threads=1)
    reach = float(np.max(angular_distance(ra, dec, np.asarray(lon.deg).ravel(), np.asarray(lat.deg).ravel())))
    return ra, dec, reach * (1 + MARGIN) + 1e-9


def cell_centres(order: int, indexes: list[int]) -> list[tuple[float, float]]:
    """Centres of many cells of one order, in one call (one at a time costs a millisecond each)."""
    if not indexes:
        return []
    ra, dec = _lonlat(np.asarray(indexes, dtype=np.uint64), order)
    return list(zip(ra.tolist(), dec.tolist(), strict=True))


def descendants(cell: Cell, order: int) -> Iterator[Cell]:
    """The cells of ``order`` (finer or equal) inside ``cell``."""
    shift = 2 * (order - cell.order)
    for index in range(cell.index << shift, (cell.index + 1) << shift):
        yield Cell(order, index)
