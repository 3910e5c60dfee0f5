"""The values present in ObsCore's enumerated columns (collections, instruments, facilities,
product types, calibration levels, formats), read now and then: SIA lists them in its
self-description, and a page can offer them as choices.
"""

from __future__ import annotations

import logging

from psycopg_pool import AsyncConnectionPool

from dalserver.access.identity import ANONYMOUS
from dalserver.access.visibility import row_filter
from dalserver.timed_value import TimedValue

log = logging.getLogger(__name__)

ENUMERATED_COLUMNS = (
    "obs_collection",
    "facility_name",
    "instrument_name",
    "dataproduct_type",
    "calib_level",
    "access_format",
)
# column -> the values present, sorted; tuples, so that what is rendered from them can be cached by them
ObsCoreValues = tuple[tuple[str, tuple[str, ...]], ...]


class ObsCoreValuesCache(TimedValue[ObsCoreValues]):
    """The distinct values of the enumerated columns among ``product_types``, every ``ttl`` seconds.

    One scan of ObsCore per refresh, under a short statement timeout: if the table is too large
    for that, there are no values rather than slower queries.
    """

    def __init__(
        self,
        pool: AsyncConnectionPool,
        product_types: tuple[str, ...],
        ttl: float = 300.0,
        timeout_ms: int = 2000,
    ):
        self.pool = pool
        self.product_types = product_types
        self.timeout_ms = timeout_ms
        super().__init__(self._read, ttl)

    async def _read(self) -> ObsCoreValues:
        columns = ", ".join(f"array_agg(DISTINCT {c}::text)" for c in ENUMERATED_COLUMNS)
        try:
            async with self.pool.connection(timeout=5) as conn, conn.transaction():
                await conn.execute("SET TRANSACTION READ ONLY")
                await conn.execute(f"SET LOCAL statement_timeout = {int(self.timeout_ms)}")
                cursor = await conn.execute(
                    # Public rows only: the self-description is read by anybody.
                    f"SELECT {columns} FROM ivoa.obscore AS o WHERE dataproduct_type = ANY(%s) "
                    f"AND {row_filter(ANONYMOUS, 'o')}",
                    (list(self.product_types),),
                )
                row = await cursor.fetchone()
        except Exception as exc:  # a slow or missing table: no values
            log.warning("ObsCore values not read: %s", exc)
            return ()
        assert row is not None
        return tuple(
            (column, tuple(sorted(v for v in values or () if v is not None)))
            for column, values in zip(ENUMERATED_COLUMNS, row, strict=True)
        )
