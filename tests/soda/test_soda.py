"""SODA sync cutouts: reached through pyvo's DataLink processing and with plain requests; every
cutout is checked with astropy against the original image (same sky, same pixel values)."""

from __future__ import annotations

import io
import math
import warnings

import httpx
import numpy as np
import psycopg
import pytest
import pyvo
from astropy import units as u
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

from archive_io.product_urls import public_url
from tests.support.archive import Archive

PIXEL_DEG = 0.2 / 120  # the sample stacks have 6-arcsec pixels (0.2 arcmin)


@pytest.fixture(scope="module")
def image(archive: Archive) -> tuple[str, str, float, float]:
    """(publisher DID, access URL, centre RA, centre Dec) of one sample stack."""
    with psycopg.connect(archive.url) as conn:
        row = conn.execute(
            "SELECT obs_publisher_did, access_url, s_ra, s_dec FROM ivoa.obscore ORDER BY obs_id LIMIT 1"
        ).fetchone()
    assert row is not None
    did, stored, ra, dec = row
    return did, public_url(stored, archive.settings.public_url), ra, dec  # as the session's server gives it


def hdus(content: bytes) -> fits.HDUList:
    return fits.open(io.BytesIO(content))


def wcs_of(header: fits.Header) -> WCS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        return WCS(header)


def pixel_value(hdu: fits.ImageHDU | fits.PrimaryHDU, ra: float, dec: float) -> float:
    x, y = wcs_of(hdu.header).world_to_pixel_values(ra, dec)
    # Pixel i spans [i - 0.5, i + 0.5); floor, not round(), which rounds halves to even.
    return float(hdu.data[math.floor(float(y) + 0.5), math.floor(float(x) + 0.5)])


def contains(hdu: fits.ImageHDU | fits.PrimaryHDU, ra: float, dec: float) -> bool:
    x, y = wcs_of(hdu.header).world_to_pixel_values(ra, dec)
    ny, nx = hdu.data.shape
    return bool(-0.5 <= float(x) < nx - 0.5 and -0.5 <= float(y) < ny - 0.5)


def soda(server: str, *pairs: tuple[str, str]) -> httpx.Response:
    return httpx.get(f"{server}/soda/sync", params=list(pairs), timeout=60)


def test_pyvo_datalink_processing_cuts_a_circle_containing_the_position(server: str) -> None:
    record = pyvo.dal.SIA2Service(f"{server}/sia").search(pos=(34.5, -5.0, 0.01), maxrec=1)[0]
    original = hdus(httpx.get(record.access_url, timeout=30).content)[0]
    ra, dec = record.s_ra.to_value(u.deg) + 0.02, record.s_dec.to_value(u.deg) - 0.01
    processed = record.getdatalink().get_first_proc().process(circle=(ra, dec, 0.01))
    cutout = hdus(processed.read())[0]
    assert contains(cutout, ra, dec)
    # 0.02 degrees across at 6 arcsec a pixel: 12 pixels, and a pixel of margin on each side.
    assert all(12 <= n <= 15 for n in cutout.data.shape)
    assert pixel_value(cutout, ra, dec) == pixel_value(original, ra, dec)  # same sky, same pixel
    assert cutout.header["SODAID"] == record.obs_publisher_did


def test_polygon_and_pos_shapes_cut_their_bounding_pixels(server: str, image: tuple[str, str, float, float]) -> None:
    did, url, ra, dec = image
    original = hdus(httpx.get(url, timeout=30).content)[0]
    for pairs in (
        (("POLYGON", f"{ra - 0.01} {dec - 0.01} {ra + 0.01} {dec - 0.01} {ra} {dec + 0.02}"),),
        (("POS", f"POLYGON {ra - 0.01} {dec - 0.01} {ra + 0.01} {dec - 0.01} {ra} {dec + 0.02}"),),
        (("POS", f"CIRCLE {ra} {dec} 0.015"),),
        (("POS", f"RANGE {ra - 0.01} {ra + 0.01} {dec - 0.015} {dec + 0.015}"),),
    ):
        response = soda(server, ("ID", did), *pairs)
        assert response.status_code == 200 and response.headers["content-type"] == "application/fits", response.text
        cutout = hdus(response.content)[0]
        assert contains(cutout, ra, dec)
        assert pixel_value(cutout, ra, dec) == pixel_value(original, ra, dec)
        assert max(cutout.data.shape) <= 0.04 / PIXEL_DEG + 3


def test_a_region_over_the_edge_is_clipped_to_the_image(server: str, image: tuple[str, str, float, float]) -> None:
    did, url, ra, dec = image
    original = hdus(httpx.get(url, timeout=30).content)[0]
    corner_ra, corner_dec = wcs_of(original.header).pixel_to_world_values(-0.5, -0.5)
    response = soda(server, ("ID", did), ("CIRCLE", f"{float(corner_ra)} {float(corner_dec)} 0.02"))
    cutout = hdus(response.content)[0]
    # A quarter of the circle lies on the image: about 12 x 12 of the 24 x 24 pixels across
    # (with the pixel of margin inside the image).
    assert all(11 <= n <= 15 for n in cutout.data.shape)
    assert np.isfinite(cutout.data).all()  # clipped, not padded with blanks
    assert contains(cutout, float(corner_ra) - 0.001, float(corner_dec) + 0.001)  # RA grows to the left


def test_a_region_containing_the_whole_image_returns_all_of_it(
    server: str, image: tuple[str, str, float, float]
) -> None:
    did, url, ra, dec = image
    cutout = hdus(soda(server, ("ID", did), ("CIRCLE", f"{ra} {dec} 1")).content)[0]
    assert cutout.data.shape == hdus(httpx.get(url, timeout=30).content)[0].data.shape


def test_a_region_off_the_image_gets_no_content(server: str, image: tuple[str, str, float, float]) -> None:
    did, _, ra, dec = image
    response = soda(server, ("ID", did), ("CIRCLE", f"{(ra + 180) % 360} {-dec} 0.1"))
    assert response.status_code == 204 and response.content == b""
    assert soda(server, ("ID", did), ("CIRCLE", f"{ra + 0.5} {dec} 0.05")).status_code == 204


def test_several_regions_give_one_extension_each(server: str, image: tuple[str, str, float, float]) -> None:
    did, _, ra, dec = image
    positions = [(ra - 0.03, dec - 0.03), (ra + 0.03, dec + 0.03)]
    response = soda(server, ("ID", did), *[("CIRCLE", f"{r} {d} 0.01") for r, d in positions])
    document = hdus(response.content)
    assert len(document) == 3 and document[0].header["NCUTOUTS"] == 2
    for hdu, (r, d) in zip(document[1:], positions, strict=True):
        assert hdu.name.startswith("CUTOUT") and contains(hdu, r, d)


def test_band_filters_an_image_as_a_whole(server: str, image: tuple[str, str, float, float], archive: Archive) -> None:
    did, _, ra, dec = image
    with psycopg.connect(archive.url) as conn:
        em_min, em_max = conn.execute(
            "SELECT em_min, em_max FROM ivoa.obscore WHERE obs_publisher_did = %s", (did,)
        ).fetchone()
    inside = soda(server, ("ID", did), ("CIRCLE", f"{ra} {dec} 0.01"), ("BAND", f"{em_min} {em_max}"))
    assert inside.status_code == 200
    outside = soda(server, ("ID", did), ("CIRCLE", f"{ra} {dec} 0.01"), ("BAND", f"{em_max * 2} +Inf"))
    assert outside.status_code == 204


def test_no_region_returns_the_whole_dataset(server: str, image: tuple[str, str, float, float]) -> None:
    did, url, _, _ = image
    assert soda(server, ("ID", did)).content == httpx.get(url, timeout=30).content


@pytest.mark.parametrize(
    ("pairs", "status", "start"),
    [
        ((("CIRCLE", "34 -5 0.1"),), 400, "UsageError: missing required parameter ID"),
        ((("ID", "{did}"), ("CIRCLE", "34 -5")), 400, "UsageError: CIRCLE: a circle is"),
        ((("ID", "{did}"), ("POLYGON", "34 -5 35 -5")), 400, "UsageError: POLYGON: a polygon needs at least 3"),
        ((("ID", "{did}"), ("POS", "BOX 1 2 3 4")), 400, "UsageError: POS: unknown shape"),
        ((("ID", "{did}"), ("BAND", "7e-7 6e-7")), 400, "UsageError: BAND: the lower bound"),
        ((("ID", "{did}"), ("TIME", "55000 56000")), 400, "UsageError: TIME is not supported"),
        ((("ID", "{did}"), ("ID", "{did}")), 400, "MultiValuedParamNotSupported: "),
        ((("ID", "ivo://x/none"), ("CIRCLE", "34 -5 0.1")), 404, "UsageError: ivo://x/none is not an image"),
    ],
)
def test_bad_requests_get_a_plain_text_soda_error(
    server: str, image: tuple[str, str, float, float], pairs: tuple[tuple[str, str], ...], status: int, start: str
) -> None:
    response = soda(server, *[(k, v.format(did=image[0])) for k, v in pairs])
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith(start), response.text


def test_soda_vosi_resources(server: str) -> None:
    from lxml import etree

    caps = etree.fromstring(httpx.get(f"{server}/soda/capabilities", timeout=10).content)
    assert "ivo://ivoa.net/std/SODA#sync-1.0" in {c.get("standardID") for c in caps.findall("capability")}
    assert httpx.get(f"{server}/soda/availability", timeout=10).status_code == 200
