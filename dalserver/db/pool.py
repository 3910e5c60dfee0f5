"""The asynchronous connection pool the web tier reads metadata, jobs and availability through."""

from __future__ import annotations

import psycopg
from psycopg_pool import AsyncConnectionPool

from dalserver.db.session import setup_statements


async def _configure(conn: psycopg.AsyncConnection) -> None:
    await conn.set_autocommit(True)
    for statement in setup_statements("dalserver"):
        await conn.execute(statement)  # type: ignore[arg-type]  # built from constants
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
