"""HiPS test helpers: source images described by the real ingest (no database), the sample
stacks of a few bands written once per session, copies of stacks moved to another field, an
archive of a test's own to ingest them into, and CDS Hipsgen's check of a survey."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from archive_io import hips_properties as props
from data_ingest.fits_images import ArchiveContext, describe_fits
from data_ingest.sample import write_sample
from hips_build.images import SourceImage, unit_vectors
from pgsql_text.pgsphere import spoly_vertices
from tests.support.archive import Archive
from tests.support.own_archive import own_archive


def source_images(paths: Iterable[Path], archive_root: Path) -> list[SourceImage]:
    """The images as ``dalserver ingest images`` would describe them into ObsCore."""
    context = ArchiveContext(archive_root, "dalserver.test")
    found = []
    for path in paths:
        row, _ = describe_fits(path, context)
        stat = path.stat()
        found.append(
            SourceImage(
                did=row["obs_publisher_did"],
                path=path.resolve(),
                fingerprint=f"stat:{stat.st_size}:{stat.st_mtime_ns}",
                collection=row["obs_collection"],
                band=row["em_band_name"],
                footprint=spoly_vertices(row["s_region"]),
                em_min=row["em_min"],
                em_max=row["em_max"],
                t_min=row["t_min"],
                t_max=row["t_max"],
            )
        )
    return found


def sample_images(directory: Path, bands: Iterable[str]) -> list[SourceImage]:
    """The sample's stacks of ``bands``, written into ``directory`` (the archive root)."""
    wanted = set(bands)
    paths = write_sample(directory / "suprimecam")
    images = source_images(paths, directory)
    return [i for i in images if i.band in wanted]


# The bands of the surveys the session's server publishes (``served_surveys`` in tests/conftest.py):
# the four central stacks of three narrow and intermediate bands, so the build takes seconds.
SERVED_BANDS = ("I-A-L598", "N-A-L503", "N-B-L497")


def shifted_copies(
    paths: Iterable[Path], directory: Path, ra: float, dec: float, tag: str, pixel_scale_factor: float = 1.0
) -> list[Path]:
    """Copies of sample stacks moved to another field centred on (``ra``, ``dec``), keeping their
    places relative to each other, as images of another pointing: their own FRAMEID (so their
    own ObsCore rows), OBJECT and file name. ``pixel_scale_factor`` below 1 makes their pixels
    finer (the same array on a smaller patch of sky)."""
    sources = list(paths)
    headers = [fits.getheader(p) for p in sources]
    vectors = unit_vectors(np.array([h["CRVAL1"] for h in headers]), np.array([h["CRVAL2"] for h in headers]))
    mean = vectors.mean(axis=0)
    centre_ra = math.degrees(math.atan2(mean[1], mean[0])) % 360.0
    centre_dec = math.degrees(math.asin(mean[2] / np.linalg.norm(mean)))
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sources:
        with fits.open(path) as hdul:
            hdu = fits.PrimaryHDU(hdul[0].data, header=hdul[0].header.copy())
        header = hdu.header
        # The same angular offsets from the field's centre, at the new place.
        d_ra = (header["CRVAL1"] - centre_ra) * math.cos(math.radians(centre_dec)) / math.cos(math.radians(dec))
        header["CRVAL1"] = (ra + d_ra) % 360.0
        header["CRVAL2"] = dec + (header["CRVAL2"] - centre_dec)
        for key in ("CD1_1", "CD1_2", "CD2_1", "CD2_2", "CDELT1", "CDELT2"):
            if key in header:
                header[key] = header[key] * pixel_scale_factor
        header["FRAMEID"] = f"{tag}-{header['FRAMEID']}"
        header["OBJECT"] = tag
        target = directory / f"{header['FRAMEID']}.fits"
        hdu.writeto(target, overwrite=True, output_verify="exception")
        written.append(target)
    return written


def sample_stacks(sample_dir: Path, band: str) -> list[Path]:
    """The sample's stacks of ``band`` (files under ``sample_dir``), in name order."""
    return sorted(p for p in sample_dir.glob("*.fits") if fits.getheader(p)["FILTER01"] == band)


@dataclass
class HipsArchive:
    """An archive of a test's own (``tests.support.own_archive``) with what a HiPS test does to it:
    ingest, run ``dalserver``, read a survey's properties."""

    archive: Archive

    @property
    def images(self) -> Path:
        return self.archive.settings.archive_root

    @property
    def hips(self) -> Path:
        return self.archive.settings.hips_root

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """The real ``dalserver`` command on this archive."""
        done = subprocess.run(
            [sys.executable, "-m", "dalserver", *args],
            env=self.archive.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if check:
            assert done.returncode == 0, f"dalserver {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    def ingest(self, folder: Path, files: Iterable[Path]) -> None:
        """Copy ``files`` into the archive's ``folder`` and ingest them."""
        target = self.images / folder
        target.mkdir(parents=True, exist_ok=True)
        for path in files:
            shutil.copyfile(path, target / path.name)
        self.run("ingest", "images", "--quiet", str(target))

    def properties(self, survey: str) -> dict[str, str]:
        return props.parse((self.hips / survey / "properties").read_text(encoding="utf-8"))


@contextmanager
def hips_archive(archive: Archive, home: Path, database: str) -> Iterator[HipsArchive]:
    """An empty archive in ``home`` with the database ``database`` (dropped afterwards)."""
    with own_archive(archive, home, database) as made:
        yield HipsArchive(made)


HIPSGEN = ["java", "-jar", "/usr/share/java/aladin.jar", "-hipsgen"]


def hipsgen_lint(survey: Path) -> str:
    """CDS Hipsgen's check of a HiPS against HiPS 1.0 (Debian's ``aladin``), its output."""
    done = subprocess.run([*HIPSGEN, f"out={survey}", "LINT"], capture_output=True, text=True, timeout=300)
    return done.stdout + done.stderr
