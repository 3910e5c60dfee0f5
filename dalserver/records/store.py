"""The archive's records as the server serves them: rebuilt from the database at most every few
seconds (the catalogue's TTL), so an ingest shows in the feed at once without a restart."""

from __future__ import annotations

from dataclasses import dataclass

from anyio import to_thread
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request

from dalserver.records.build import Record, build_records
from dalserver.records.config import RegistryConfig, RegistryConfigError, config_fault, load_config
from dalserver.records.state import ArchiveState, read_state
from dalserver.services import services
from dalserver.settings import Settings
from dalserver.timed_value import TimedValue


@dataclass(frozen=True)
class Published:
    records: list[Record]
    config: RegistryConfig
    state: ArchiveState

    def record(self, key: str) -> Record:
        return next(r for r in self.records if r.key == key)


async def published(pool: AsyncConnectionPool, settings: Settings) -> Published:
    """The records of the archive in ``pool``'s database, as of now."""
    try:
        config = load_config(settings.registry_path)
    except RegistryConfigError as exc:
        raise config_fault(exc) from None
    state = await read_state(pool)
    # Building the records is pure CPU work: in a thread, so requests on this worker go on.
    records = await to_thread.run_sync(build_records, state, settings, config)
    return Published(records, config, state)


class RecordsCache(TimedValue[Published]):
    def __init__(self, pool: AsyncConnectionPool, settings: Settings):
        super().__init__(lambda: published(pool, settings), settings.catalog_ttl_seconds)


async def published_records(request: Request) -> Published:
    """This app's records, rebuilt when stale (one cache per app, made on first use)."""
    state = request.app.state
    cache = getattr(state, "registry_records", None)
    if cache is None:
        svc = services(request)
        cache = state.registry_records = RecordsCache(svc.pool, svc.settings)
    return await cache.get()
