"""The pixels of one tile. At the deepest order each cell takes the mean of the bilinear samples
of every image that covers its centre (so overlapping images are averaged, not overwritten in
whatever order they came); each cell of a lower order is the mean of the four cells below it
that have data (HiPS 1.0 sec. 4.1.2's best practice). NaN marks a cell with no data.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.ndimage import map_coordinates

from hips_build.geometry import tile_cell_centres
from hips_build.images import Pixels, read_pixels, unit_vectors

# Images kept in memory by one worker: tiles next to each other need the same images.
_CACHE_BYTES = 512 << 20
_cache: OrderedDict[tuple[Path, int, int], Pixels] = OrderedDict()


def _pixels(path: Path) -> Pixels:
    stat = path.stat()
    key = (path, stat.st_size, stat.st_mtime_ns)  # a file replaced since it was read is read again
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit
    pixels = read_pixels(path)
    _cache[key] = pixels
    while len(_cache) > 1 and sum(p.data.nbytes for p in _cache.values()) > _CACHE_BYTES:
        _cache.popitem(last=False)
    return pixels


def forget_images() -> None:
    _cache.clear()


def deepest_tile(order: int, tile: int, tile_width: int, images: Sequence[Path]) -> np.ndarray:
    """The tile's cell values (float64, ``(width, width)`` as stored, NaN without data)."""
    ra, dec = tile_cell_centres(order, tile, tile_width)
    ra, dec = ra.ravel(), dec.ravel()
    cells = unit_vectors(ra, dec)
    total = np.zeros(ra.size)
    count = np.zeros(ra.size, dtype=np.int32)
    for path in images:
        image = _pixels(path)
        # Written out rather than ``cells @ centre``: a BLAS call here would start threads in
        # every worker process, and the workers already use every core.
        c = image.centre
        near = np.flatnonzero(cells[:, 0] * c[0] + cells[:, 1] * c[1] + cells[:, 2] * c[2] >= image.cos_radius)
        if near.size == 0:
            continue
        x, y = image.wcs.world_to_pixel_values(ra[near], dec[near])
        ny, nx = image.data.shape
        inside = (x >= -0.5) & (x <= nx - 0.5) & (y >= -0.5) & (y <= ny - 0.5)
        if not inside.any():
            continue
        near, x, y = near[inside], x[inside], y[inside]
        # Bilinear between pixel centres; the outer half pixel takes the edge pixel's value.
        values = map_coordinates(image.data, [y, x], order=1, mode="nearest", prefilter=False)
        good = np.isfinite(values)
        total[near[good]] += values[good]  # each cell once per image: the indices are unique
        count[near[good]] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return mean.reshape(tile_width, tile_width)


def halve(child: np.ndarray) -> np.ndarray:
    """A child tile at half resolution: each 2x2 block's mean of its cells with data."""
    w = child.shape[0] // 2
    blocks = child.reshape(w, 2, w, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN block is NaN, as it should be
        means: np.ndarray = np.nanmean(blocks, axis=(1, 3))
    return means


# Where child k (nested index 4N + k) goes in its parent, as (row slice, column slice) of halves:
# bit 0 of k is the child's x (geometry.tile_layout: x grows towards row 0), bit 1 its y (columns).
_QUADRANTS = {0: (1, 0), 1: (0, 0), 2: (1, 1), 3: (0, 1)}


def parent_tile(children: Sequence[np.ndarray | None], tile_width: int) -> np.ndarray:
    """The parent of four child tiles (``children[k]`` is child ``4N + k``, None when absent)."""
    parent = np.full((tile_width, tile_width), np.nan)
    half = tile_width // 2
    for k, child in enumerate(children):
        if child is None:
            continue
        row, col = _QUADRANTS[k]
        parent[row * half : (row + 1) * half, col * half : (col + 1) * half] = halve(child)
    return parent
