"""Tiles as files: FITS tiles with the science values (BITPIX of the data, BLANK or NaN where
there are none, the tile's HPX WCS), PNG tiles for display (grey, linear between the stated
pixel cut, transparent without data), colour tiles in PNG and JPEG, and the Allsky files
(HiPS 1.0 sec. 4.3.3): a tile order's tiles side by side, 27 to a row at order 3, each reduced
to at most 64 pixels, in reading order from the top left.

PNG and JPEG rows run top to bottom, FITS rows bottom to top (sec. 4.1.3): a PNG tile is its
FITS tile flipped vertically, and so is an Allsky.fits of its Allsky.png.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from astropy.io import fits
from PIL import Image

from hips_build.geometry import tile_wcs_header

ALLSKY_TILE_PIXELS = 64
JPEG_QUALITY = 92


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file and rename it into place: a reader never sees half a tile,
    and a tile shared by hard link with the previous build is replaced, not rewritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def storage_dtype(dtypes: Sequence[str]) -> np.dtype:
    """The type tiles are stored in, from the images' types: the images' own when they agree (an
    integer type keeps its BITPIX, unsigned ones move to the signed type that holds them, since
    FITS has no unsigned BITPIX beyond 8 bits), else the smallest float holding them all."""
    kinds = [np.dtype(d) for d in dtypes] or [np.dtype(np.float32)]
    common = np.result_type(*kinds)
    if common.kind == "b":
        return np.dtype(np.uint8)
    if common.kind == "u" and common.itemsize > 1:
        return np.dtype({2: np.int32, 4: np.int64}.get(common.itemsize, np.float64))
    if common.kind in "iu":
        return common.newbyteorder("=")
    return np.dtype(np.float64 if common.itemsize > 4 else np.float32)


def blank_value(dtype: np.dtype) -> int | None:
    """The BLANK of an integer tile: a value no mean of the data can take (0 for 8-bit tiles,
    whose values are 0-255: the lowest is given up for it, as Hipsgen does)."""
    if dtype.kind not in "iu":
        return None
    return 0 if dtype.itemsize == 1 else int(np.iinfo(dtype).min)


def to_storage(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if dtype.kind == "f":
        floats: np.ndarray = values.astype(dtype)
        return floats
    info = np.iinfo(dtype)
    blank = blank_value(dtype)
    low = info.min + 1 if dtype.itemsize > 1 else 1
    stored: np.ndarray = np.clip(np.rint(np.nan_to_num(values, nan=0.0)), low, info.max).astype(dtype)
    stored[~np.isfinite(values)] = blank
    return stored


def write_fits_tile(
    path: Path, values: np.ndarray, dtype: np.dtype, order: int, tile: int, extra: fits.Header | None = None
) -> None:
    header = tile_wcs_header(order, tile, values.shape[0])
    blank = blank_value(dtype)
    if blank is not None:
        header["BLANK"] = (blank, "cells with no data")
    if extra is not None:
        header.extend(extra, unique=True)
    hdu = fits.PrimaryHDU(to_storage(values, dtype), header=header)
    write_atomically(path, lambda tmp: hdu.writeto(tmp, output_verify="exception"))


def read_fits_tile(path: Path) -> np.ndarray | None:
    """A FITS tile's values as floats with NaN where blank; None when the tile does not exist."""
    try:
        with fits.open(path, memmap=False) as hdul:
            hdu = hdul[0]
            data = hdu.data
            blank = hdu.header.get("BLANK")
    except FileNotFoundError:
        return None
    values = np.asarray(data, dtype=np.float64)
    if blank is not None and np.issubdtype(data.dtype, np.integer):
        values[data == blank] = np.nan
    return values


def display_levels(values: np.ndarray, cut: tuple[float, float]) -> np.ndarray:
    """Values scaled linearly from ``cut`` to 0-1, clipped; NaN stays NaN."""
    low, high = cut
    span = high - low if high > low else 1.0
    with np.errstate(invalid="ignore"):
        levels: np.ndarray = np.clip((values - low) / span, 0.0, 1.0)
    return levels


def _to_bytes(levels: np.ndarray) -> np.ndarray:
    scaled: np.ndarray = np.rint(np.nan_to_num(levels, nan=0.0) * 255).astype(np.uint8)
    return scaled


def write_png_tile(path: Path, values: np.ndarray, cut: tuple[float, float]) -> None:
    """A grey PNG with an alpha channel: opaque where there are data."""
    grey = _to_bytes(display_levels(values, cut))[::-1]
    alpha = np.where(np.isfinite(values), 255, 0).astype(np.uint8)[::-1]
    image = Image.fromarray(np.stack([grey, alpha], axis=-1), mode="LA")
    write_atomically(path, lambda tmp: image.save(tmp, format="PNG", optimize=False, compress_level=6))


def colour_levels(
    bands: Sequence[np.ndarray | None], cuts: Sequence[tuple[float, float]], shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """RGB levels (``shape + (3,)``, 0-1, rows as the bands have them) and the mask of cells with
    any data, from the red, green and blue bands' values; a band missing somewhere is black there."""
    rgb = np.zeros((*shape, 3))
    covered = np.zeros(shape, dtype=bool)
    for channel, (values, cut) in enumerate(zip(bands, cuts, strict=True)):
        if values is None:
            continue
        finite = np.isfinite(values)
        covered |= finite
        rgb[..., channel] = np.where(finite, display_levels(values, cut), 0.0)
    return rgb, covered


def write_colour_tiles(png: Path, jpeg: Path, rgb: np.ndarray, covered: np.ndarray) -> None:
    """A colour tile as PNG (transparent without data) and JPEG (black there)."""
    pixels = _to_bytes(rgb)[::-1]
    alpha = np.where(covered, 255, 0).astype(np.uint8)[::-1]
    rgba = Image.fromarray(np.dstack([pixels, alpha]), mode="RGBA")
    write_atomically(png, lambda tmp: rgba.save(tmp, format="PNG", compress_level=6))
    opaque = Image.fromarray(np.ascontiguousarray(pixels), mode="RGB")
    write_atomically(jpeg, lambda tmp: opaque.save(tmp, format="JPEG", quality=JPEG_QUALITY))


def allsky_geometry(order: int, tile_width: int) -> tuple[int, int, int]:
    """(tiles per row, rows, pixels per tile) of an order's Allsky mosaic."""
    count = 12 * 4**order
    per_row = int(math.isqrt(count))
    rows = -(-count // per_row)
    return per_row, rows, min(ALLSKY_TILE_PIXELS, tile_width)


def reduce_to(values: np.ndarray, pixels: int) -> np.ndarray:
    """A tile reduced to ``pixels`` a side by block means of its cells with data."""
    factor = values.shape[0] // pixels
    if factor <= 1:
        return values
    blocks = values.reshape(pixels, factor, pixels, factor, *values.shape[2:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN block is NaN, as it should be
        means: np.ndarray = np.nanmean(blocks, axis=(1, 3))
    return means


def allsky_mosaic(tiles: dict[int, np.ndarray], order: int, tile_width: int) -> np.ndarray:
    """The Allsky mosaic in reading order (top-down rows, as PNG stores them), NaN without data;
    each tile's block is the tile as seen (its FITS rows flipped)."""
    per_row, rows, pixels = allsky_geometry(order, tile_width)
    trailing = next(iter(tiles.values())).shape[2:] if tiles else ()
    mosaic = np.full((rows * pixels, per_row * pixels, *trailing), np.nan)
    for tile, values in tiles.items():
        top, left = (tile // per_row) * pixels, (tile % per_row) * pixels
        mosaic[top : top + pixels, left : left + pixels] = reduce_to(values, pixels)[::-1]
    return mosaic


def write_allsky_fits(path: Path, mosaic: np.ndarray, dtype: np.dtype) -> None:
    header = fits.Header()
    blank = blank_value(dtype)
    if blank is not None:
        header["BLANK"] = (blank, "cells with no data")
    hdu = fits.PrimaryHDU(to_storage(mosaic[::-1], dtype), header=header)
    write_atomically(path, lambda tmp: hdu.writeto(tmp, output_verify="exception"))


def write_allsky_png(path: Path, mosaic: np.ndarray, cut: tuple[float, float]) -> None:
    # write_png_tile flips FITS rows; the mosaic is already top-down.
    write_png_tile(path, mosaic[::-1], cut)


def write_allsky_colour(png: Path, jpeg: Path, rgb: np.ndarray, covered: np.ndarray) -> None:
    write_colour_tiles(png, jpeg, rgb[::-1], covered[::-1])
