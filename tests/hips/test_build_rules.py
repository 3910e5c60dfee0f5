"""How a build treats its inputs: overlaps are averaged, BITPIX is the data's, unusable images
and empty bands are reported, rebuilds redo only what changed, and an interrupted build leaves
the served survey as it was."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from archive_io import hips_properties as props
from archive_io.hips_store import HipsStore
from data_ingest.sample import make_wcs
from hips_build import build as build_module
from hips_build.images import SourceImage
from hips_build.plan import plan_surveys, slug
from hips_build.run import build_surveys
from hips_build.survey_steps import BuildOptions, Site, merge_tiles
from tests.hips.conftest import BANDS

SITE = Site("dalserver.test")
OPTIONS = BuildOptions(tile_width=64, progress=False)


def _image(
    directory: Path, name: str, ra: float, dec: float, data: np.ndarray, band: str = "X", **header: object
) -> SourceImage:
    wcs = make_wcs(ra, dec, data.shape[0], 6.0)
    hdu = fits.PrimaryHDU(data, header=wcs.to_header())
    for key, value in header.items():
        hdu.header[key] = value
    path = directory / f"{name}.fits"
    hdu.writeto(path, overwrite=True)
    corners = WCS(hdu.header).calc_footprint()
    stat = path.stat()
    return SourceImage(
        did=f"ivo://t/x?{name}",
        path=path,
        fingerprint=f"stat:{stat.st_size}:{stat.st_mtime_ns}",
        collection="Test",
        band=band,
        footprint=tuple((float(r), float(d)) for r, d in corners),
        em_min=5e-7,
        em_max=6e-7,
    )


def _deepest_values(root: Path, order: int) -> np.ndarray:
    return np.concatenate(
        [fits.getdata(p).astype(float).ravel() for p in (root / f"Norder{order}").glob("Dir*/*.fits")]
    )


def test_overlapping_images_are_averaged_whatever_their_order(tmp_path: Path) -> None:
    ones = np.full((60, 60), 10.0, dtype=np.float32)
    first = _image(tmp_path, "a", 10.0, 0.0, ones)
    second = _image(tmp_path, "b", 10.05, 0.0, ones * 2)  # overlaps the first by 0.05 deg
    results = {}
    for name, images in (("ab", [first, second]), ("ba", [second, first])):
        build_surveys(images, tmp_path / name, SITE, OPTIONS, colours=[], workers=1)
        values = _deepest_values(tmp_path / name / "test-x", 9)
        results[name] = np.unique(np.round(values[np.isfinite(values)], 4))
    assert set(results["ab"]) == {10.0, 15.0, 20.0}  # each alone, and the mean where both are
    assert np.array_equal(results["ab"], results["ba"])


def test_integer_images_give_integer_tiles_with_blank(tmp_path: Path) -> None:
    data = (np.arange(40 * 40).reshape(40, 40) % 1000).astype(np.int16)
    image = _image(tmp_path, "i", 20.0, 10.0, data)
    build_surveys([image], tmp_path / "h", SITE, OPTIONS, colours=[], workers=1)
    root = tmp_path / "h" / "test-x"
    assert props.parse((root / "properties").read_text())["hips_pixel_bitpix"] == "16"
    tile = next((root / "Norder9").glob("Dir*/*.fits"))
    with fits.open(tile, do_not_scale_image_data=True) as hdul:
        header, raw = hdul[0].header, hdul[0].data
        assert header["BITPIX"] == 16 and header["BLANK"] == -32768
        assert (raw == -32768).any() and raw[raw != -32768].min() >= 0 and raw.max() <= 999
    allsky = fits.getheader(root / "Norder3" / "Allsky.fits")
    assert allsky["BITPIX"] == 16 and allsky["BLANK"] == -32768


def test_unusable_images_are_skipped_with_a_message_naming_them(tmp_path: Path) -> None:
    good = _image(tmp_path, "good", 30.0, 0.0, np.full((40, 40), 5.0, dtype=np.float32))
    nans = _image(tmp_path, "nans", 30.02, 0.0, np.full((40, 40), np.nan, dtype=np.float32))
    no_wcs_path = tmp_path / "nowcs.fits"
    fits.PrimaryHDU(np.ones((40, 40), dtype=np.float32)).writeto(no_wcs_path)
    no_wcs = SourceImage("ivo://t/x?nowcs", no_wcs_path, "stat:0", "Test", "X", good.footprint)
    messages: list[str] = []
    report = build_surveys(
        [good, nans, no_wcs], tmp_path / "h", SITE, OPTIONS, colours=[], workers=1, warn=messages.append
    )
    assert [r.status for r in report.results] == ["built"]
    assert any("nans.fits" in m and "NaN" in m for m in messages), messages
    assert any("nowcs.fits" in m and "celestial WCS" in m for m in messages), messages
    only_bad = build_surveys([nans], tmp_path / "h2", SITE, OPTIONS, colours=[], workers=1, warn=messages.append)
    assert only_bad.results[0].status == "skipped" and "no usable images" in only_bad.results[0].message
    assert not (tmp_path / "h2" / "test-x").exists()


def test_a_band_without_images_gives_no_survey_and_says_so(sample_dir: tuple[Path, list[SourceImage]]) -> None:
    _, images = sample_dir
    plan = plan_surveys(images, bands=["N-B-L497", "W-S-Z+"])
    assert [s.band for s in plan.bands] == ["N-B-L497"]
    assert plan.notes == ["band W-S-Z+: no images in ivoa.obscore, so no survey"]
    assert plan.colours == []


def test_the_colour_survey_takes_the_three_best_covered_bands_reddest_as_red(
    sample_dir: tuple[Path, list[SourceImage]],
) -> None:
    _, images = sample_dir
    colour = plan_surveys(images).colours[0]
    assert (colour.red.band, colour.green.band, colour.blue.band) == ("I-A-L598", "N-A-L503", "N-B-L497")
    chosen = plan_surveys(images, colours=[("N-B-L497", "N-A-L503", "I-A-L598")]).colours[0]
    assert chosen.red.band == "N-B-L497"
    assert slug("Subaru/Suprime-Cam") + "-" + slug("W-S-I+") == "subaru-suprime-cam-w-s-i-plus"
    assert set(BANDS) == {s.band for s in plan_surveys(images).bands}


def _inodes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_ino for p in root.rglob("Npix*")}


def test_a_new_image_redoes_only_the_tiles_it_touches(tmp_path: Path) -> None:
    flat = np.full((60, 60), 100.0, dtype=np.float32)
    images = [_image(tmp_path, f"s{i}", 40.0 + 0.3 * i, 5.0, flat) for i in range(3)]
    hips = tmp_path / "hips"
    first = build_surveys(images, hips, SITE, OPTIONS, colours=[], workers=1)
    survey = hips / "test-x"
    before_dir = survey.resolve()
    before = _inodes(survey)
    again = build_surveys(images, hips, SITE, OPTIONS, colours=[], workers=1)
    assert again.results[0].status == "up to date" and again.tiles_written == 0 and survey.resolve() == before_dir

    added = _image(tmp_path, "new", 40.6, 5.05, flat * 2)  # overlaps the third stack only
    second = build_surveys([*images, added], hips, SITE, OPTIONS, colours=[], workers=1)
    assert second.results[0].status == "updated"
    assert 0 < second.tiles_written < first.tiles_written
    after = _inodes(survey)
    assert survey.resolve() != before_dir and before_dir.is_dir()  # the previous build is kept for its readers
    changed = {k for k in after if before.get(k) != after[k]}
    assert len({k.rsplit(".", 1)[0] for k in changed}) == second.tiles_written  # a FITS and a PNG each
    untouched = [k for k in before if k in after and k not in changed]
    assert untouched and all(os.path.samefile(before_dir / k, survey / k) for k in untouched)
    # the new tiles are those of a build from scratch
    scratch = build_surveys([*images, added], tmp_path / "scratch", SITE, OPTIONS, colours=[], workers=1)
    assert scratch.results[0].status == "built"
    assert set(after) == set(_inodes(tmp_path / "scratch" / "test-x"))
    for key in after:
        ours, theirs = fits.getdata(survey / key) if key.endswith(".fits") else None, None
        if ours is not None:
            theirs = fits.getdata(tmp_path / "scratch" / "test-x" / key)
            assert np.array_equal(ours, theirs, equal_nan=True), key

    removed = build_surveys(images[:2], hips, SITE, OPTIONS, colours=[], workers=1)
    assert removed.results[0].status == "updated"
    assert not any(k.startswith("Norder9") and k in _inodes(survey) for k in changed - set(before))


def test_an_interrupted_build_leaves_the_served_survey_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flat = np.full((60, 60), 100.0, dtype=np.float32)
    images = [_image(tmp_path, f"s{i}", 50.0 + 0.3 * i, -5.0, flat) for i in range(2)]
    hips = tmp_path / "hips"
    build_surveys(images[:1], hips, SITE, OPTIONS, colours=[], workers=1)
    served = (hips / "test-x").resolve()
    properties = (hips / "test-x" / "properties").read_text()
    calls = 0
    real = build_module._deepest_task

    def dies_half_way(*args: object) -> object:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise KeyboardInterrupt  # as Ctrl-C in the middle of the tiles
        return real(*args)  # type: ignore[arg-type]  # the arguments the build passed, handed on as they came

    monkeypatch.setattr(build_module, "_deepest_task", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        build_surveys(images, hips, SITE, OPTIONS, colours=[], workers=1)
    assert (hips / "test-x").resolve() == served
    assert (hips / "test-x" / "properties").read_text() == properties
    assert not list(HipsStore(hips).builds.glob("*.partial"))
    # a build killed outright leaves its partial directory: the next build removes it
    stale = HipsStore(hips).builds / "test-x@20000101T000000000000Z-1.partial"
    stale.mkdir()
    monkeypatch.setattr(build_module, "_deepest_task", real)
    assert build_surveys(images, hips, SITE, OPTIONS, colours=[], workers=1).results[0].status == "updated"
    assert not stale.exists()


def test_tile_sets_merge_order_by_order_keeping_every_tile() -> None:
    # a dict union would keep one side's set of an order both have: {6: {1, 2}} | {6: {1}} == {6: {1}}
    assert merge_tiles({6: {1, 2}}, {6: [1]}) == {6: {1, 2}}
    assert merge_tiles({6: {1}, 5: {0}}, {6: {9}, 4: [0]}) == {4: {0}, 5: {0}, 6: {1, 9}}
    assert merge_tiles() == {}
