"""Where an ingested file came from: its place in the archive, size, checksum and modification
time, the header values its ObsCore row was derived from, and the software that derived it.
Stored in ingest.provenance with the ObsCore row (one transaction) and served as W3C PROV
(dalserver.datalink.provenance).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psycopg
from astropy.io import fits

# The WCS is read whole by astropy; these of its keywords say where on the sky the file lies.
WCS_KEYWORDS = ("CTYPE1", "CTYPE2", "CRVAL1", "CRVAL2", "RADESYS")


class HeaderReads:
    """A FITS header that remembers the keywords read through it, with their (JSON-able) values:
    the provenance lists what the ObsCore row was derived from, not a second hand-kept list."""

    def __init__(self, header: fits.Header):
        self._header = header
        self.read: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self._header else default

    def __getitem__(self, key: str) -> Any:
        value = self._header[key]
        if isinstance(value, bool | int | float | str):
            self.read[key] = value
        return value


@cache  # the installed version does not change during an ingest; looking it up costs 0.4 ms a file
def software() -> str:
    try:
        return f"dalserver {version('dalserver')}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "dalserver (source tree)"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def file_provenance(path: Path, archive_root: Path, did: str, values: dict[str, Any]) -> dict[str, Any]:
    stat = path.stat()
    return {
        "obs_publisher_did": did,
        "source_path": path.resolve().relative_to(archive_root.resolve()).as_posix(),
        "source_bytes": stat.st_size,
        "source_sha256": sha256(path),
        "source_modified": datetime.fromtimestamp(stat.st_mtime, UTC),
        "software": software(),
        "header_values": json.dumps(values),
    }


UPSERT = """
INSERT INTO ingest.provenance (obs_publisher_did, source_path, source_bytes, source_sha256, source_modified,
    ingested_at, software, header_values)
VALUES (%(obs_publisher_did)s, %(source_path)s, %(source_bytes)s, %(source_sha256)s, %(source_modified)s,
    now(), %(software)s, %(header_values)s::jsonb)
ON CONFLICT (obs_publisher_did) DO UPDATE SET source_path = EXCLUDED.source_path,
    source_bytes = EXCLUDED.source_bytes, source_sha256 = EXCLUDED.source_sha256,
    source_modified = EXCLUDED.source_modified, ingested_at = EXCLUDED.ingested_at,
    software = EXCLUDED.software, header_values = EXCLUDED.header_values
"""


def write_provenance(cur: psycopg.Cursor[Any], records: list[dict[str, Any]]) -> None:
    cur.executemany(UPSERT, records)
