"""What the ``dalserver registry`` command does: show the archive's records (and, with
``harvest``, fill the local RegTAP from another registry)."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from dalserver.records.build import record_xml
from dalserver.records.publish import publish_local
from dalserver.records.state import ensure_service_rows
from dalserver.records.store import Published, published
from dalserver.settings import Settings
from ivoa.vocabulary import XSI_TYPE
from pgsql_text.session import setup_statements


async def _configure(conn: AsyncConnection) -> None:
    await conn.set_autocommit(True)
    for statement in setup_statements("dalserver-registry"):
        await conn.execute(statement)
    await conn.set_autocommit(False)


async def read_published(url: str, settings: Settings) -> Published:
    async with AsyncConnectionPool(url, min_size=1, max_size=2, open=False, configure=_configure) as pool:
        return await published(pool, settings)


async def _with_records_url(pool: AsyncConnectionPool, settings: Settings, own_url: bool) -> Settings:
    """The settings the records are built with. With ``own_url`` (``dalserver registry refresh``,
    which a server runs at its start) the records carry this command's public URL, which is
    remembered; otherwise (the refresh after an ingest, a drop, a HiPS build) the one remembered, so
    that an ingest run without the server's DALSERVER_PORT or DALSERVER_BASE_URL does not give the
    relational registry addresses nobody serves."""
    async with pool.connection() as conn:
        if own_url:
            await conn.execute(
                "INSERT INTO registry.records_url (one_row, public_url, updated) VALUES (TRUE, %s, now()) "
                "ON CONFLICT (one_row) DO UPDATE SET public_url = EXCLUDED.public_url, updated = EXCLUDED.updated",
                (settings.public_url,),
            )
            await conn.commit()
            return settings
        row = await (await conn.execute("SELECT public_url FROM registry.records_url")).fetchone()
        await conn.rollback()
    if row is None or row[0] == settings.public_url:
        return settings
    return settings.model_copy(update={"base_url": row[0]})


def refresh(url: str, settings: Settings, own_url: bool = False) -> int:
    """Load this archive's changed records into its relational registry; how many changed. The
    records' URLs are under this command's public URL with ``own_url``, else under the one the
    last ``own_url`` refresh (a server's start) used."""

    async def run() -> int:
        async with AsyncConnectionPool(url, min_size=1, max_size=2, open=False, configure=_configure) as pool:
            await ensure_service_rows(pool)
            return await publish_local(pool, url, await _with_records_url(pool, settings, own_url))

    return asyncio.run(run())


def show(url: str, settings: Settings, full: bool, out: TextIO = sys.stdout) -> int:
    """A line per record (identifier, type, datestamp, title); with ``full``, the records' XML."""
    records = asyncio.run(read_published(url, settings)).records
    for record in records:
        if full and record.resource is not None:
            out.write(record_xml(record).decode())
            continue
        kind = "deleted" if record.resource is None else record.resource.get(XSI_TYPE)
        out.write(f"{record.ivoid}\t{kind}\t{record.datestamp:%Y-%m-%dT%H:%M:%SZ}\t{record.title}\n")
    if not full:
        out.write(f"{len(records)} records; OAI-PMH at {settings.public_url}/oai\n")
    return 0


def harvest(url: str, settings: Settings, source: str, full: bool = False, progress: bool = True) -> int:
    """Harvest ``source`` into the relational registry; prints a summary; 1 if it could not finish."""
    from dalserver.records.validation import RecordValidator
    from dalserver.registry.harvest import HarvestError
    from dalserver.registry.harvest import harvest as run

    validator = RecordValidator(settings.registry_schema_dir)
    if not validator.full:
        print(
            "note: the IVOA schemas are not on this machine (install python3-gavo or set "
            "DALSERVER_REGISTRY_SCHEMA_DIR); records are checked for VOResource's required parts only",
            file=sys.stderr,
        )
    try:
        report = run(
            url, source, full=full, progress=progress, validator=validator, warn=lambda m: print(m, file=sys.stderr)
        )
    except HarvestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    how = "resumed, " if report.resumed else ""
    print(
        f"harvested {source}: {how}{report.loaded} records loaded, {report.deleted} removed, "
        f"{len(report.skipped)} skipped, {report.pages} pages in {report.seconds:.1f} s"
    )
    return 0
