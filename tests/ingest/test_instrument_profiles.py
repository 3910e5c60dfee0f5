"""Instrument profiles as YAML: the shipped Suprime-Cam profile and a site's own in
$DALSERVER_HOME/instruments/ are read by the same loader; a wrong profile is refused naming the
file and the key; a site profile gives a new instrument's images their facility, collection,
band and wavelength range, and the spellings it lists are recorded for SIA."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from data_ingest.instruments import SHIPPED_DIR, ProfileError, load_profiles, shipped_profile
from data_ingest.instruments.profile_file import load_profile
from tests.support.archive import Archive
from tests.support.fits_images import small_image
from tests.support.own_archive import own_archive

MYCAM = """
instrument: {name: MyCam, spellings: [MY-CAM-1]}
facility: {name: Small Telescope, spellings: [SMALLTEL]}
collection: Small/MyCam
filter_keywords: FILTNAME
wavelength_unit: nm
filters:
  r: [550, 700]
  Ha: ["655 nm", "0.6606 um"]
  X: ["1 keV", "2 keV"]
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_the_shipped_suprime_cam_profile_is_a_yaml_file_read_by_the_one_loader() -> None:
    profile = shipped_profile("SuprimeCam")
    assert profile.source == SHIPPED_DIR / "suprimecam.yaml"
    assert profile == load_profile(SHIPPED_DIR / "suprimecam.yaml")
    assert (profile.instrument_name, profile.facility_name, profile.collection) == (
        "Suprime-Cam",
        "Subaru",
        "Subaru/Suprime-Cam",
    )
    assert profile.filter_keywords == ("FILTER01",) and len(profile.filters) == 12
    rc = profile.filters["W-C-RC"]
    assert (rc.name, rc.em_min, rc.em_max) == ("W-C-RC", 595.5 * 1e-9, 708.5 * 1e-9)  # nm, as written


def test_a_site_profile_converts_its_wavelengths_to_metres_from_any_spectral_unit(tmp_path: Path) -> None:
    profile = load_profile(_write(tmp_path, "mycam.yaml", MYCAM))
    assert profile.instrument_spellings == ("MY-CAM-1",) and profile.facility_spellings == ("SMALLTEL",)
    assert profile.filter_keywords == ("FILTNAME",)
    assert (profile.filters["R"].em_min, profile.filters["R"].em_max) == pytest.approx((550e-9, 700e-9))
    assert (profile.filters["HA"].em_min, profile.filters["HA"].em_max) == pytest.approx((655e-9, 660.6e-9))
    # An energy range turns round in wavelength: 2 keV is the short end.
    assert (profile.filters["X"].em_min, profile.filters["X"].em_max) == pytest.approx((0.61992e-9, 1.23984e-9), 1e-4)
    assert profile.filter("ha ") is profile.filters["HA"] and profile.filters["HA"].name == "Ha"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("instrument: A\nfacility: B\nfilters: {r: [1 nm, 2 nm]}", "collection: required, but missing"),
        (
            "instrument: A\nfacility: B\ncolection: C\nfilters: {r: [1 nm, 2 nm]}",
            "colection: unknown key (a typo?); collection: required, but missing",
        ),
        ("instrument: A\nfacility: B\ncollection: C\nfilters: {r: [500, 600]}", "filters.r[0]: 500 has no unit"),
        (
            "instrument: A\nfacility: B\ncollection: C\nwavelength_unit: nmm\nfilters: {r: [500, 600]}",
            "wavelength_unit: 'nmm' is not a unit of wavelength, frequency or energy",
        ),
        (
            "instrument: A\nfacility: B\ncollection: C\nfilters: {r: [500 kg, 600 nm]}",
            "filters.r[0]: 'kg' (mass) and 'm' (length) are not convertible",
        ),
        (
            "instrument: A\nfacility: B\ncollection: C\nfilters: {r: [1 nm, 2 nm, 3 nm]}",
            "filters.r: expected two bounds",
        ),
        ("instrument: A\nfacility: B\ncollection: C\nfilters: {r: [2 nm, 2 nm]}", "filters.r: the range is empty"),
        ("instrument: A\nfacility: B\ncollection: C\nfilters: {r: [-1 nm, 2 nm]}", "is not a positive wavelength"),
        ("instrument: A\nfacility: B\ncollection: C\nfilters: {}", "filters: must not be empty"),
        (
            "instrument: A\nfacility: B\ncollection: C\nfilters: {r: [1 nm, 2 nm], R: [3 nm, 4 nm]}",
            "filters.R: the same filter as 'r'",
        ),
        (
            "instrument: A\nfacility: B\ncollection: C\nfilters: {ON: [1 nm, 2 nm]}",
            "filters: a name that YAML reads as a number or a boolean (1, ON, yes) must be in quotes",
        ),
        (
            "instrument: {name: A, spelings: [a]}\nfacility: B\ncollection: C\nfilters: {r: [1 nm, 2 nm]}",
            "instrument.spelings: unknown key",
        ),
        ("instrument: [A]\nfacility: B\ncollection: C\nfilters: {r: [1 nm, 2 nm]}", "instrument: expected a name"),
        ("instrument: A\nfacility: [B\n", "not valid YAML at line 3, column 1"),
        ("- A\n", "an instrument profile is a mapping"),
    ],
)
def test_a_wrong_profile_is_refused_naming_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "wrong.yaml", text)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)


def test_a_site_profile_replaces_the_shipped_one_for_the_spellings_it_describes(tmp_path: Path) -> None:
    site = tmp_path / "instruments"
    _write(
        site, "suprime.yaml", "instrument: SuprimeCam\nfacility: NAOJ\ncollection: Mine\nfilters: {W-J-V: [1 nm, 2 nm]}"
    )
    _write(site, "mycam.yaml", MYCAM)
    profiles = load_profiles([site])
    assert profiles.profile_for("Suprime-Cam").collection == "Mine"  # same letters, same instrument
    assert profiles.profile_for("my cam").instrument_name == "MyCam"
    assert profiles.profile_for("MY-CAM-1").instrument_name == "MyCam"
    assert sorted(p.instrument_name for p in profiles) == ["MyCam", "SuprimeCam"]
    assert load_profiles([]).profile_for("Suprime-Cam").collection == "Subaru/Suprime-Cam"


def test_two_site_profiles_of_one_instrument_are_refused_naming_both(tmp_path: Path) -> None:
    site = tmp_path / "instruments"
    first = _write(site, "a.yaml", MYCAM)
    second = _write(site, "b.yml", "instrument: My Cam\nfacility: B\ncollection: C\nfilters: {r: [1 nm, 2 nm]}")
    with pytest.raises(ProfileError) as caught:
        load_profiles([site])
    assert str(caught.value).startswith(f"{second}: instrument: 'My Cam'") and str(first) in str(caught.value)


@pytest.fixture(scope="module")
def site_archive(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    with own_archive(archive, tmp_path_factory.mktemp("site-profiles"), "dalserver_profiles_test") as own:
        yield own


def _ingest(archive: Archive, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dalserver", "ingest", "images", "--quiet", *map(str, paths)],
        env=archive.env,
        capture_output=True,
        text=True,
    )


def test_a_site_profile_gives_a_new_instruments_images_facility_collection_and_band(site_archive: Archive) -> None:
    _write(site_archive.settings.home / "instruments", "mycam.yaml", MYCAM)
    folder = site_archive.settings.archive_root / "mycam"
    folder.mkdir()
    small_image(folder / "mc-r.fits", INSTRUME="MY CAM", TELESCOP="small", FILTNAME="r")
    small_image(folder / "mc-ha.fits", INSTRUME="MyCam", FILTNAME="HA")
    done = _ingest(site_archive, folder)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr
    with psycopg.connect(site_archive.url) as conn:
        rows = conn.execute(
            "SELECT obs_id, facility_name, instrument_name, obs_collection, em_band_name, em_min, em_max "
            "FROM ivoa.obscore ORDER BY obs_id"
        ).fetchall()
        spellings = conn.execute(
            "SELECT column_name, spelling, published FROM ingest.spellings ORDER BY 1, 2"
        ).fetchall()
    assert rows == [
        ("mc-ha", "Small Telescope", "MyCam", "Small/MyCam", "Ha", pytest.approx(655e-9), pytest.approx(660.6e-9)),
        ("mc-r", "Small Telescope", "MyCam", "Small/MyCam", "r", pytest.approx(550e-9), pytest.approx(700e-9)),
    ]
    # The profile's spellings and the one a header really wrote, for SIA's INSTRUMENT and FACILITY.
    assert spellings == [
        ("facility_name", "SMALLTEL", "Small Telescope"),
        ("instrument_name", "MY CAM", "MyCam"),
        ("instrument_name", "MY-CAM-1", "MyCam"),
    ]


def test_the_ingest_refuses_a_wrong_site_profile_naming_file_and_key(site_archive: Archive) -> None:
    wrong = _write(
        site_archive.settings.home / "instruments",
        "wrong.yaml",
        "instrument: X\nfacility: Y\ncollection: Z\nfilters: {r: [1, 2]}",
    )
    try:
        folder = site_archive.settings.archive_root / "refused"
        folder.mkdir()
        small_image(folder / "refused-1.fits", INSTRUME="X", FILTER="r")
        done = _ingest(site_archive, folder)
        assert done.returncode == 2
        assert f"error: instrument profile {wrong}: filters.r[0]: 1 has no unit" in done.stderr
        assert "nothing was ingested" in done.stderr
        with psycopg.connect(site_archive.url) as conn:
            assert conn.execute("SELECT count(*) FROM ivoa.obscore WHERE obs_id = 'refused-1'").fetchone() == (0,)
    finally:
        wrong.unlink()


def test_images_without_a_profile_or_a_time_are_ingested_with_warnings(site_archive: Archive) -> None:
    folder = site_archive.settings.archive_root / "unprofiled"
    folder.mkdir()
    small_image(folder / "other-1.fits", INSTRUME="OtherCam", TELESCOP="Far", FILTER="g")
    small_image(folder / "other-2.fits", without=("MJD-OBS",), INSTRUME="OtherCam", TELESCOP="Far", FILTER="g")
    done = _ingest(site_archive, folder)
    assert done.returncode == 0, done.stderr
    assert "ingested 2 images" in done.stdout
    lines = done.stderr.splitlines()
    assert any(line.startswith("warning: 2 images have no instrument profile") for line in lines)
    assert f"  {folder / 'other-1.fits'}: INSTRUME 'OtherCam', filter 'g'" in lines
    assert any(line.startswith("warning: 1 image has no observation time") for line in lines)
    assert f"  {folder / 'other-2.fits'}: neither MJD-OBS nor DATE-OBS" in lines
    with psycopg.connect(site_archive.url) as conn:
        found = conn.execute(
            "SELECT obs_id, facility_name, obs_collection, em_band_name, em_min, t_min FROM ivoa.obscore "
            "WHERE instrument_name = 'OtherCam' ORDER BY obs_id"
        ).fetchall()
    assert found == [
        ("other-1", "Far", "OtherCam", "g", None, 53000.0),
        ("other-2", "Far", "OtherCam", "g", None, None),
    ]
