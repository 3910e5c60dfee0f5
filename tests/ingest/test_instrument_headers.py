"""FITS headers as instruments really write them: Subaru's INSTRUME = 'SuprimeCam' (no hyphen)
finds the Suprime-Cam profile; an instrument without a profile keeps its filter name from the
usual keywords and is ingested with a warning saying what is missing and what follows; the
observation time comes from MJD-OBS or DATE-OBS, and its absence is warned about too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from astropy.io import fits

from data_ingest.fits_images import ArchiveContext, describe_fits
from data_ingest.image_warnings import ImageWarning, Missing, image_warnings
from data_ingest.images import IngestReport
from data_ingest.instruments import shipped_profile, shipped_profiles
from data_ingest.observation_time import mjd_from_date
from tests.support.fits_images import small_image

SUPRIMECAM = shipped_profile("Suprime-Cam")


def _context(root: Path) -> ArchiveContext:
    return ArchiveContext(root, "dalserver.demo")


def _describe(path: Path) -> tuple[dict[str, Any], dict[str, Any], list[ImageWarning]]:
    row, values = describe_fits(path, _context(path.parent))
    return row, values, image_warnings(path, row, values, shipped_profiles().profile_for(values.get("INSTRUME")))


@pytest.mark.parametrize("instrume", ["SuprimeCam", "Suprime-Cam", "SUPRIME-CAM", "suprime cam", "Suprime_Cam"])
def test_every_spelling_of_suprime_cam_finds_its_profile(instrume: str) -> None:
    assert shipped_profiles().profile_for(instrume) is SUPRIMECAM


def test_a_subaru_suprimecam_header_gets_its_band_and_spectral_coverage(tmp_path: Path) -> None:
    path = small_image(tmp_path / "SUPA0001.fits", INSTRUME="SuprimeCam", TELESCOP="Subaru", FILTER01="W-C-RC")
    row, _, warnings = _describe(path)
    rc = SUPRIMECAM.filters["W-C-RC"]
    assert (row["instrument_name"], row["em_band_name"], row["em_min"], row["em_max"]) == (
        "Suprime-Cam",
        "W-C-RC",
        rc.em_min,
        rc.em_max,
    )
    assert warnings == []


@pytest.mark.parametrize("keyword", ["FILTER", "FILTER01", "FILTNAME"])
def test_an_instrument_without_a_profile_keeps_its_filter_name(tmp_path: Path, keyword: str) -> None:
    filter_card: dict[str, Any] = {keyword: "r'"}
    path = small_image(tmp_path / "frame.fits", INSTRUME="MyCam", TELESCOP="Small", **filter_card)
    row, values, _ = _describe(path)
    assert (row["instrument_name"], row["em_band_name"], row["em_min"], row["em_max"]) == ("MyCam", "r'", None, None)
    assert values[keyword] == "r'"  # the provenance names the keyword the band came from


def test_an_image_without_a_profile_is_described_with_a_warning_naming_what_is_missing(tmp_path: Path) -> None:
    path = small_image(tmp_path / "mycam-1.fits", INSTRUME="MyCam", TELESCOP="Small", FILTER="r")
    row, _, warnings = _describe(path)
    assert (row["facility_name"], row["obs_collection"]) == ("Small", "MyCam")
    assert warnings == [ImageWarning(Missing.PROFILE, f"{path}: INSTRUME 'MyCam', filter 'r'")]
    headline = Missing.PROFILE.headline(1)
    assert "no instrument profile" in headline and "SIA BAND searches will not find it" in headline
    assert "$DALSERVER_HOME/instruments/" in headline


def test_a_profiled_image_whose_header_names_no_filter_is_warned_about(tmp_path: Path) -> None:
    path = small_image(tmp_path / "nofilter.fits", INSTRUME="Suprime-Cam")
    _, _, warnings = _describe(path)
    assert warnings == [ImageWarning(Missing.FILTER, f"{path}: Suprime-Cam, none of FILTER01 is set")]
    assert "SIA BAND searches will not find them" in Missing.FILTER.headline(2)


def test_an_image_without_observation_time_is_ingested_with_a_warning(tmp_path: Path) -> None:
    path = small_image(tmp_path / "timeless.fits", without=("MJD-OBS",), INSTRUME="SuprimeCam", FILTER01="W-J-V")
    row, _, warnings = _describe(path)
    assert (row["t_min"], row["t_max"], row["t_exptime"]) == (None, None, 600.0)
    assert warnings == [ImageWarning(Missing.TIME, f"{path}: neither MJD-OBS nor DATE-OBS")]
    assert "SIA TIME searches will not find it" in Missing.TIME.headline(1)
    garbled = small_image(tmp_path / "garbled.fits", without=("MJD-OBS",), INSTRUME="SuprimeCam", FILTER01="W-J-V")
    fits.setval(garbled, "DATE-OBS", value="29/09/02")
    assert _describe(garbled)[2] == [
        ImageWarning(Missing.TIME, f"{garbled}: DATE-OBS '29/09/02' is not an ISO 8601 date")
    ]


def test_date_obs_gives_the_observation_time_when_mjd_obs_is_missing(tmp_path: Path) -> None:
    path = small_image(
        tmp_path / "dated.fits",
        without=("MJD-OBS",),
        INSTRUME="SuprimeCam",
        FILTER01="W-J-V",
        **{"DATE-OBS": "2002-09-29T12:00:00"},
    )
    row, values, warnings = _describe(path)
    assert (row["t_min"], row["t_max"]) == (52546.5, 52546.5 + 600.0 / 86400.0)
    assert values["DATE-OBS"] == "2002-09-29T12:00:00" and warnings == []


@pytest.mark.parametrize(
    ("date", "time_of_day", "mjd"),
    [
        ("1858-11-17", None, 0.0),
        ("2000-01-01T12:00:00", None, 51544.5),
        ("2000-01-01T12:00:00Z", None, 51544.5),
        ("2000-01-01", "06:00:00", 51544.25),  # the older TIME-OBS convention
        ("01/01/00", None, None),
        ("", None, None),
        (53000.0, None, None),
    ],
)
def test_mjd_from_an_iso_date(date: object, time_of_day: object, mjd: float | None) -> None:
    assert mjd_from_date(date, time_of_day) == mjd


def test_the_warnings_are_grouped_by_what_is_missing_and_list_the_first_files() -> None:
    report = IngestReport(ingested=8, seconds=2.0)
    report.warnings = [ImageWarning(Missing.PROFILE, f"/a/f{i}.fits: INSTRUME 'MyCam'") for i in range(7)]
    report.warnings.append(ImageWarning(Missing.TIME, "/a/f0.fits: neither MJD-OBS nor DATE-OBS"))
    lines = report.warning_lines(listed=5)
    assert lines[0] == f"warning: {Missing.PROFILE.headline(7)}"
    assert lines[1:6] == [f"  /a/f{i}.fits: INSTRUME 'MyCam'" for i in range(5)]
    assert lines[6] == "  ... and 2 more"
    assert lines[7:] == [f"warning: {Missing.TIME.headline(1)}", "  /a/f0.fits: neither MJD-OBS nor DATE-OBS"]
    assert report.summary() == ["ingested 8 images into ivoa.obscore in 2.0 s (4 files/s); 0 skipped"]
    assert IngestReport(ingested=1, seconds=1.0).warning_lines() == []
