"""``preview.jpg`` (HiPS 1.0 sec. 4.4.4): a 256 x 256 JPEG of the survey as a viewer first shows
it, the survey's display tiles (PNG) seen at ``hips_initial_ra``/``dec``/``fov`` in Aladin's
default projection (SIN, north up, east left), black where there are no data.
"""

from __future__ import annotations

import math
from pathlib import Path

import astropy.units as u
import cdshealpix.nested as healpix
import numpy as np
from astropy.wcs import WCS
from PIL import Image

from hips_build.geometry import cell_size_deg, shift_order, tile_path, tile_positions
from hips_build.tile_files import JPEG_QUALITY, write_atomically

PREVIEW_PIXELS = 256  # the size HiPS 1.0 gives


def preview_order(fov: float, deepest: int, tile_width: int) -> int:
    """The lowest tile order whose cells are no larger than a preview pixel (the deepest when
    none is): the tiles a viewer would load for that view."""
    pixel = fov / PREVIEW_PIXELS
    shift = shift_order(tile_width)
    for order in range(deepest + 1):
        if cell_size_deg(order + shift) <= pixel:
            return order
    return deepest


def _view_wcs(ra: float, dec: float, fov: float) -> WCS:
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---SIN", "DEC--SIN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [(PREVIEW_PIXELS + 1) / 2, (PREVIEW_PIXELS + 1) / 2]
    # SIN's plane spans +-1 radian: a view wider than the hemisphere shows the hemisphere.
    scale = min(fov, 2 * math.degrees(1.0)) / PREVIEW_PIXELS
    wcs.wcs.cdelt = [-scale, scale]
    return wcs


def render_preview(root: Path, deepest: int, tile_width: int, view: tuple[float, float, float]) -> np.ndarray:
    """The preview's pixels: ``(256, 256, 3)`` bytes, the top row first."""
    ra, dec, fov = view
    order = preview_order(fov, deepest, tile_width)
    shift = shift_order(tile_width)
    y, x = np.mgrid[0:PREVIEW_PIXELS, 0:PREVIEW_PIXELS]
    lon, lat = _view_wcs(ra, dec, fov).pixel_to_world_values(x.ravel(), y.ravel())
    on_sky = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    cells = healpix.lonlat_to_healpix(
        (lon[on_sky] % 360.0) * u.deg, np.clip(lat[on_sky], -90.0, 90.0) * u.deg, order + shift
    ).astype(np.int64)
    tiles = cells >> (2 * shift)
    rows, cols = np.divmod(tile_positions(tile_width)[cells & (tile_width * tile_width - 1)], tile_width)
    png_rows = tile_width - 1 - rows  # PNG rows run top down, FITS rows bottom up
    pixels = np.zeros((PREVIEW_PIXELS * PREVIEW_PIXELS, 3))
    for tile in np.unique(tiles):
        path = tile_path(root, order, int(tile), "png")
        if not path.is_file():
            continue
        with Image.open(path) as image:
            rgba = np.asarray(image.convert("RGBA"), dtype=float)
        mine = tiles == tile
        seen = rgba[png_rows[mine], cols[mine]]
        pixels[on_sky[mine]] = seen[:, :3] * seen[:, 3:] / 255.0  # transparent is the black sky
    # Pixel row 0 of the WCS is the bottom of the view.
    return np.rint(pixels).astype(np.uint8).reshape(PREVIEW_PIXELS, PREVIEW_PIXELS, 3)[::-1]


def write_preview(root: Path, deepest: int, tile_width: int, view: tuple[float, float, float]) -> None:
    image = Image.fromarray(np.ascontiguousarray(render_preview(root, deepest, tile_width, view)), mode="RGB")
    write_atomically(root / "preview.jpg", lambda tmp: image.save(tmp, format="JPEG", quality=JPEG_QUALITY))
