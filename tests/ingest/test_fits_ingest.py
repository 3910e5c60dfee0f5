"""FITS images into ObsCore: footprints, spectral coverage, idempotent re-ingest, bad files."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from astropy.io import fits

from data_ingest.fits_images import ArchiveContext
from data_ingest.images import ingest_images
from data_ingest.instruments import shipped_profile
from schemas.model import builtin_schemas
from tests.support.archive import Archive

SUPRIMECAM = shipped_profile("Suprime-Cam")

OBSCORE = next(t for s in builtin_schemas() for t in s.tables if t.name == "obscore")


@pytest.fixture
def scratch_dir(archive: Archive, db: psycopg.Connection) -> Iterator[Path]:
    """A folder inside the archive whose rows are removed again after the test."""
    folder = archive.settings.archive_root / "ingest-tests"
    folder.mkdir()
    try:
        yield folder
    finally:
        db.execute("DELETE FROM ivoa.obscore WHERE access_url LIKE %s", ("%/ingest-tests/%",))
        shutil.rmtree(folder)


def _context(archive: Archive) -> ArchiveContext:
    s = archive.settings
    return ArchiveContext(s.archive_root, s.ivoid_authority)


def _copy_sample(archive: Archive, target: Path, frame_id: str) -> Path:
    source = next((archive.settings.archive_root / "suprimecam").glob("*.fits"))
    path = target / f"{frame_id}.fits"
    with fits.open(source) as hdul:
        hdul[0].header["FRAMEID"] = frame_id
        hdul.writeto(path)
    return path


def test_every_footprint_contains_its_centre(db: psycopg.Connection) -> None:
    total, inside = db.execute(
        "SELECT count(*), count(*) FILTER (WHERE spoint(radians(s_ra), radians(s_dec)) <@ s_region) FROM ivoa.obscore"
    ).fetchone()
    assert total == 132 and inside == total


def test_spectral_coverage_comes_from_the_filter_profile(db: psycopg.Connection) -> None:
    for band, em_min, em_max in db.execute("SELECT DISTINCT em_band_name, em_min, em_max FROM ivoa.obscore"):
        assert (em_min, em_max) == (SUPRIMECAM.filters[band].em_min, SUPRIMECAM.filters[band].em_max)


def test_time_and_exposure_come_from_the_header(archive: Archive, db: psycopg.Connection) -> None:
    path = next((archive.settings.archive_root / "suprimecam").glob("*.fits"))
    header = fits.getheader(path)
    t_min, t_max, t_exptime = db.execute(
        "SELECT t_min, t_max, t_exptime FROM ivoa.obscore WHERE obs_id = %s", (header["FRAMEID"],)
    ).fetchone()
    assert (t_min, t_max, t_exptime) == (header["MJD-OBS"], header["MJD-END"], header["EXPTIME"])


def test_reingesting_a_file_updates_its_row_instead_of_duplicating(
    archive: Archive, db: psycopg.Connection, scratch_dir: Path
) -> None:
    path = _copy_sample(archive, scratch_dir, "SUPMTEST000001")
    with psycopg.connect(archive.url) as conn:
        ingest_images(conn, [path], _context(archive), OBSCORE, progress=False)
        fits.setval(path, "EXPTIME", value=4321.0)
        ingest_images(conn, [path], _context(archive), OBSCORE, progress=False)
    found = db.execute("SELECT t_exptime FROM ivoa.obscore WHERE obs_id = 'SUPMTEST000001'").fetchall()
    assert found == [(4321.0,)]


def test_files_outside_the_archive_directory_are_refused(archive: Archive, tmp_path: Path) -> None:
    outside = _copy_sample(archive, tmp_path, "SUPMTEST000003")
    with psycopg.connect(archive.url) as conn:
        report = ingest_images(conn, [outside], _context(archive), OBSCORE, progress=False)
    assert report.ingested == 0
    assert "outside the archive directory" in report.skipped[0]
