"""The archive's records as the server serves them: rebuilt from the database at most every few
seconds (the catalogue's TTL), so an ingest shows in the feed at once without a restart. The
cache is one of the app's services (``Services.records``), made with them."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from anyio import to_thread
from psycopg_pool import AsyncConnectionPool

from dalserver.records.build import Record, build_records
from dalserver.records.build_apart import BuildFailed, build_in_child
from dalserver.records.config import RegistryConfig, RegistryConfigError, config_fault, load_config
from dalserver.records.state import ArchiveState, read_state
from dalserver.records.stored import build_and_store, load_stored
from dalserver.settings import Settings
from dalserver.timed_value import TimedValue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Published:
    records: list[Record]
    config: RegistryConfig
    state: ArchiveState

    def record(self, key: str) -> Record:
        return next(r for r in self.records if r.key == key)


async def published(pool: AsyncConnectionPool, settings: Settings, store: bool = False) -> Published:
    """The records of the archive in ``pool``'s database, as of now; with ``store``, built and
    kept for the workers (``dalserver registry refresh``)."""
    return await _built(await read_state(pool), settings, store)


def _records(state: ArchiveState, settings: Settings, config: RegistryConfig, store: bool) -> list[Record]:
    if store:
        return build_and_store(state, settings, config)
    stored = load_stored(state, settings, config)
    if stored is not None:
        return stored
    try:
        return build_in_child(state, settings, config)
    except BuildFailed as exc:
        # Answering matters more than the worker's memory; a build that fails here fails again
        # below, with its own exception, as it did before the child existed.
        log.warning("the registry records could not be built in a child process (%s); building them here", exc)
        return build_records(state, settings, config)


async def _built(state: ArchiveState, settings: Settings, store: bool = False) -> Published:
    try:
        config = load_config(settings.registry_path)
    except RegistryConfigError as exc:
        raise config_fault(exc) from None
    # Reading or building the records is CPU work: in a thread, so requests on this worker go on.
    records = await to_thread.run_sync(_records, state, settings, config, store)
    return Published(records, config, state)


class RecordsCache:
    """The archive's registry state as of at most the catalogue's TTL ago, and its records built
    from that state when first asked for. Cone search, the MOC routes and the portal read the
    state only: building the records reads every HiPS survey's coverage with mocpy and astropy
    (about 35 MB), which only /oai needs, and it only when the records ``dalserver registry refresh``
    stored (``dalserver.records.stored``) do not match the archive as it is now; then a child
    process builds them (``dalserver.records.build_apart``), and the worker never loads those."""

    def __init__(self, pool: AsyncConnectionPool, settings: Settings):
        self._settings = settings
        self._state = TimedValue(lambda: read_state(pool), settings.catalog_ttl_seconds)
        self._published: Published | None = None
        self._lock = asyncio.Lock()

    async def state(self) -> ArchiveState:
        return await self._state.get()

    async def get(self) -> Published:
        """The records of the current state: rebuilt when the state was read again."""
        async with self._lock:  # one build per state, however many requests wait for it
            state = await self._state.get()  # read under the lock: no build for a state already replaced
            if self._published is None or self._published.state is not state:
                self._published = await _built(state, self._settings)
            return self._published
