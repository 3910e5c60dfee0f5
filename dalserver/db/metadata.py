"""The ADQL catalogue the service resolves queries against: TAP_SCHEMA as of a few seconds ago."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from adql.catalog import Catalog
from archive_io.tap_schema import catalog_from_tap_schema, read_tap_schema
from dalserver.timed_value import TimedValue


class CatalogCache(TimedValue[Catalog]):
    """The published tables as of at most ``ttl`` seconds ago; TAP_SCHEMA is the only source."""

    def __init__(self, pool: AsyncConnectionPool, ttl: float):
        async def load() -> Catalog:
            return catalog_from_tap_schema(await read_tap_schema(pool))

        super().__init__(load, ttl)
