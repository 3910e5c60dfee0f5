"""The test archive (a real PostgreSQL + pgsphere database with the sample ingested) as the
fixtures hand it to tests, and its ADQL catalogue as the service reads it from TAP_SCHEMA."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from adql import Catalog
from archive_io.tap_schema import catalog_from_tap_schema, read_tap_schema
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
            return catalog_from_tap_schema(await read_tap_schema(pool))

    return asyncio.run(load())
