"""This archive's own records into its relational registry (rr), so that pyvo.regsearch finds
its services: at every server start and after every ingest or drop (``dalserver`` commands).
Only records whose content changed are rewritten."""

from __future__ import annotations

import logging

import psycopg
from anyio import to_thread
from psycopg_pool import AsyncConnectionPool

from dalserver.records.regtap import sync_local
from dalserver.records.store import published
from dalserver.settings import Settings

log = logging.getLogger(__name__)


async def publish_local(pool: AsyncConnectionPool, url: str, settings: Settings) -> int:
    """Build the records from the archive's state and load the changed ones; how many changed."""
    records = (await published(pool, settings, store=True)).records
    rows = [(r.ivoid, r.datestamp, r.resource) for r in records]

    def load() -> int:
        with psycopg.connect(url) as conn:
            return sync_local(conn, rows)

    changed = await to_thread.run_sync(load)
    if changed:
        log.info("relational registry: %d of this archive's records written or removed", changed)
    return changed
