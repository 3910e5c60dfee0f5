"""What the ``dalserver registry`` command does: show the archive's records (and, with
``harvest``, fill the local RegTAP from another registry)."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from psycopg_pool import AsyncConnectionPool

from dalserver.db.session import setup_statements
from dalserver.records.build import record_xml
from dalserver.records.store import Published, published
from dalserver.settings import Settings


async def _configure(conn: object) -> None:
    await conn.set_autocommit(True)  # type: ignore[attr-defined]
    for statement in setup_statements("dalserver-registry"):
        await conn.execute(statement)  # type: ignore[attr-defined]
    await conn.set_autocommit(False)  # type: ignore[attr-defined]


async def read_published(url: str, settings: Settings) -> Published:
    async with AsyncConnectionPool(url, min_size=1, max_size=2, open=False, configure=_configure) as pool:
        return await published(pool, settings)


def show(url: str, settings: Settings, full: bool, out: TextIO = sys.stdout) -> int:
    """A line per record (identifier, type, datestamp, title); with ``full``, the records' XML."""
    records = asyncio.run(read_published(url, settings)).records
    for record in records:
        if full and record.resource is not None:
            out.write(record_xml(record).decode())
            continue
        kind = (
            "deleted"
            if record.resource is None
            else record.resource.get("{http://www.w3.org/2001/XMLSchema-instance}type")
        )
        out.write(f"{record.ivoid}\t{kind}\t{record.datestamp:%Y-%m-%dT%H:%M:%SZ}\t{record.title}\n")
    if not full:
        out.write(f"{len(records)} records; OAI-PMH at {settings.public_url}/oai\n")
    return 0
