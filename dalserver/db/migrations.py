"""What a newer dalserver changes in the values an older one stored, done at bootstrap in the same
transaction as the schema upgrade: idempotent, and cheap when there is nothing left to change.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import psycopg

from archive_io.product_urls import stored_url

log = logging.getLogger(__name__)

# Rows ingested with an absolute access URL (before URLs were stored relative to the public
# URL): those whose value is not 'data/...', found through the byte-ordered index on
# access_url (obscore_access_url), so an archive that has none is checked in a moment.
_ABSOLUTE = (
    "SELECT o.obs_publisher_did, o.access_url, p.source_path FROM ivoa.obscore AS o "
    "JOIN ingest.provenance AS p ON p.obs_publisher_did = o.obs_publisher_did "
    "WHERE o.access_url ~<~ 'data/' OR o.access_url ~>=~ 'data0'"
)
_SET = "UPDATE ivoa.obscore SET access_url = %s WHERE obs_publisher_did = %s"


def relative_access_urls(conn: psycopg.Connection) -> int:
    """Rewrite the access URLs dalserver once stored as ``<public URL at ingest>/data/<path>`` to
    the ``data/<path>`` every server renders under its own URL; how many rows changed.

    Only rows whose URL ends in ``/data/`` and the path of the file they were ingested from (their
    provenance says which) are rewritten; any other URL an operator wrote is left as it is."""
    changes = []
    for did, url, source_path in conn.execute(_ABSOLUTE).fetchall():
        if "://" in url and url.endswith((f"/data/{source_path}", f"/data/{quote(source_path, safe='/')}")):
            changes.append((stored_url(source_path), did))
    if changes:
        with conn.cursor() as cur:
            cur.executemany(_SET, changes)
        log.info("%d access URLs of ivoa.obscore made relative to the public URL", len(changes))
    return len(changes)


# An archive from before release dates, whose every row was public: its ObsCore has rows but no
# obs_release_date column yet.
_WITHOUT_RELEASE_DATES = (
    "SELECT to_regclass('ivoa.obscore') IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_attribute "
    "WHERE attrelid = to_regclass('ivoa.obscore') AND attname = 'obs_release_date' AND NOT attisdropped)"
)


def keep_existing_rows_public(conn: psycopg.Connection) -> int:
    """Give the rows of an archive made before release dates existed the release date of their
    ingest (else now), so that they stay public as they were: a NULL release date would make them
    proprietary (ObsCore 1.1 sec. B.4.5). Run before the schema upgrade adds the column; how many
    rows got a date."""
    if not conn.execute(_WITHOUT_RELEASE_DATES).fetchone()[0]:  # type: ignore[index]  # a SELECT without FROM returns exactly one row
        return 0
    conn.execute("ALTER TABLE ivoa.obscore ADD COLUMN obs_release_date timestamptz")
    ingested = "now()"
    if conn.execute("SELECT to_regclass('ingest.provenance') IS NOT NULL").fetchone()[0]:  # type: ignore[index]  # a SELECT without FROM returns exactly one row
        ingested = (
            "coalesce((SELECT p.ingested_at FROM ingest.provenance AS p "
            "WHERE p.obs_publisher_did = ivoa.obscore.obs_publisher_did), now())"
        )
    changed = conn.execute(f"UPDATE ivoa.obscore SET obs_release_date = {ingested}").rowcount
    log.info("%d rows of ivoa.obscore made before release dates stay public (released when ingested)", changed)
    return changed
