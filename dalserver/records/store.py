"""The archive's records as the server serves them: rebuilt from the database at most every few
seconds (the catalogue's TTL), so an ingest shows in the feed at once without a restart. The
cache is one of the app's services (``Services.records``), made with them."""

from __future__ import annotations

from dataclasses import dataclass

from anyio import to_thread
from psycopg_pool import AsyncConnectionPool

from dalserver.records.build import Record, build_records
from dalserver.records.config import RegistryConfig, RegistryConfigError, config_fault, load_config
from dalserver.records.state import ArchiveState, read_state
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
    """The records as of at most the catalogue's TTL ago."""

    def __init__(self, pool: AsyncConnectionPool, settings: Settings):
        super().__init__(lambda: published(pool, settings), settings.catalog_ttl_seconds)
