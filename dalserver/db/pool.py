"""The asynchronous connection pool the web tier queries through."""

from __future__ import annotations

import psycopg
from psycopg_pool import AsyncConnectionPool


async def _configure(conn: psycopg.AsyncConnection) -> None:
    # Geometry leaves the database as pgsphere text in degrees (turned into DALI by the writer);
    # literals rely on standard_conforming_strings (see adql.dialects.postgres.quote_string).
    await conn.set_autocommit(True)
    await conn.execute("SELECT set_sphere_output('DEG')")
    await conn.execute("SET standard_conforming_strings = on")
    await conn.execute("SET application_name = 'dalserver'")
    await conn.set_autocommit(False)


def make_pool(url: str, max_size: int) -> AsyncConnectionPool:
    return AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        configure=_configure,
        open=False,
        name="dalserver",
    )
