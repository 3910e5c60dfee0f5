"""HiPS after more data, with the real command line on an archive of the test's own: images of a
second field (COSMOS, far from the sample's SXDS) ingested after a first build reach every survey,
the colour one too, the surveys then open on the larger field, and the trees stay valid HiPS for
Aladin (CDS Hipsgen's LINT); images finer than a survey's order are named, and ``--full`` raises it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import cdshealpix.nested as healpix
import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from mocpy import MOC
from PIL import Image

from hips_build.geometry import tile_path
from hips_build.tile_files import allsky_geometry
from tests.support.archive import Archive
from tests.support.hips import SERVED_BANDS, HipsArchive, hips_archive, hipsgen_lint, sample_stacks, shifted_copies

COSMOS = (150.1, 2.2)
SXDS = (34.42, -5.0)  # the centre of the two stacks first ingested, (2, 2) and (2, 3) of the 6 x 6 grid
COLOUR = "subaru-suprime-cam-color"
BAND = "subaru-suprime-cam-n-b-l497"
SURVEYS = (*(f"subaru-suprime-cam-{b.lower()}" for b in SERVED_BANDS), COLOUR)
BUILD = ("hips", "build", "--tile-width", "64", "--quiet")
ORDER = 9  # 64-pixel tiles for the sample's 6 arcsec pixels
FINER = "finer than the survey's order"  # the build's words for new images it cannot show in full


@dataclass
class Grown:
    own: HipsArchive
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    before: dict[str, dict[str, str]]  # each survey's properties after the first build
    cosmos: list[Path]  # the second field's images


@pytest.fixture(scope="module")
def grown(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Grown]:
    """Two of the four central SXDS stacks of three bands ingested and built; then the four
    central stacks of the same bands, moved to COSMOS, ingested and built again."""
    sample = archive.settings.archive_root / "suprimecam"
    home = tmp_path_factory.mktemp("grown")
    with hips_archive(archive, home / "home", "dalserver_hips_grown") as own:
        own.ingest(Path("sxds"), [p for b in SERVED_BANDS for p in sample_stacks(sample, b)[:2]])
        first = own.run(*BUILD)
        before = {name: own.properties(name) for name in SURVEYS}
        moved = shifted_copies(
            [p for b in SERVED_BANDS for p in sample_stacks(sample, b)], home / "cosmos", *COSMOS, "COSMOS"
        )
        own.ingest(Path("cosmos"), moved)
        second = own.run(*BUILD)
        yield Grown(own, first, second, before, moved)


def _centre(path: Path) -> tuple[float, float]:
    header = fits.getheader(path)
    ra, dec = WCS(header).pixel_to_world_values((header["NAXIS1"] - 1) / 2, (header["NAXIS2"] - 1) / 2)
    return float(ra), float(dec)


def _tile_at(ra: float, dec: float, order: int) -> int:
    return int(healpix.lonlat_to_healpix([ra] * u.deg, [dec] * u.deg, order)[0])


def test_a_rebuild_after_images_in_a_new_sky_area_adds_its_tiles_to_every_survey_the_colour_one_too(
    grown: Grown,
) -> None:
    for name in SURVEYS:
        assert f"{name}: built" in grown.first.stdout
        assert f"{name}: updated" in grown.second.stdout, grown.second.stdout
    ra, dec = _centre(grown.cosmos[0])
    tile = _tile_at(ra, dec, ORDER)
    band = fits.getdata(tile_path(grown.own.hips / BAND, ORDER, tile, "fits")).astype(float)
    assert np.isfinite(band).mean() > 0.9 and np.nanmedian(band) == pytest.approx(100, abs=3)  # the sky's level
    with Image.open(tile_path(grown.own.hips / COLOUR, ORDER, tile, "png")) as png:
        rgba = np.asarray(png)
    assert (rgba[..., 3] == 255).mean() > 0.9  # opaque where the bands have data
    assert rgba[..., :3].max() == 255 and rgba[..., :3].std() > 5  # stars on the sky, not a blank tile
    assert tile_path(grown.own.hips / COLOUR, ORDER, tile, "jpg").is_file()
    # and at every order above, down to the Allsky
    for order in range(ORDER):
        assert tile_path(grown.own.hips / COLOUR, order, _tile_at(ra, dec, order), "png").is_file(), order
    per_row, _, pixels = allsky_geometry(3, 64)
    allsky_tile = _tile_at(ra, dec, 3)
    top, left = (allsky_tile // per_row) * pixels, (allsky_tile % per_row) * pixels
    with Image.open(grown.own.hips / COLOUR / "Norder3" / "Allsky.png") as allsky:
        block = np.asarray(allsky)[top : top + pixels, left : left + pixels]
    assert (block[..., 3] == 255).any()
    # the first field's tiles are all still there
    sxds_tile = _tile_at(*SXDS, ORDER)
    assert tile_path(grown.own.hips / COLOUR, ORDER, sxds_tile, "png").is_file()


def test_after_a_second_field_the_surveys_open_on_the_larger_one(grown: Grown) -> None:
    for name in SURVEYS:
        before, after = grown.before[name], grown.own.properties(name)
        first = [float(before[k]) for k in ("hips_initial_ra", "hips_initial_dec", "hips_initial_fov")]
        assert first[:2] == pytest.approx(SXDS, abs=0.05)
        ra, dec, fov = (float(after[k]) for k in ("hips_initial_ra", "hips_initial_dec", "hips_initial_fov"))
        assert (ra, dec) == pytest.approx(COSMOS, abs=0.05), name  # four stacks: the larger field
        assert 0.4 < fov < 1.0  # the field and a margin, not the sky between the fields
        moc = MOC.from_fits(grown.own.hips / name / "Moc.fits")
        assert moc.contains_lonlat([SXDS[0], COSMOS[0]] * u.deg, [SXDS[1], COSMOS[1]] * u.deg).all()
    with Image.open(grown.own.hips / COLOUR / "preview.jpg") as preview:
        centre = np.asarray(preview)[96:160, 96:160]
    assert centre.std() > 5  # the preview shows the field Aladin opens on


def test_the_grown_surveys_are_valid_hips_for_aladin(grown: Grown) -> None:
    for name in SURVEYS:
        report = hipsgen_lint(grown.own.hips / name)
        assert "is fully IVOA HiPS 1.0 compatible" in report, report
        for needed in ('"properties" file ok', '"Moc.fits" ok', "Allsky found [Norder3/Allsky.png] ok"):
            assert needed in report, report


def test_new_images_finer_than_a_survey_are_named_and_full_raises_its_order(archive: Archive, tmp_path: Path) -> None:
    sample = archive.settings.archive_root / "suprimecam"
    stacks = sample_stacks(sample, "N-B-L497")
    with hips_archive(archive, tmp_path / "home", "dalserver_hips_finer") as own:
        own.ingest(Path("sxds"), stacks[:2])
        assert f"{BAND}: built (" in own.run(*BUILD, "--no-color").stdout
        assert own.properties(BAND)["hips_order"] == str(ORDER)
        # 1.5 arcsec pixels: 64-pixel tiles of order 11 (1.6 arcsec cells) show them
        fine = shifted_copies(stacks[2:3], tmp_path / "fine", *COSMOS, "FINE", pixel_scale_factor=0.25)
        own.ingest(Path("fine"), fine)
        update = own.run(*BUILD, "--no-color")
        assert f"{BAND}: updated" in update.stdout
        said = [line for line in update.stderr.splitlines() if FINER in line]
        assert len(said) == 1, update.stderr
        for words in (BAND, f"order {ORDER}", "need order 11", fine[0].name, "dalserver hips build --full"):
            assert words in said[0], said[0]
        assert own.properties(BAND)["hips_order"] == str(ORDER)  # an update keeps the survey's order
        assert tile_path(own.hips / BAND, ORDER, _tile_at(*_centre(fine[0]), ORDER), "fits").is_file()

        full = own.run(*BUILD, "--no-color", "--full")
        assert f"{BAND}: built (" in full.stdout and "order 11" in full.stdout
        assert FINER not in full.stderr
        p = own.properties(BAND)
        assert p["hips_order"] == "11"
        assert float(p["s_pixel_scale"]) * 3600 == pytest.approx(1.5, rel=1e-3)  # the finest images' pixels
        fine_tile = _tile_at(*_centre(fine[0]), 11)
        assert tile_path(own.hips / BAND, 11, fine_tile, "fits").is_file()
        assert not (own.hips / BAND / "Norder12").exists()
        again = own.run(*BUILD, "--no-color")
        assert f"{BAND}: up to date" in again.stdout and FINER not in again.stderr
