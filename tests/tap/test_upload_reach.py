"""Which upload rows each shard of a scattered cross-match is sent (dalserver/tap/upload_reach.py):
never fewer than it can match. Checked against pgsphere's own key (rewritten in Python, with its
carry on the far face edges) of points inside and on the edge of each row's circle. No database."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dalserver.tap.upload_reach import UploadCells
from tests.support.pgsphere_healpix import pgsphere_healpix_nest

KEYS = 12 * 4**12


def _shards(cuts: list[int]) -> list[tuple[int | None, int | None]]:
    edges: list[int | None] = [None, *cuts, None]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _shard_of(key: int, shards: list[tuple[int | None, int | None]]) -> int:
    return next(
        i for i, (low, high) in enumerate(shards) if (low is None or key >= low) and (high is None or key < high)
    )


def _around(ra: float, dec: float, radius: float, steps: int = 24) -> list[tuple[float, float]]:
    """The centre and points just inside the circle's edge, all round it."""
    points = [(ra, dec)]
    lon, lat, r = math.radians(ra), math.radians(dec), math.radians(radius) * (1 - 1e-9)
    for k in range(steps):
        bearing = 2 * math.pi * k / steps
        plat = math.asin(math.sin(lat) * math.cos(r) + math.cos(lat) * math.sin(r) * math.cos(bearing))
        plon = lon + math.atan2(
            math.sin(bearing) * math.sin(r) * math.cos(lat), math.cos(r) - math.sin(lat) * math.sin(plat)
        )
        points.append((math.degrees(plon) % 360, math.degrees(plat)))
    return points


def _positions() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(29)
    ra = list(rng.uniform(0, 360, 300))
    dec = list(np.degrees(np.arcsin(rng.uniform(-1, 1, 300))))
    # the poles, the base faces' edges and corners, RA 0 / 360
    for special_ra in (0.0, 45.0, 90.0, 135.0, 180.0, 270.0, 359.9999999):
        for special_dec in (-90.0, -41.8103149, 0.0, 41.8103149, 89.99999, 90.0):
            ra.append(special_ra)
            dec.append(special_dec)
    return np.array(ra), np.array(dec)


@pytest.mark.parametrize("radius", [2 / 3600, 0.2, 3.0])
@pytest.mark.parametrize(
    "cuts", [[KEYS // 3, 2 * KEYS // 3], [int(KEYS * f) for f in (0.05, 0.2, 0.41, 0.5, 0.77, 0.9)]]
)
def test_every_point_within_an_upload_rows_radius_lies_on_a_shard_the_row_is_sent_to(
    radius: float, cuts: list[int]
) -> None:
    ra, dec = _positions()
    shards = _shards(cuts)
    cells = UploadCells(ra, dec, radius)
    masks = [cells.rows_for(low, high) for low, high in shards]
    for row in range(ra.size):
        for point_ra, point_dec in _around(ra[row], dec[row], radius):
            shard = _shard_of(pgsphere_healpix_nest(12, point_ra, point_dec), shards)
            assert masks[shard][row], (ra[row], dec[row], point_ra, point_dec, shard)


def test_a_small_radius_sends_each_row_to_about_one_shard() -> None:
    rng = np.random.default_rng(3)
    ra, dec = rng.uniform(0, 360, 3000), np.degrees(np.arcsin(rng.uniform(-1, 1, 3000)))
    cells = UploadCells(ra, dec, 2 / 3600)
    sent = sum(int(cells.rows_for(low, high).sum()) for low, high in _shards([KEYS // 3, 2 * KEYS // 3]))
    assert 3000 <= sent < 3000 * 1.1


def test_a_row_pgsphere_might_refuse_or_a_circle_wider_than_a_base_cell_goes_to_every_shard() -> None:
    ra = np.array([np.nan, 10.0, 10.0, np.inf])
    dec = np.array([0.0, np.nan, 95.0, 0.0])
    for low, high in _shards([KEYS // 3, 2 * KEYS // 3]):
        assert UploadCells(ra, dec, 0.01).rows_for(low, high).all()
    wide = UploadCells(np.array([10.0]), np.array([10.0]), 60.0)
    assert all(wide.rows_for(low, high).all() for low, high in _shards([KEYS // 3, 2 * KEYS // 3]))
