"""Retract published images: their ObsCore rows and provenance are removed and the registry state
of their collections recomputed from the rows left (coverage, dates, a collection left empty
becoming a deleted record), all in one transaction. Files are the caller's, after the commit:
the images themselves stay where they are, and the server's cached previews of them go.

Images are named by publisher DID (compared case-insensitively, as IVOIDs are) or by a path under
the archive directory: a file, or a directory for every image under it; a path may name files
that are gone. ``prune_images`` retracts the images under some paths whose files are gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from tqdm import tqdm

from archive_io.product_urls import PRODUCTS, archive_path, stored_url
from archive_io.registry_state import record_collections

_BATCH = 1000  # rows deleted per statement (and per step of the progress bar)
_SELECT = (
    "SELECT o.obs_publisher_did, o.obs_collection, p.source_path, o.access_url FROM ivoa.obscore AS o "
    "LEFT JOIN ingest.provenance AS p ON p.obs_publisher_did = o.obs_publisher_did WHERE "
)


class RetractError(Exception):
    """Some of what was asked for names no published image; nothing was retracted."""

    def __init__(self, problems: Sequence[str]):
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Retracted:
    did: str
    collection: str
    source_path: str | None  # the file, relative to the archive directory (None: not one of its files)


def _rows(db: psycopg.Cursor, condition: str, params: tuple[object, ...]) -> list[Retracted]:
    found = []
    for did, collection, source_path, url in db.execute(_SELECT + condition, params).fetchall():
        found.append(Retracted(did, collection, source_path if source_path is not None else archive_path(url)))
    return found


def _by_dids(db: psycopg.Cursor, dids: list[str]) -> dict[str, list[Retracted]]:
    """The rows of these publisher DIDs, by lower-cased DID."""
    found: dict[str, list[Retracted]] = {}
    if dids:
        for row in _rows(db, "lower(o.obs_publisher_did) = ANY(%s)", ([d.lower() for d in dids],)):
            found.setdefault(row.did.lower(), []).append(row)
    return found


def _under(db: psycopg.Cursor, relative: str, directory: bool) -> list[Retracted]:
    """The rows whose file is ``relative`` (a path under the archive directory), or lies under it
    when it may be a directory; by the ingest's provenance or by the stored access URL."""
    if relative in ("", "."):  # the archive directory itself
        return _rows(db, "p.source_path IS NOT NULL OR starts_with(o.access_url, %s)", (PRODUCTS,))
    condition = "p.source_path = %s OR o.access_url = %s"
    params: tuple[object, ...] = (relative, stored_url(relative))
    if directory:
        condition += " OR starts_with(p.source_path, %s) OR starts_with(o.access_url, %s)"
        params += (relative + "/", stored_url(relative) + "/")
    return _rows(db, condition, params)


def _archive_relative(item: str, root: Path) -> str | None:
    """``item`` as a path under ``root`` (POSIX), or None when it lies outside."""
    resolved = Path(item).absolute().resolve()  # a file that is gone resolves as far as its parents exist
    if not resolved.is_relative_to(root):
        return None
    return resolved.relative_to(root).as_posix()


def is_did(item: str) -> bool:
    return item.lower().startswith("ivo://")


def images_named(db: psycopg.Cursor, items: Sequence[str], archive_root: Path) -> list[Retracted]:
    """The published images ``items`` name (DIDs, files, directories), each once; RetractError
    naming every item that names none or lies outside the archive directory."""
    root = archive_root.resolve()
    problems: list[str] = []
    by_did = _by_dids(db, [i for i in items if is_did(i)])
    found: dict[str, Retracted] = {}
    for item in items:
        if is_did(item):
            rows = by_did.get(item.lower(), [])
            if not rows:
                problems.append(f"{item}: no published image has this publisher DID")
        else:
            relative = _archive_relative(item, root)
            if relative is None:
                problems.append(f"{item}: outside the archive directory {root}")
                continue
            path = root / relative
            rows = _under(db, relative, directory=path.is_dir() or not path.exists())
            if not rows:
                where = "under" if path.is_dir() else "at" if path.exists() else "at or under"
                problems.append(f"{item}: no published image's file is {where} this path")
        for row in rows:
            found.setdefault(row.did, row)
    if problems:
        raise RetractError(problems)
    return sorted(found.values(), key=lambda r: r.did)


def _remove(db: psycopg.Cursor, images: Sequence[Retracted], progress: bool) -> None:
    dids = [i.did for i in images]
    with tqdm(total=len(dids), desc="retracting", unit="image", disable=not progress or len(dids) <= _BATCH) as bar:
        for start in range(0, len(dids), _BATCH):
            chunk = dids[start : start + _BATCH]
            db.execute("DELETE FROM ingest.provenance WHERE obs_publisher_did = ANY(%s)", (chunk,))
            db.execute("DELETE FROM ivoa.obscore WHERE obs_publisher_did = ANY(%s)", (chunk,))
            bar.update(len(chunk))
    record_collections(db, {i.collection for i in images})


def retract_images(
    conn: psycopg.Connection, items: Sequence[str], archive_root: Path, progress: bool = False
) -> list[Retracted]:
    """Retract the images ``items`` name, in one transaction: all of them, or (RetractError)
    none when any item names no published image."""
    with conn.transaction(), conn.cursor() as cur:
        images = images_named(cur, items, archive_root)
        _remove(cur, images, progress)
    return images


def prune_images(
    conn: psycopg.Connection, paths: Iterable[Path], archive_root: Path, progress: bool = False
) -> list[Retracted]:
    """Retract, in one transaction, the published images whose files under ``paths`` (files or
    directories) are gone; paths outside the archive directory hold none."""
    root = archive_root.resolve()
    with conn.transaction(), conn.cursor() as cur:
        candidates: dict[str, Retracted] = {}
        for path in paths:
            relative = _archive_relative(str(path), root)
            if relative is None:
                continue
            for row in _under(cur, relative, directory=not (root / relative).is_file()):
                candidates.setdefault(row.did, row)
        gone = [r for r in candidates.values() if r.source_path is not None and not (root / r.source_path).is_file()]
        gone.sort(key=lambda r: r.did)
        if gone:
            _remove(cur, gone, progress)
    return gone
