"""The seed use case of the walking skeleton: pyvo finds Suprime-Cam stacks by position, and the
access_url yields a FITS whose WCS footprint covers that position."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pyvo
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS

from data_ingest.sample import StackSpec, stack_specs

SEED_QUERY = "SELECT * FROM ivoa.obscore WHERE s_ra BETWEEN 34.4 AND 34.5 AND s_dec BETWEEN -4.8 AND -4.7"


def _expected_stacks() -> list[StackSpec]:
    return sorted(
        (s for s in stack_specs() if 34.4 <= s.ra <= 34.5 and -4.8 <= s.dec <= -4.7),
        key=lambda s: s.data_id,
    )


def test_pyvo_search_returns_the_stacks_centred_in_the_box(tap_url: str) -> None:
    expected = _expected_stacks()
    assert len(expected) == 3  # V, Rc and i' of one tile
    result = pyvo.dal.TAPService(tap_url).search(SEED_QUERY)
    rows = sorted(result, key=lambda r: r["obs_id"])
    assert [r["obs_id"] for r in rows] == [s.data_id for s in expected]
    for row, spec in zip(rows, expected, strict=True):
        assert row["em_band_name"] == spec.band
        assert abs(row["s_ra"] - spec.ra) < 1e-6
        assert abs(row["s_dec"] - spec.dec) < 1e-6
        assert 0.25 < row["s_fov"] < 0.27  # diagonal of an 11-arcmin tile
        assert row["access_url"].endswith(f"/data/suprimecam/{spec.filename}")
        assert row["dataproduct_type"] == "image"
        assert row["facility_name"] == "Subaru"
        assert row["instrument_name"] == "Suprime-Cam"


def test_access_url_yields_a_fits_whose_footprint_covers_the_position(tap_url: str) -> None:
    row = next(iter(pyvo.dal.TAPService(tap_url).search(SEED_QUERY)))
    response = httpx.get(row["access_url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fits"
    assert int(response.headers["content-length"]) == len(response.content)
    with fits.open(io.BytesIO(response.content)) as hdul:
        wcs = WCS(hdul[0].header)
        assert hdul[0].header["FILTER01"] == row["em_band_name"]
    assert wcs.footprint_contains(SkyCoord(row["s_ra"], row["s_dec"], unit="deg"))


def test_s_region_comes_back_as_an_stcs_polygon_around_the_centre(tap_url: str) -> None:
    result = pyvo.dal.TAPService(tap_url).search(
        "SELECT s_ra, s_dec, s_region FROM ivoa.obscore WHERE s_ra BETWEEN 34.4 AND 34.5 AND s_dec BETWEEN -4.8 AND -4.7"
    )
    for row in result:
        shape, frame, *numbers = row["s_region"].split()
        assert (shape, frame) == ("Polygon", "ICRS")
        polygon = np.asarray(numbers, dtype=float).reshape(-1, 2)
        assert polygon.shape == (4, 2)
        assert polygon[:, 0].min() < row["s_ra"] < polygon[:, 0].max()
        assert polygon[:, 1].min() < row["s_dec"] < polygon[:, 1].max()
