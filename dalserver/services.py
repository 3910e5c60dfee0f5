"""What request handlers share: settings, the connection pool, the catalogue cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request

from dalserver.db.arrow_pool import ArrowPool
from dalserver.db.metadata import CatalogCache
from dalserver.settings import Settings


@dataclass
class Services:
    settings: Settings
    pool: AsyncConnectionPool  # metadata, availability, job store
    queries: ArrowPool  # users' queries, read as Arrow batches
    catalog: CatalogCache
    started: datetime = field(default_factory=lambda: datetime.now(UTC))


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]
