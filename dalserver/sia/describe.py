"""SIA 2.0's self-description (sec. 3.1.2): a service descriptor of the {query} resource listing
its parameters, with the values present in the archive for the enumerated ones.
"""

from __future__ import annotations

import logging

from psycopg_pool import AsyncConnectionPool

from dalserver.datalink.descriptors import SIA_STANDARD, InputParam, ServiceDescriptor
from dalserver.sia.query import SIA_PRODUCT_TYPES
from dalserver.timed_value import TimedValue

log = logging.getLogger(__name__)

# parameter -> ObsCore column whose distinct values are the parameter's options
ENUMERATED = {
    "COLLECTION": "obs_collection",
    "FACILITY": "facility_name",
    "INSTRUMENT": "instrument_name",
    "DPTYPE": "dataproduct_type",
    "CALIB": "calib_level",
    "FORMAT": "access_format",
}
_INTERVALS = (
    ("BAND", "m", "Wavelength interval (low high, -Inf/+Inf for open ends) that must overlap the data's"),
    ("TIME", "d", "MJD interval that must overlap the observation's"),
    ("FOV", "deg", "Interval that must contain the field of view"),
    ("SPATRES", "arcsec", "Interval that must contain the spatial resolution"),
    ("EXPTIME", "s", "Interval that must contain the exposure time"),
    ("TIMERES", "s", "Interval that must contain the time resolution"),
    ("SPECRP", None, "Interval that must contain the spectral resolving power"),
)


# parameter -> the values present, sorted; a tuple so that a rendered descriptor can be cached by it
Options = tuple[tuple[str, tuple[str, ...]], ...]


def self_descriptor(query_url: str, options: Options) -> ServiceDescriptor:
    # SIA 2.0's example descriptor puts xtype circle/range/polygon on char POS parameters and
    # "interval" on arraysize="*": DALI (and votlint) reject both, so DALI's forms are used here.
    inputs = [
        InputParam(
            "POS",
            description="CIRCLE ra dec r, RANGE ra1 ra2 dec1 dec2 or POLYGON ra1 dec1 ra2 dec2 ... (ICRS degrees)",
        )
    ]
    inputs += [
        InputParam(name, datatype="double", arraysize="2", xtype="interval", unit=unit, description=text)
        for name, unit, text in _INTERVALS
    ]
    inputs.append(InputParam("POL", description="Polarization state (ObsCore), e.g. I"))
    inputs.append(InputParam("ID", description="Publisher dataset identifier (compared case-insensitively)"))
    present = dict(options)
    for name in ENUMERATED:
        datatype, arraysize = ("int", None) if name == "CALIB" else ("char", "*")
        inputs.append(InputParam(name, datatype=datatype, arraysize=arraysize, options=present.get(name, ())))
    inputs.append(InputParam("TARGET", description="Target name, exact match"))
    inputs.append(InputParam("RELEASEDATE", description="Release date interval (ISO 8601)"))
    inputs.append(InputParam("MAXREC", datatype="int", arraysize=None))
    inputs.append(InputParam("RESPONSEFORMAT"))
    return ServiceDescriptor(
        access_url=query_url, standard_id=SIA_STANDARD, name="this", description="This SIA 2.0 service", inputs=inputs
    )


class VocabularyCache(TimedValue[Options]):
    """The distinct values of the enumerated columns, refreshed every ``ttl`` seconds.

    One scan of ObsCore per refresh, under a short statement timeout: if the table is too large
    for that, the descriptor goes without OPTIONS rather than slowing queries down.
    """

    def __init__(self, pool: AsyncConnectionPool, ttl: float = 300.0, timeout_ms: int = 2000):
        self.pool = pool
        self.timeout_ms = timeout_ms
        super().__init__(self._read, ttl)

    async def _read(self) -> Options:
        columns = ", ".join(f"array_agg(DISTINCT {c}::text)" for c in ENUMERATED.values())
        kinds = ", ".join(f"'{t}'" for t in SIA_PRODUCT_TYPES)
        try:
            async with self.pool.connection(timeout=5) as conn, conn.transaction():
                await conn.execute("SET TRANSACTION READ ONLY")
                await conn.execute(f"SET LOCAL statement_timeout = {int(self.timeout_ms)}")
                cursor = await conn.execute(f"SELECT {columns} FROM ivoa.obscore WHERE dataproduct_type IN ({kinds})")
                row = await cursor.fetchone()
        except Exception as exc:  # a slow or missing table: describe without options
            log.warning("SIA self-description without value lists: %s", exc)
            return ()
        assert row is not None
        return tuple(
            (name, tuple(sorted(v for v in values or () if v is not None)))
            for name, values in zip(ENUMERATED, row, strict=True)
        )
