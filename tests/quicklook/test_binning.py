"""Block means and the binned grid's WCS, checked against astropy on the original image: a binned
pixel shows the same sky as the original pixels it averages (TAN, SIP, PC + CDELT)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from dalserver.quicklook.binning import Box, binned_header, block_means, overview_step

TAN = {"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 34.5, "CRVAL2": -5.0, "CRPIX1": 500.5, "CRPIX2": 300.25}
SIP = {
    **TAN,
    "CTYPE1": "RA---TAN-SIP",
    "CTYPE2": "DEC--TAN-SIP",
    "A_ORDER": 3,
    "B_ORDER": 3,
    "A_2_0": 2e-6,
    "A_1_1": -1e-6,
    "A_3_0": 4e-9,
    "B_0_2": 3e-6,
    "B_1_2": -2e-9,
}


def header(cards: dict[str, object], linear: dict[str, float]) -> fits.Header:
    h = fits.Header()
    for key, value in {**cards, **linear}.items():
        h[key] = value
    return h


CD = {"CD1_1": -5e-5, "CD1_2": 1e-6, "CD2_1": 2e-6, "CD2_2": 5e-5}
PC = {"PC1_1": 0.9, "PC1_2": 0.1, "PC2_1": -0.1, "PC2_2": 0.9, "CDELT1": -5e-5, "CDELT2": 5e-5}


@pytest.mark.parametrize(("cards", "linear"), [(TAN, CD), (SIP, CD), (TAN, PC), (SIP, PC)])
@pytest.mark.parametrize("box", [Box(0, 999, 0, 799, 1), Box(0, 999, 0, 799, 4), Box(37, 990, 101, 700, 8)])
def test_a_binned_pixel_shows_the_sky_of_the_pixels_it_averages(
    cards: dict[str, object], linear: dict[str, float], box: Box
) -> None:
    original = header(cards, linear)
    binned = binned_header(original, box, 1000, 800)
    before, after = WCS(original), WCS(binned)
    for q in [(0.0, 0.0), (10.5, 20.25), (box.shape[1] - 1.0, box.shape[0] - 1.0)]:
        p = (box.x0 + box.step * q[0] + (box.step - 1) / 2, box.y0 + box.step * q[1] + (box.step - 1) / 2)
        assert np.allclose(after.pixel_to_world_values(*q), before.pixel_to_world_values(*p), rtol=0, atol=1e-9)
    assert (binned["QLBIN"], binned["QLX0"], binned["QLY0"], binned["QLNX"], binned["QLNY"]) == (
        box.step,
        box.x0,
        box.y0,
        1000,
        800,
    )


def test_block_means_leave_out_bad_pixels_and_keep_partial_blocks() -> None:
    data = np.arange(7 * 5, dtype=np.float32).reshape(7, 5)
    data[0, 0] = np.nan
    data[0, 1] = np.inf
    means = block_means(data, Box(0, 4, 0, 6, 2))
    assert means.shape == (4, 3) and means.dtype == np.float32
    assert means[0, 0] == pytest.approx((data[1, 0] + data[1, 1]) / 2)  # NaN and inf left out
    assert means[0, 2] == pytest.approx((data[0, 4] + data[1, 4]) / 2)  # a partial block at the edge
    assert means[3, 2] == data[6, 4]
    blank = np.full((4, 4), np.nan, dtype=np.float32)
    assert np.isnan(block_means(blank, Box(0, 3, 0, 3, 2))).all()


def test_block_means_of_tall_images_are_made_in_strips_with_the_same_answer() -> None:
    data = np.random.default_rng(1).normal(size=(2100, 30)).astype(np.float32)
    means = block_means(data, Box(3, 29, 5, 2099, 3))
    expected = data[5:2099, 3:30].reshape(698, 3, 9, 3).mean(axis=(1, 3))
    assert np.allclose(means[:698], expected, atol=1e-5)


@pytest.mark.parametrize(
    ("nx", "ny", "step"), [(110, 110, 1), (1024, 10, 1), (1025, 10, 2), (4096, 4096, 4), (9000, 100, 16)]
)
def test_the_overview_is_the_smallest_power_of_two_that_fits(nx: int, ny: int, step: int) -> None:
    assert overview_step(nx, ny, 1024) == step
