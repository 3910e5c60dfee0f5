"""Tile numbering and layout as HiPS 1.0 sec. 4.1 gives them, checked against what Aladin's
Hipsgen writes and against HEALPix itself (cdshealpix)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.wcs import WCS

from hips_build.geometry import (
    cell_size_deg,
    footprint_tiles,
    order_for_pixel_scale,
    parents,
    shift_order,
    tile_cell_centres,
    tile_layout,
    tile_path,
    tile_wcs_header,
)


def test_a_tile_lives_where_the_rec_says() -> None:
    assert tile_path(Path("s"), 6, 10302, "fits") == Path("s/Norder6/Dir10000/Npix10302.fits")
    assert tile_path(Path("s"), 3, 276, "png") == Path("s/Norder3/Dir0/Npix276.png")


def test_the_deepest_order_matches_the_pixel_scale() -> None:
    # REC table: order 6 of 512-pixel tiles has 6.442 arcsec cells, order 7 3.221 arcsec.
    assert cell_size_deg(6 + 9) * 3600 == pytest.approx(6.442, abs=1e-3)
    assert order_for_pixel_scale(6 / 3600, 512) == 6
    assert order_for_pixel_scale(3.3 / 3600, 512) == 7
    assert order_for_pixel_scale(6 / 3600, 64) == 9
    assert order_for_pixel_scale(1.0, 512) == 0


def test_a_tile_width_must_be_a_power_of_two() -> None:
    assert shift_order(512) == 9
    with pytest.raises(ValueError, match="power of two"):
        shift_order(500)


def test_a_tiles_cells_are_its_nested_children_in_z_order() -> None:
    layout = tile_layout(4)
    assert sorted(layout.ravel()) == list(range(16))
    # children 4N+k of a tile fill its quadrants as Hipsgen and reproject place them
    halves = {
        k: set(np.unique(layout[r * 2 : r * 2 + 2, c * 2 : c * 2 + 2] // 4))
        for k, (r, c) in {0: (1, 0), 1: (0, 0), 2: (1, 1), 3: (0, 1)}.items()
    }
    assert halves == {0: {0}, 1: {1}, 2: {2}, 3: {3}}


def test_the_tile_wcs_is_hipsgens_and_puts_each_pixel_on_its_cell() -> None:
    header = tile_wcs_header(3, 276, 512)
    # Aladin/Hipsgen v12.001 writes exactly these for tile 3/276 of a 512-pixel survey
    assert (header["CRPIX1"], header["CRPIX2"]) == (2048.5, 1536.5)
    assert header["CD1_1"] == pytest.approx(-1.0986328125e-02) and header["CD2_1"] == pytest.approx(1.0986328125e-02)
    assert (header["CTYPE1"], header["CTYPE2"], header["ORDER"], header["NPIX"]) == ("RA---HPX", "DEC--HPX", 3, 276)
    for order, tile, width in ((3, 276, 512), (6, 17690, 512), (9, 1132165, 64), (0, 4, 64), (1, 40, 64)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wcs = WCS(tile_wcs_header(order, tile, width))
        ra, dec = tile_cell_centres(order, tile, width)
        rows, cols = np.mgrid[0:width, 0:width]
        wra, wdec = wcs.wcs_pix2world(cols, rows, 0)
        error = np.hypot(((wra - ra + 180) % 360 - 180) * np.cos(np.radians(dec)), wdec - dec)
        assert np.nanmax(error) < 1e-8, (order, tile)


def test_a_footprint_finds_the_tiles_hipsgen_writes() -> None:
    # The sample's V stacks cover RA 34.0-35.0, Dec -5.5 to -4.5; Hipsgen writes these order-6 tiles.
    field = [(33.9, -5.6), (35.1, -5.6), (35.1, -4.4), (33.9, -4.4)]
    assert {17677, 17679, 17688, 17690, 17691, 17712} <= set(footprint_tiles(field, 6).tolist())
    assert parents([17677, 17679, 17688]) == {4419, 4422}
