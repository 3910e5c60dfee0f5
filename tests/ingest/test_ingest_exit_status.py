"""`dalserver ingest images` tells the truth in its exit status: 1 when any file was skipped
(each named on a line of its own, saying why) or none was found, 0 with --allow-skips; the good
files are ingested either way. On an archive of the tests' own, so no other test sees its rows."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest
from astropy.io import fits

from tests.support.archive import Archive
from tests.support.fits_images import small_image
from tests.support.own_archive import own_archive


@pytest.fixture(scope="module")
def own(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    with own_archive(archive, tmp_path_factory.mktemp("exit-status"), "dalserver_exit_status_test") as mine:
        yield mine


def _ingest(archive: Archive, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dalserver", "ingest", "images", "--quiet", *args],
        env=archive.env,
        capture_output=True,
        text=True,
    )


def _obs_ids(archive: Archive) -> set[str]:
    with psycopg.connect(archive.url) as conn:
        return {r[0] for r in conn.execute("SELECT obs_id FROM ivoa.obscore")}


@pytest.fixture(scope="module")
def mixed(own: Archive) -> Path:
    """Two good images and three a user could put beside them by mistake."""
    folder = own.settings.archive_root / "mixed"
    folder.mkdir()
    small_image(folder / "good-1.fits", INSTRUME="SuprimeCam", FILTER01="W-J-V")
    small_image(folder / "good-2.fits", INSTRUME="SuprimeCam", FILTER01="W-C-RC")
    fits.PrimaryHDU(np.zeros((10, 10), dtype=np.float32)).writeto(folder / "no_wcs.fits")
    (folder / "garbage.fits").write_bytes(b"this is not FITS at all")
    small_image(folder / "odd-filter.fits", INSTRUME="SuprimeCam", FILTER01="W-X-Y")
    return folder


def test_a_skipped_file_makes_the_ingest_exit_1_naming_each_file_and_why(own: Archive, mixed: Path) -> None:
    done = _ingest(own, str(mixed))
    assert done.returncode == 1, done.stderr
    skipped = [line for line in done.stderr.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == 3, done.stderr
    assert any(line.startswith(f"skipped: {mixed / 'no_wcs.fits'}: no celestial WCS") for line in skipped)
    assert any(line.startswith(f"skipped: {mixed / 'garbage.fits'}: not a readable FITS file") for line in skipped)
    assert any(
        line.startswith(f"skipped: {mixed / 'odd-filter.fits'}: filter 'W-X-Y' is not in the Suprime-Cam profile")
        for line in skipped
    )
    assert "error: 3 of 5 files skipped" in done.stderr and "--allow-skips" in done.stderr
    assert "ingested 2 images into ivoa.obscore" in done.stdout and "; 3 skipped" in done.stdout
    assert {"good-1", "good-2"} <= _obs_ids(own)  # the good files are in all the same


def test_allow_skips_exits_0_and_still_lists_the_skipped_files(own: Archive, mixed: Path) -> None:
    done = _ingest(own, "--allow-skips", str(mixed))
    assert done.returncode == 0, done.stderr
    assert sum(line.startswith("skipped: ") for line in done.stderr.splitlines()) == 3
    assert "error" not in done.stderr


def test_a_path_without_fits_files_exits_1_saying_so(own: Archive) -> None:
    empty = own.settings.archive_root / "empty"
    empty.mkdir()
    done = _ingest(own, str(empty))
    assert done.returncode == 1
    assert f"error: no FITS files (.fits, .fit, .fts, .fits.gz, .fit.gz) in {empty}" in done.stderr


def test_a_path_that_does_not_exist_is_a_skipped_file(own: Archive) -> None:
    missing = own.settings.archive_root / "missing.fits"
    done = _ingest(own, str(missing))
    assert done.returncode == 1
    assert f"skipped: {missing}: not a readable FITS file" in done.stderr
