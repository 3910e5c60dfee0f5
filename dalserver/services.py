"""What request handlers share, built complete in one place (``dalserver.app``): settings, the
connection pools (and the standbys users' queries go to), the catalogue and records caches, the
job runner and the ObsCore values; and the FastAPI dependencies that hand it to them: the
services, the caller's identity, and the request's DALI parameters.

A handler declares what it needs (``svc: ServicesDep``, ``params: FormParams``), so a test can
swap one with ``app.dependency_overrides[services] = ...`` without building the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request

from adql.cache import TranslationCache
from dalserver.access.gate import Access
from dalserver.access.identity import Identity
from dalserver.dali.params import FORM_MAX_BYTES, DALIParams
from dalserver.db.health import DatabaseHealth
from dalserver.db.metadata import CatalogCache
from dalserver.db.replicas import QueryRouter
from dalserver.http.stages import mark
from dalserver.obscore.resolver import ArchiveTargets, Sesame
from dalserver.obscore.values import ObsCoreValuesCache
from dalserver.records.store import RecordsCache
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
    records: RecordsCache  # the registry records, rebuilt from the database when stale
    targets: ArchiveTargets  # the archive's targets by name, for the portal's name fields
    sesame: Sesame | None  # the online name resolver the portal's look-ups ask (None: offline)
    access: Access  # who a request is, and the catalogue that identity reads through
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    # ADQL translations of recent queries, valid for the catalogue object they were made with
    # (a new one whenever TAP_SCHEMA changes: dalserver.db.metadata)
    translations: TranslationCache = field(default_factory=TranslationCache)


async def services(request: Request) -> Services:
    """This app's services (made by its lifespan before the first request)."""
    made: Services = request.app.state.services  # Starlette's state holds Any
    mark("routing")
    return made


ServicesDep = Annotated[Services, Depends(services)]


async def identity(request: Request, svc: ServicesDep) -> Identity:
    """Who the caller is (anonymous without credentials); 401 for credentials that prove nothing.
    Every route that answers with the archive's data depends on it (tests/access/test_routes.py)."""
    who = await svc.access.identify(request)
    mark("identity")
    return who


IdentityDep = Annotated[Identity, Depends(identity)]


class DALIParamsReader:
    """The dependency that reads a request's DALI parameters: a body of at most
    ``max_body_bytes(settings)``, arriving within the settings' body timeout."""

    def __init__(self, max_body_bytes: Callable[[Settings], int]) -> None:
        self.max_body_bytes = max_body_bytes

    async def __call__(self, request: Request, svc: ServicesDep) -> DALIParams:
        settings = svc.settings
        params = await DALIParams.from_request(
            request, self.max_body_bytes(settings), settings.request_body_timeout_seconds
        )
        mark("parameters")
        return params


# The parameters of a request of short form values, no files (SIA, SODA, SCS, DataLink's resources).
form_params = DALIParamsReader(lambda _settings: FORM_MAX_BYTES)
FormParams = Annotated[DALIParams, Depends(form_params)]
