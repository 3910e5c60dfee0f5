"""SODA cutouts of a FITS image written to tmp_path (dalserver.soda.cutout.cutouts and
write_cutouts), read back with astropy: the pixels and the WCS of each cutout agree with the
original, several regions give several extensions, regions off the image give none. The pixel
box itself is compared with brute force in test_cutout_geometry; through the service in test_soda."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from dalserver.dali.values import parse_pos
from dalserver.soda.cutout import UnsupportedData, cutouts, write_cutouts
from data_ingest.sample import make_wcs

N = 80
RA, DEC = 34.5, -5.0


@pytest.fixture
def image(tmp_path: Path) -> Path:
    wcs = make_wcs(RA, DEC, N, 6.0)
    data = np.arange(N * N, dtype=np.float32).reshape(N, N)  # every pixel its own value
    header = wcs.to_header()
    header["OBJECT"] = "test field"
    path = tmp_path / "image.fits"
    fits.PrimaryHDU(data, header).writeto(path)
    return path


def pixel_at(hdu: fits.ImageHDU | fits.PrimaryHDU, ra: float, dec: float) -> float:
    x, y = WCS(hdu.header).world_to_pixel_values(ra, dec)
    return float(hdu.data[int(round(float(y))), int(round(float(x)))])


def test_a_circle_cutout_has_the_original_pixels_under_its_own_wcs(image: Path, tmp_path: Path) -> None:
    (cut,) = cutouts(image, [(parse_pos("CIRCLE 34.5 -5.0 0.01"), "CIRCLE 34.5 -5.0 0.01")])
    ny, nx = cut.data.shape
    assert 10 <= nx < N and 10 <= ny < N  # 0.01 deg = 6 pixels of 6" either side, and a margin
    target = tmp_path / "cut.fits"
    write_cutouts([cut], "ivo://x/y?1", target)
    with fits.open(target) as cut_hdus, fits.open(image) as original:
        (hdu,) = cut_hdus
        assert hdu.header["SODAID"] == "ivo://x/y?1" and hdu.header["SODAREG"] == "CIRCLE 34.5 -5.0 0.01"
        assert hdu.header["OBJECT"] == "test field"
        for ra, dec in [(RA, DEC), (RA + 0.005, DEC - 0.005)]:
            assert pixel_at(hdu, ra, dec) == pixel_at(original[0], ra, dec)


def test_several_regions_give_one_extension_each_and_a_region_off_the_image_none(image: Path, tmp_path: Path) -> None:
    regions = [
        (parse_pos("CIRCLE 34.5 -5.0 0.01"), "first"),
        (parse_pos("CIRCLE 200 60 1"), "elsewhere"),
        (parse_pos("RANGE 34.49 34.51 -5.01 -4.99"), "box"),
    ]
    found = cutouts(image, regions)
    assert [c.region for c in found] == ["first", "box"]
    target = tmp_path / "cuts.fits"
    write_cutouts(found, "ivo://x/y?1", target)
    with fits.open(target) as hdus:
        assert hdus[0].data is None and hdus[0].header["NCUTOUTS"] == 2
        assert [h.name for h in hdus[1:]] == ["CUTOUT1", "CUTOUT2"] and all(h.data.size for h in hdus[1:])
    assert cutouts(image, [(parse_pos("CIRCLE 200 60 1"), "elsewhere")]) == []


def test_a_region_over_the_edge_is_clipped_to_the_image(image: Path) -> None:
    (cut,) = cutouts(image, [(parse_pos("CIRCLE 34.5 -5.0 5"), "all of it")])
    assert cut.data.shape == (N, N) and cut.header["SODABOX"] == f"1:{N},1:{N}"


def test_a_cube_is_refused_as_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "cube.fits"
    header = make_wcs(RA, DEC, 10, 6.0).to_header()
    fits.PrimaryHDU(np.zeros((3, 10, 10), dtype=np.float32), header).writeto(path)
    with pytest.raises(UnsupportedData, match="3 axes"):
        cutouts(path, [(parse_pos("CIRCLE 34.5 -5.0 0.01"), "x")])
