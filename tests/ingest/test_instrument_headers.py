"""FITS headers as instruments really write them: Subaru's INSTRUME = 'SuprimeCam' (no hyphen)
finds the Suprime-Cam profile; an instrument without a profile keeps its filter name from the
usual keywords, and the ingest summary says which rows have no spectral coverage."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import psycopg
import pytest
from astropy.io import fits

from data_ingest.fits_images import ArchiveContext, describe_fits
from data_ingest.images import IngestReport
from data_ingest.instruments import profile_for
from data_ingest.instruments.suprimecam import SUPRIMECAM
from tests.support.archive import Archive


def _image(path: Path, **cards: str) -> Path:
    """A small TAN image with the cards a stack carries, and ``cards``."""
    header = fits.Header()
    for key, value in {
        "CTYPE1": "RA---TAN",
        "CTYPE2": "DEC--TAN",
        "CRVAL1": 34.5,
        "CRVAL2": -5.0,
        "CRPIX1": 8.5,
        "CRPIX2": 8.5,
        "CDELT1": -0.001,
        "CDELT2": 0.001,
        "MJD-OBS": 53000.0,
        "EXPTIME": 600.0,
        "FRAMEID": path.stem,
        **cards,
    }.items():
        header[key] = value
    fits.PrimaryHDU(np.zeros((16, 16), dtype=np.float32), header).writeto(path)
    return path


def _context(root: Path) -> ArchiveContext:
    return ArchiveContext(root, "http://127.0.0.1:8000", "dalserver.demo")


@pytest.mark.parametrize("instrume", ["SuprimeCam", "Suprime-Cam", "SUPRIME-CAM", "suprime cam", "Suprime_Cam"])
def test_every_spelling_of_suprime_cam_finds_its_profile(instrume: str) -> None:
    assert profile_for(instrume) is SUPRIMECAM


def test_a_subaru_suprimecam_header_gets_its_band_and_spectral_coverage(tmp_path: Path) -> None:
    path = _image(tmp_path / "SUPA0001.fits", INSTRUME="SuprimeCam", TELESCOP="Subaru", FILTER01="W-C-RC")
    row, _ = describe_fits(path, _context(tmp_path))
    rc = SUPRIMECAM.filters["W-C-RC"]
    assert (row["instrument_name"], row["em_band_name"], row["em_min"], row["em_max"]) == (
        "Suprime-Cam",
        "W-C-RC",
        rc.em_min,
        rc.em_max,
    )


@pytest.mark.parametrize("keyword", ["FILTER", "FILTER01", "FILTNAME"])
def test_an_instrument_without_a_profile_keeps_its_filter_name(tmp_path: Path, keyword: str) -> None:
    path = _image(tmp_path / "frame.fits", INSTRUME="MyCam", TELESCOP="Small", **{keyword: "r'"})
    row, values = describe_fits(path, _context(tmp_path))
    assert (row["instrument_name"], row["em_band_name"], row["em_min"], row["em_max"]) == ("MyCam", "r'", None, None)
    assert values[keyword] == "r'"  # the provenance names the keyword the band came from


def test_the_summary_lists_the_rows_without_spectral_coverage() -> None:
    report = IngestReport(ingested=8, seconds=2.0)
    report.no_spectral_coverage = [f"/a/f{i}.fits: instrument MyCam, filter r" for i in range(7)]
    lines = report.summary(listed=5)
    assert lines[0] == "ingested 8 images into ivoa.obscore in 2.0 s (4 files/s); 0 skipped"
    assert lines[1].startswith("7 of them have no spectral coverage (em_min, em_max)")
    assert lines[2:7] == [f"  /a/f{i}.fits: instrument MyCam, filter r" for i in range(5)]
    assert lines[7] == "  ... and 2 more"
    assert IngestReport(ingested=1, seconds=1.0).summary() == [
        "ingested 1 images into ivoa.obscore in 1.0 s (1 files/s); 0 skipped"
    ]


def test_the_ingest_command_says_which_files_lack_spectral_coverage(archive: Archive, db: psycopg.Connection) -> None:
    folder = archive.settings.archive_root / "other-instruments"
    folder.mkdir()
    try:
        _image(folder / "mycam-1.fits", INSTRUME="MyCam", FILTER="r")
        _image(folder / "subaru-1.fits", INSTRUME="SuprimeCam", FILTER01="W-J-V")
        result = subprocess.run(
            [sys.executable, "-m", "dalserver", "ingest", "images", "--quiet", str(folder)],
            env=archive.env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert "ingested 2 images" in result.stdout
        assert "1 of them have no spectral coverage" in result.stdout
        assert f"{folder / 'mycam-1.fits'}: instrument MyCam, filter r" in result.stdout
        assert "subaru-1.fits" not in result.stdout
    finally:
        db.execute("DELETE FROM ivoa.obscore WHERE access_url LIKE %s", ("%/other-instruments/%",))
        shutil.rmtree(folder)
