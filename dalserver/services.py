"""What request handlers share, built complete in one place (``dalserver.app``): settings, the
connection pools (and the standbys users' queries go to), the catalogue cache, the job runner
and the ObsCore values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request

from dalserver.db.health import DatabaseHealth
from dalserver.db.metadata import CatalogCache
from dalserver.db.replicas import QueryRouter
from dalserver.obscore_values import ObsCoreValuesCache
from dalserver.settings import Settings
from dalserver.uws.runner import JobRunner


@dataclass
class Services:
    settings: Settings
    health: DatabaseHealth  # whether the database answers, without asking it
    pool: AsyncConnectionPool  # metadata, availability, job store
    queries: QueryRouter  # users' queries, read as Arrow batches: the primary's, or a standby's
    catalog: CatalogCache
    runner: JobRunner  # async jobs: the store, claims, runs (runner.store)
    obscore_values: ObsCoreValuesCache  # values listed in SIA's self-description
    started: datetime = field(default_factory=lambda: datetime.now(UTC))


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]
