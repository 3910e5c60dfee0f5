"""The products a cart names: published datasets looked up by DID as DataLink does
(dalserver.obscore.datasets), each with its archive file, its size and, from the ingest's provenance,
its SHA-256; IDs that name nothing published are kept apart, never guessed at."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from dalserver.access.identity import Identity
from dalserver.dali.faults import NotFoundFault, UsageFault
from dalserver.obscore.datasets import Dataset, find_datasets

# Checksums are the ingest's: valid while the file is the one it read (same place, same size).
_CHECKSUMS = (
    "SELECT lower(obs_publisher_did), source_path, source_bytes, source_sha256 FROM ingest.provenance "
    "WHERE lower(obs_publisher_did) = ANY(%s)"
)


@dataclass(frozen=True)
class Product:
    """One file of the archive, as a download names it."""

    did: str
    obs_id: str
    dataproduct_type: str | None
    path: Path  # the archive file
    name: str  # its path under the archive directory: the name in a zip and in a script
    url: str  # where a client fetches it (this server's /data URL)
    size: int
    sha256: str | None  # None when the ingest recorded none for this very file


@dataclass(frozen=True)
class Selection:
    products: tuple[Product, ...]
    unknown: tuple[str, ...] = ()  # IDs that name no published dataset
    elsewhere: tuple[Dataset, ...] = field(default=())  # published, but not a file of this archive

    @property
    def total_bytes(self) -> int:
        return sum(p.size for p in self.products)

    def refuse_unknown(self) -> None:
        """A download names only what is published: the first unknown IDs are named."""
        if self.unknown:
            shown = ", ".join(self.unknown[:3]) + (
                f" and {len(self.unknown) - 3} more" if len(self.unknown) > 3 else ""
            )
            raise NotFoundFault(
                f"{len(self.unknown)} of the requested IDs name no published dataset of this archive: {shown}; "
                "remove them from the request (they may have been retracted)"
            )


def requested_ids(values: Sequence[str], limit: int) -> list[str]:
    """The IDs of a request, blanks dropped and repeats removed (case-insensitively, as IVOIDs
    compare), in the order given."""
    seen: set[str] = set()
    ids = []
    for value in values:
        did = value.strip()
        if did and did.lower() not in seen:
            seen.add(did.lower())
            ids.append(did)
    if not ids:
        raise UsageFault("missing required parameter ID (the publisher DID of each dataset; repeat it)")
    if len(ids) > limit:
        raise UsageFault(f"{len(ids)} IDs were given; one request takes at most {limit:,}: split it", 413)
    return ids


async def _checksums(pool: AsyncConnectionPool, ids: Sequence[str]) -> dict[str, tuple[str, int, str]]:
    async with pool.connection() as conn:
        cursor = await conn.execute(_CHECKSUMS, ([i.lower() for i in ids],))
        rows = await cursor.fetchall()
        await conn.rollback()
    return {did: (path, size, digest) for did, path, size, digest in rows}


async def select_products(
    pool: AsyncConnectionPool, ids: Sequence[str], archive_root: Path, base_url: str, who: Identity
) -> Selection:
    """The products of ``ids`` that ``who`` may see, in the order given (the others are unknown);
    a file named by two IDs comes once."""
    datasets = await find_datasets(pool, ids, archive_root, base_url, who)
    checksums = await _checksums(pool, list(datasets))
    root = archive_root.resolve()
    products: list[Product] = []
    unknown: list[str] = []
    elsewhere: list[Dataset] = []
    files: set[Path] = set()
    for did in ids:
        dataset = datasets.get(did.lower())
        if dataset is None:
            unknown.append(did)
            continue
        if dataset.path is None or dataset.access_url is None:
            elsewhere.append(dataset)
            continue
        if dataset.path in files:
            continue
        files.add(dataset.path)
        name = dataset.path.relative_to(root).as_posix()
        size = dataset.path.stat().st_size
        recorded = checksums.get(did.lower())
        digest = recorded[2] if recorded and recorded[0] == name and recorded[1] == size else None
        products.append(
            Product(
                dataset.did,
                dataset.obs_id,
                dataset.dataproduct_type,
                dataset.path,
                name,
                dataset.access_url,
                size,
                digest,
            )
        )
    return Selection(tuple(products), tuple(unknown), tuple(elsewhere))
