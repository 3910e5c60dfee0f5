"""/quicklook/pixels on the session's archive: the overview of a sample image is its pixels, a
binned box is the mean of the original's pixels with the WCS of its grid, and bad requests get
DataLink-style error documents."""

from __future__ import annotations

import io

import httpx
import numpy as np
import psycopg
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from archive_io.product_urls import archive_path
from tests.support.archive import Archive


@pytest.fixture(scope="module")
def image(archive: Archive) -> tuple[str, np.ndarray, fits.Header]:
    with psycopg.connect(archive.url) as conn:
        row = conn.execute("SELECT obs_publisher_did, access_url FROM ivoa.obscore ORDER BY obs_id LIMIT 1").fetchone()
    assert row is not None
    path = archive.settings.archive_root / str(archive_path(row[1]))
    with fits.open(path) as hdul:
        return row[0], hdul[0].data.copy(), hdul[0].header.copy()


def test_the_overview_of_a_small_image_is_its_own_pixels(
    server: str, image: tuple[str, np.ndarray, fits.Header]
) -> None:
    did, data, header = image
    answer = httpx.get(f"{server}/quicklook/pixels", params={"ID": did}, timeout=60)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/fits"
    with fits.open(io.BytesIO(answer.content)) as hdul:
        assert hdul[0].header["QLBIN"] == 1 and hdul[0].header["QLNX"] == data.shape[1]
        assert np.array_equal(hdul[0].data, data.astype(np.float32))
        assert np.allclose(WCS(hdul[0].header).pixel_to_world_values(3, 7), WCS(header).pixel_to_world_values(3, 7))


def test_a_binned_box_is_the_mean_of_the_original_pixels(
    server: str, image: tuple[str, np.ndarray, fits.Header]
) -> None:
    did, data, header = image
    params = {"ID": did, "BIN": "3", "X0": "10", "X1": "39", "Y0": "20", "Y1": "49"}
    answer = httpx.get(f"{server}/quicklook/pixels", params=params, timeout=60)
    with fits.open(io.BytesIO(answer.content)) as hdul:
        binned = hdul[0].data
        assert binned.shape == (10, 10)
        expected = data[20:50, 10:40].astype(np.float64).reshape(10, 3, 10, 3).mean(axis=(1, 3))
        assert np.allclose(binned, expected, rtol=1e-6)
        sky = WCS(hdul[0].header).pixel_to_world_values(2, 5)
        assert np.allclose(sky, WCS(header).pixel_to_world_values(10 + 3 * 2 + 1, 20 + 3 * 5 + 1), atol=1e-10)


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({}, 400, "UsageFault: missing required parameter ID"),
        ({"ID": "ivo://nowhere/x"}, 404, "NotFoundFault: ivo://nowhere/x is not an image of this archive"),
        ({"BIN": "two"}, 400, "UsageFault: BIN must be a whole number of pixels, not 'two'"),
        ({"BIN": "0"}, 400, "UsageFault: BIN must be 1 or more, not 0"),
        ({"X0": "500"}, 400, "UsageFault: the box X0..X1, Y0..Y1 misses the image's 110 x 110 pixels"),
    ],
)
def test_bad_requests_are_explained(
    server: str, image: tuple[str, np.ndarray, fits.Header], params: dict[str, str], status: int, message: str
) -> None:
    query = {"ID": image[0], **params} if params.get("ID") != "ivo://nowhere/x" and params else params
    answer = httpx.get(f"{server}/quicklook/pixels", params=query, timeout=60)
    assert answer.status_code == status
    assert f'<INFO name="QUERY_STATUS" value="ERROR">{message}' in answer.text
