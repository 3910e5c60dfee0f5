"""Which images the archive publishes: the public image rows of ``ivoa.obscore`` with their
footprints, and the file behind each (``ingest.provenance``'s path, or the archive path
``access_url`` stores). HiPS tiles are the pixels, served to anybody: a proprietary image joins the
surveys when its release date has passed and the surveys are rebuilt (``dalserver release``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg

from archive_io.product_urls import archive_path
from archive_io.release import released_sql
from hips_build.images import SourceImage
from pgsql_text.pgsphere import spoly_vertices
from pgsql_text.session import SPHERE_OUTPUT_DEGREES

_QUERY = """
SELECT o.obs_publisher_did, o.obs_collection, {band}, o.em_min, o.em_max, o.t_min, o.t_max,
       CAST(o.s_region AS text), o.access_url, p.source_path, p.source_sha256
FROM ivoa.obscore AS o LEFT JOIN ingest.provenance AS p ON p.obs_publisher_did = o.obs_publisher_did
WHERE o.dataproduct_type = 'image' AND o.s_region IS NOT NULL AND {released}
ORDER BY o.obs_collection, 3, o.obs_publisher_did
"""


def _file(archive_root: Path, source_path: str | None, access_url: str | None) -> Path | None:
    """The archive file of a row, never one outside the archive directory."""
    relative = source_path if source_path is not None else archive_path(access_url)
    if relative is None:
        return None
    root = archive_root.resolve()
    candidate = (root / relative).resolve()
    return candidate if candidate.is_relative_to(root) else None


def _fingerprint(path: Path, sha256: str | None) -> str:
    if sha256:
        return f"sha256:{sha256}"
    stat = path.stat()
    return f"stat:{stat.st_size}:{stat.st_mtime_ns}"


def obscore_images(
    conn: psycopg.Connection, archive_root: Path, warn: Callable[[str], None] | None = None
) -> list[SourceImage]:
    """Every published image whose file is in the archive, by collection and band."""
    with conn.cursor() as cur:
        cur.execute(SPHERE_OUTPUT_DEGREES)
        cur.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_schema = 'ivoa' AND table_name = 'obscore' AND column_name = 'em_band_name'"
        )
        band = "o.em_band_name" if cur.fetchone() else "CAST(NULL AS text)"
        cur.execute(_QUERY.format(band=band, released=released_sql("o")))
        rows = cur.fetchall()
    conn.rollback()  # nothing was written; leave no transaction open
    images = []
    for did, collection, band_name, em_min, em_max, t_min, t_max, region, url, source_path, sha in rows:
        path = _file(archive_root, source_path, url)
        if path is None or not path.is_file():
            if warn:
                warn(f"{did}: its file is not in the archive directory {archive_root}")
            continue
        footprint = spoly_vertices(region)
        if len(footprint) < 3:
            if warn:
                warn(f"{did}: s_region is not a polygon ({region!r})")
            continue
        images.append(
            SourceImage(
                did=did,
                path=path,
                fingerprint=_fingerprint(path, sha),
                collection=collection or "images",
                band=band_name,
                footprint=footprint,
                em_min=em_min,
                em_max=em_max,
                t_min=t_min,
                t_max=t_max,
            )
        )
    return images
