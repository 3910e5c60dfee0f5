"""HiPS test helpers: source images described by the real ingest (no database), and the sample
stacks of a few bands written once per session."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from data_ingest.fits_images import ArchiveContext, describe_fits
from data_ingest.sample import write_sample
from hips_build.images import SourceImage
from hips_build.obscore_images import polygon_vertices


def source_images(paths: Iterable[Path], archive_root: Path) -> list[SourceImage]:
    """The images as ``dalserver ingest images`` would describe them into ObsCore."""
    context = ArchiveContext(archive_root, "http://127.0.0.1", "dalserver.test")
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
                footprint=polygon_vertices(row["s_region"]),
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
