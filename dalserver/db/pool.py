"""The asynchronous connection pool the web tier reads metadata, jobs and availability through."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from dalserver.db.errors import DatabaseUnavailable
from dalserver.db.health import DatabaseHealth
from pgsql_text.session import setup_statements

GETCONN_TIMEOUT = 5.0  # seconds a request waits for a connection before it is told to come back


async def _configure(conn: psycopg.AsyncConnection) -> None:
    await conn.set_autocommit(True)
    for statement in setup_statements("dalserver"):
        await conn.execute(statement)  # built from constants
    await conn.set_autocommit(False)


class GuardedPool(AsyncConnectionPool):
    """A psycopg pool that refuses at once while the database is known to be down, checks a
    connection before handing it out (one that died with its server is replaced), and turns
    "no connection in time" into a 503."""

    def __init__(self, url: str, max_size: int, health: DatabaseHealth | None = None):
        super().__init__(
            url,
            min_size=1,
            max_size=max_size,
            configure=_configure,
            check=AsyncConnectionPool.check_connection,
            kwargs={"connect_timeout": 5},
            timeout=GETCONN_TIMEOUT,
            # A failed reconnection is not retried with backoff (minutes, after an outage): the
            # pool grows again when a request needs a connection.
            reconnect_timeout=0,
            open=False,
            name="dalserver",
        )
        self.health = health

    async def getconn(self, timeout: float | None = None) -> Any:
        if self.health is not None:
            self.health.check()
        try:
            return await super().getconn(timeout)
        except PoolTimeout as exc:
            reason = self.health.reason if self.health is not None and self.health.reason else str(exc)
            raise DatabaseUnavailable(reason) from exc


def make_pool(url: str, max_size: int, health: DatabaseHealth | None = None) -> GuardedPool:
    return GuardedPool(url, max_size, health)
