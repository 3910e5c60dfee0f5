"""What request handlers share: settings, the connection pools, the catalogue cache, the jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request

from dalserver.db.arrow_pool import ArrowPool
from dalserver.db.metadata import CatalogCache
from dalserver.settings import Settings
from dalserver.uws.store import JobStore

if TYPE_CHECKING:
    from dalserver.sia.describe import VocabularyCache
    from dalserver.uws.runner import JobRunner


@dataclass
class Services:
    settings: Settings
    pool: AsyncConnectionPool  # metadata, availability, job store
    queries: ArrowPool  # users' queries, read as Arrow batches
    catalog: CatalogCache
    jobs: JobStore
    runner: JobRunner | None = None  # set once the services exist (the runner uses them)
    vocabulary: VocabularyCache | None = None  # values listed in SIA's self-description
    started: datetime = field(default_factory=lambda: datetime.now(UTC))


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]
