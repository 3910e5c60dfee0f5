"""The ADQL catalogue the service resolves queries against: TAP_SCHEMA as of a few seconds ago,
with ObsCore's access URLs under this server's public URL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from psycopg_pool import AsyncConnectionPool

from adql.catalog import Catalog
from archive_io.product_urls import with_public_urls
from archive_io.tap_schema import read_tap_schema
from dalserver.db.errors import DatabaseUnavailable
from dalserver.timed_value import TimedValue

READ_TIMEOUT = 10.0  # seconds; a hung database must not hold every request waiting for the catalogue


class CatalogCache(TimedValue[Catalog]):
    """The published tables as of at most ``ttl`` seconds ago; TAP_SCHEMA is the only source.
    ``public_url`` is this server's: the archive's own products are addressed under it."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        ttl: float,
        public_url: str,
        on_read: Callable[[Any], Awaitable[None]] | None = None,
    ):
        """``on_read`` is shown every TAP_SCHEMA read (before it is used): the query router
        holds standbys back until they have replayed a changed one (dalserver.db.replicas)."""

        async def load() -> Catalog:
            try:
                published = await asyncio.wait_for(read_tap_schema(pool), READ_TIMEOUT)
                if on_read is not None:
                    await asyncio.wait_for(on_read(published), READ_TIMEOUT)
            except TimeoutError:
                raise DatabaseUnavailable(f"TAP_SCHEMA could not be read within {READ_TIMEOUT:g} s") from None
            return with_public_urls(published.catalog(), public_url)

        # The same catalogue object for as long as TAP_SCHEMA says the same: translations are
        # remembered per catalogue object (adql.cache), and a changed TAP_SCHEMA is a new one.
        super().__init__(load, ttl, keep_equal=True)
