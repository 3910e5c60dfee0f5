"""Find published datasets by their publisher DID, and the archive file behind each (and nothing
outside the archive directory).

DataLink, the preview, SODA, the cart and the quick look all start here: an ID is looked up in
ivoa.obscore among the rows the caller may see (``dalserver.access.visibility.row_filter``: a
hidden dataset is not found, exactly as an unknown one), compared case-insensitively as IVOIDs are; its access URL is given under this server's public URL when it
is one of the archive's own files (stored as ``data/<path>``: archive_io.product_urls), and such a
file is found, never outside the archive directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from archive_io.product_urls import archive_path, public_url
from dalserver.access.identity import Identity
from dalserver.access.visibility import row_filter
from dalserver.dali.faults import NotFoundFault, UsageFault
from pgsql_text.pgsphere import spoly_vertices


@dataclass(frozen=True)
class Dataset:
    did: str
    obs_id: str
    dataproduct_type: str | None
    access_url: str | None  # as the client is given it (this server's URL for the archive's own files)
    access_format: str | None
    s_ra: float | None
    s_dec: float | None
    s_fov: float | None
    footprint: tuple[tuple[float, float], ...]  # s_region's vertices (ra, dec), degrees
    em_min: float | None
    em_max: float | None
    path: Path | None  # the archive file, when access_url is one of the archive's own
    has_provenance: bool = False  # ingest.provenance knows where it came from

    @property
    def is_image(self) -> bool:
        return self.path is not None and self.dataproduct_type in ("image", "cube")


def local_file(stored_url: str | None, archive_root: Path) -> Path | None:
    """The archive file a stored ``access_url`` names (``data/<path>``); None for any other URL,
    and for a file that is gone."""
    relative = archive_path(stored_url)
    if relative is None:
        return None
    try:
        return archive_file(archive_root, relative)
    except NotFoundFault:  # published, but the file is gone: no links that need it
        return None


def archive_file(root: Path, relative: str) -> Path:
    """The file ``relative`` names under ``root``; refuse anything that would leave ``root``."""
    root = root.resolve()
    if "\x00" in relative or relative.startswith("/"):
        raise NotFoundFault("no such product")
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        raise NotFoundFault("no such product")
    return candidate


def _lookup(who: Identity) -> str:
    return (
        "SELECT o.obs_publisher_did, obs_id, dataproduct_type, access_url, access_format, s_ra, s_dec, s_fov, "
        "CAST(s_region AS text), em_min, em_max, p.obs_publisher_did IS NOT NULL FROM ivoa.obscore AS o "
        "LEFT JOIN ingest.provenance AS p ON p.obs_publisher_did = o.obs_publisher_did "
        f"WHERE lower(o.obs_publisher_did) = ANY(%s) AND {row_filter(who, 'o')}"
    )


async def find_datasets(
    pool: AsyncConnectionPool, ids: Sequence[str], archive_root: Path, base_url: str, who: Identity
) -> dict[str, Dataset]:
    """The datasets among ``ids`` that ``who`` may see, keyed by the lower-cased ID; unknown and
    hidden IDs are simply absent. ``base_url`` is the answering server's public URL."""
    if not ids:
        return {}
    if any("\x00" in i for i in ids):
        raise UsageFault("an ID cannot contain the NUL character")
    async with pool.connection() as conn:
        cursor = await conn.execute(_lookup(who), ([i.lower() for i in ids],))
        rows = await cursor.fetchall()
        await conn.rollback()
    found = {}
    for did, obs_id, kind, url, fmt, ra, dec, fov, region, em_min, em_max, known in rows:
        found[did.lower()] = Dataset(
            did,
            obs_id,
            kind,
            public_url(url, base_url),
            fmt,
            ra,
            dec,
            fov,
            spoly_vertices(region),
            em_min,
            em_max,
            local_file(url, archive_root),
            known,
        )
    return found


async def find_dataset(
    pool: AsyncConnectionPool, did: str, archive_root: Path, base_url: str, who: Identity
) -> Dataset | None:
    return (await find_datasets(pool, [did], archive_root, base_url, who)).get(did.lower())
