"""HEALPix tiles as HiPS 1.0 lays them out (sec. 4.1): NESTED numbering, a tile of order K and
index N holding the ``width x width`` cells of order ``K + log2(width)`` whose indices start at
``N * width**2``, stored as ``NorderK/DirD/NpixN.ext`` with ``D = N // 10000 * 10000``.

Inside a tile, cell ``N * width**2 + i`` sits where the bits of ``i`` put it: HEALPix's nested
index interleaves the cell's ``x`` (even bits) and ``y`` (odd bits) within its base cell, and a
FITS tile stores ``x`` running down the rows (from the last row) and ``y`` along them. That is
the layout Aladin's Hipsgen writes and reproject's HPX tile WCS describes
(``tests/hips/test_geometry.py`` checks both).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import astropy.units as u
import cdshealpix.nested as healpix
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

# Degrees across one cell of HEALPix order k: sqrt(4 pi / (12 * 4**k)) radians.
_SQRT_PI_OVER_3_DEG = math.degrees(math.sqrt(math.pi / 3))
MAX_CELL_ORDER = 29  # cdshealpix works to depth 29

Footprint = Sequence[tuple[float, float]]  # (ra, dec) vertices in degrees


def shift_order(tile_width: int) -> int:
    """log2 of a tile width; HiPS tiles are square with a power-of-two side."""
    shift = tile_width.bit_length() - 1
    if tile_width < 2 or 1 << shift != tile_width:
        raise ValueError(f"a HiPS tile width must be a power of two of at least 2, not {tile_width}")
    return shift


def cell_size_deg(cell_order: int) -> float:
    """The mean angular size of a HEALPix cell of ``cell_order``, in degrees."""
    return _SQRT_PI_OVER_3_DEG / (1 << cell_order)


def order_for_pixel_scale(pixel_scale_deg: float, tile_width: int) -> int:
    """The tile order whose cells are nearest in size to ``pixel_scale_deg`` (in log2), at
    least 0: 6.4 arcsec cells (order 6 of 512-pixel tiles) for 6 arcsec pixels."""
    exact = math.log2(_SQRT_PI_OVER_3_DEG / (tile_width * pixel_scale_deg))
    order = max(0, round(exact))
    return min(order, MAX_CELL_ORDER - shift_order(tile_width))


def tile_path(root: Path, order: int, tile: int, extension: str) -> Path:
    return root / f"Norder{order}" / f"Dir{tile // 10000 * 10000}" / f"Npix{tile}.{extension}"


@cache
def tile_layout(tile_width: int) -> np.ndarray:
    """``layout[row, col]``: the nested index, within the tile, of the cell a FITS tile stores at
    that row and column (0-based, numpy order)."""
    shift = shift_order(tile_width)
    rows, cols = np.mgrid[0:tile_width, 0:tile_width].astype(np.int64)
    x = tile_width - 1 - rows
    y = cols
    index: np.ndarray = np.zeros_like(x)
    for bit in range(shift):
        index |= ((x >> bit) & 1) << (2 * bit)
        index |= ((y >> bit) & 1) << (2 * bit + 1)
    index.flags.writeable = False
    return index


@cache
def tile_positions(tile_width: int) -> np.ndarray:
    """The inverse of ``tile_layout``: ``positions[i]`` is where (``row * width + col`` of a FITS
    tile) the cell of nested index ``i`` within the tile is stored."""
    positions = np.empty(tile_width * tile_width, dtype=np.int64)
    positions[tile_layout(tile_width).ravel()] = np.arange(tile_width * tile_width)
    positions.flags.writeable = False
    return positions


def tile_cells(order: int, tile: int, tile_width: int) -> np.ndarray:
    """The nested indices (order ``order + log2(width)``) of a tile's cells, as the tile stores them."""
    return (np.int64(tile) << (2 * shift_order(tile_width))) + tile_layout(tile_width)


def tile_cell_centres(order: int, tile: int, tile_width: int, threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(ra, dec) in degrees of the centres of a tile's cells, each ``(width, width)`` as stored."""
    cells = tile_cells(order, tile, tile_width)
    lon, lat = healpix.healpix_to_lonlat(cells.ravel(), order + shift_order(tile_width), num_threads=threads)
    shape = cells.shape
    return lon.to_value(u.deg).reshape(shape), lat.to_value(u.deg).reshape(shape)


def footprint_tiles(footprint: Footprint, order: int) -> np.ndarray:
    """The tiles of ``order`` that overlap a footprint polygon (sorted, unique)."""
    vertices = np.asarray(footprint, dtype=float)
    ipix, depth, _ = healpix.polygon_search((vertices[:, 0] % 360.0) * u.deg, vertices[:, 1] * u.deg, order, flat=True)
    return np.unique(np.asarray(ipix, dtype=np.int64))


def parents(tiles: Iterable[int]) -> set[int]:
    return {int(t) >> 2 for t in tiles}


def tile_wcs_header(order: int, tile: int, tile_width: int) -> fits.Header:
    """The HPX-projection WCS of a tile (HiPS 1.0 sec. 4.3.1's "WCS solution for FITS tiles"), so
    that any FITS viewer places it on the sky. Tiles that straddle a seam of the HPX projection
    (around the poles) get the WCS of their centre's side."""
    resolution = 45.0 / tile_width / (1 << order)
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---HPX", "DEC--HPX"]
    wcs.wcs.crval = [0.0, 0.0]
    wcs.wcs.cd = [[-resolution, -resolution], [resolution, -resolution]]
    wcs.wcs.set_pv([(2, 1, 4), (2, 2, 3)])
    wcs.wcs.crpix = [0.0, 0.0]
    middle = tile_width // 2
    cell = tile_cells(order, tile, tile_width)[middle, middle]
    lon, lat = healpix.healpix_to_lonlat(np.array([cell]), order + shift_order(tile_width))
    px, py = wcs.wcs_world2pix(lon.to_value(u.deg), lat.to_value(u.deg), 0)
    # Cell centres sit on half-integer offsets of the projection's grid: round away the error.
    wcs.wcs.crpix = [round(2 * (middle - float(px[0]))) / 2, round(2 * (middle - float(py[0]))) / 2]
    header = wcs.to_header()
    for key in ("LATPOLE", "LONPOLE", "MJDREF", "WCSAXES", "CDELT1", "CDELT2", "PC1_1", "PC1_2", "PC2_1", "PC2_2"):
        header.remove(key, ignore_missing=True)
    # The CD matrix, as the REC's example and Hipsgen write it (astropy would write PC + CDELT).
    for (i, j), value in np.ndenumerate(wcs.wcs.cd):
        header[f"CD{i + 1}_{j + 1}"] = value
    header["ORDER"] = (order, "HiPS tile order")
    header["NPIX"] = (tile, "HiPS tile index (HEALPix NESTED)")
    return header
