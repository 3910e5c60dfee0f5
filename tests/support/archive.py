"""The test archive (a real PostgreSQL + pgsphere database with the sample ingested) as the
fixtures hand it to tests, and its ADQL catalogue as the service reads it from TAP_SCHEMA."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from adql import Catalog
from archive_io.tap_schema import read_tap_schema
from dalserver.settings import Settings


@dataclass
class Archive:
    settings: Settings
    url: str  # database URL
    env: dict[str, str]  # environment that points the dalserver command at this archive


def load_catalog(url: str) -> Catalog:
    """The ADQL catalogue as the service builds it from TAP_SCHEMA, as of now."""

    async def load() -> Catalog:
        async with AsyncConnectionPool(url, min_size=1, max_size=1, open=False) as pool:
            return (await read_tap_schema(pool)).catalog()

    return asyncio.run(load())


def fresh_database(archive: Archive, name: str) -> str:
    """A new, empty database beside the test archive's (dropped first if a run left it): for
    servers whose jobs no other test server may claim. Its URL; a server bootstraps it."""
    import psycopg

    with psycopg.connect(archive.url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = archive.url.replace(f"/{archive.settings.database_name}?", f"/{name}?")
    assert url != archive.url
    return url
