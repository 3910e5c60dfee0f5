"""Object names to positions for the portal: first the archive's own targets (ObsCore's
``target_name``, answered from the database, so it works on an air-gapped site), then, only when
the operator lets the server go online (``DALSERVER_SESAME_URL``), CDS Sesame through this
server, so that the page never contacts another host itself. Every answer says which resolver
gave it.

The archive's targets are read from its public rows (released: the names of proprietary data are
not told to anybody; a group's members give positions or ask Sesame) in one scan of ObsCore now and then (the centre of a target is the
mean direction of its images' centres; its extent reaches the farthest image's edge), under a short
statement timeout like SIA's value lists: if the table is too large for that, there are no
archive targets rather than slower answers. Sesame answers are kept for a day, names it does not
know for an hour; an unreachable Sesame is asked again at the next request.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass
from urllib.parse import quote

from psycopg_pool import AsyncConnectionPool

from archive_io.release import released_sql
from dalserver.timed_value import TimedValue

log = logging.getLogger(__name__)

FOUND_TTL = 86400.0  # seconds a Sesame position is reused
UNKNOWN_TTL = 3600.0  # seconds a name Sesame does not know is answered from memory
MAX_REMEMBERED = 10_000  # Sesame answers kept; the oldest go first


@dataclass(frozen=True)
class Resolved:
    """Where a name is: ``resolver`` says who answered (``archive`` or ``sesame``)."""

    name: str
    ra: float
    dec: float
    resolver: str
    detail: str  # e.g. "132 images of this archive", "Simbad through CDS Sesame"
    radius: float | None = None  # degrees: for an archive target, the extent of its images

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "ra": self.ra,
            "dec": self.dec,
            "resolver": self.resolver,
            "detail": self.detail,
            "radius": self.radius,
        }


class SesameUnreachable(Exception):
    """The online resolver did not answer (no network, a timeout, an HTTP error)."""


def name_key(name: str) -> str:
    """Names compared as Sesame does in practice: case and blanks do not matter ("m 31" is M31)."""
    return re.sub(r"\s+", "", name).casefold()


# ------------------------------------------------------------------ the archive's own targets


@dataclass(frozen=True)
class Target:
    name: str
    ra: float
    dec: float
    radius: float  # degrees from the centre to the farthest image's edge
    images: int


def _centre(x: float, y: float, z: float) -> tuple[float, float]:
    norm = math.sqrt(x * x + y * y + z * z)
    if norm == 0:  # images all around the sky: no meaningful centre, take the first axis
        return 0.0, 0.0
    ra = math.degrees(math.atan2(y, x)) % 360.0
    dec = math.degrees(math.asin(max(-1.0, min(1.0, z / norm))))
    return ra, dec


# The centre is the mean of the images' unit vectors; the extent a second pass over the same rows
# (the distance from that centre to each image's centre, plus half its field).
_TARGETS_SQL = f"""
WITH images AS (
    SELECT target_name, s_ra, s_dec, coalesce(s_fov, 0) AS fov
    FROM ivoa.obscore
    WHERE target_name IS NOT NULL AND s_ra IS NOT NULL AND s_dec IS NOT NULL AND {released_sql()}
), centres AS (
    SELECT target_name, count(*) AS n,
           avg(cos(radians(s_dec)) * cos(radians(s_ra))) AS x,
           avg(cos(radians(s_dec)) * sin(radians(s_ra))) AS y,
           avg(sin(radians(s_dec))) AS z
    FROM images GROUP BY target_name
)
SELECT c.target_name, c.n, c.x, c.y, c.z,
       max(degrees(spoint(radians(i.s_ra), radians(i.s_dec))
           <-> spoint(atan2(c.y, c.x), atan2(c.z, sqrt(c.x * c.x + c.y * c.y)))) + i.fov / 2)
FROM centres c JOIN images i USING (target_name)
GROUP BY c.target_name, c.n, c.x, c.y, c.z
"""


class ArchiveTargets(TimedValue[dict[str, Target]]):
    """The archive's targets by ``name_key``, read every ``ttl`` seconds in one scan of ObsCore."""

    def __init__(self, pool: AsyncConnectionPool, ttl: float = 300.0, timeout_ms: int = 5000):
        self.pool = pool
        self.timeout_ms = timeout_ms
        super().__init__(self._read, ttl)

    async def _read(self) -> dict[str, Target]:
        try:
            async with self.pool.connection(timeout=5) as conn, conn.transaction():
                await conn.execute("SET TRANSACTION READ ONLY")
                await conn.execute(f"SET LOCAL statement_timeout = {int(self.timeout_ms)}")
                rows = await (await conn.execute(_TARGETS_SQL)).fetchall()
        except Exception as exc:  # a slow or missing table: no archive targets
            log.warning("the archive's targets were not read: %s", exc)
            return {}
        targets: dict[str, Target] = {}
        for name, count, x, y, z, extent in rows:
            ra, dec = _centre(x, y, z)
            key = name_key(name)
            if not key:
                continue
            known = targets.get(key)
            if known is None or count > known.images:  # two spellings of one name: the larger wins
                targets[key] = Target(name, ra, dec, float(extent or 0.0), int(count))
        return targets


def archive_answer(target: Target) -> Resolved:
    noun = "image" if target.images == 1 else "images"
    return Resolved(
        target.name, target.ra, target.dec, "archive", f"{target.images:,} {noun} of this archive", target.radius
    )


# ------------------------------------------------------------------ CDS Sesame, through this server

_POSITION = re.compile(r"^%J\s+([0-9.+-]+)\s+([0-9.+-]+)", re.MULTILINE)
_DATABASE = re.compile(r"^#=(?:\w+=)?([A-Za-z]+)", re.MULTILINE)  # "#=Sim=Simbad (via url): 1"
_NAME = re.compile(r"^%I\.0\s+(.+)$", re.MULTILINE)


def parse_sesame(text: str, asked: str) -> Resolved | None:
    """Sesame's plain-text answer (``%J ra dec`` for the ICRS position, ``#=Simbad...`` for the
    database that answered, ``%I.0 name`` for the main identifier), or None where it found nothing."""
    position = _POSITION.search(text)
    if position is None:
        return None
    try:
        ra, dec = float(position.group(1)), float(position.group(2))
    except ValueError:
        return None
    if not (0.0 <= ra < 360.0 and -90.0 <= dec <= 90.0):
        return None
    database = _DATABASE.search(text[: position.start()]) or _DATABASE.search(text)
    name = _NAME.search(text)
    source = f"{database.group(1)} through CDS Sesame" if database else "CDS Sesame"
    return Resolved(re.sub(r"\s+", " ", name.group(1)).strip() if name else asked, ra, dec, "sesame", source)


class Sesame:
    """CDS Sesame at ``url`` (its plain-text output, e.g. ``.../nph-sesame/-oI/SNV``), with a
    timeout, its answers remembered."""

    def __init__(self, url: str, timeout: float):
        self.url = url.rstrip("?")
        self.timeout = timeout
        self._known: dict[str, tuple[float, Resolved | None]] = {}

    def _remembered(self, key: str) -> tuple[bool, Resolved | None]:
        entry = self._known.get(key)
        if entry is None:
            return False, None
        at, answer = entry
        if time.monotonic() - at > (FOUND_TTL if answer is not None else UNKNOWN_TTL):
            del self._known[key]
            return False, None
        return True, answer

    def _remember(self, key: str, answer: Resolved | None) -> None:
        if len(self._known) >= MAX_REMEMBERED:
            del self._known[next(iter(self._known))]
        self._known[key] = (time.monotonic(), answer)

    async def resolve(self, name: str) -> Resolved | None:
        """The position Sesame gives, None if it knows no such name; SesameUnreachable when it
        cannot be asked."""
        key = name_key(name)
        known, answer = self._remembered(key)
        if known:
            return answer
        import httpx  # on the first name asked of Sesame: workers that never ask load no HTTP client

        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=True) as client:
                response = await client.get(f"{self.url}?{quote(name.strip())}")
        except httpx.TimeoutException:
            raise SesameUnreachable(f"it did not answer within {self.timeout:g} seconds") from None
        except httpx.HTTPError as exc:
            raise SesameUnreachable(f"it could not be reached ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise SesameUnreachable(f"it answered HTTP {response.status_code}")
        answer = parse_sesame(response.text, name.strip())
        self._remember(key, answer)
        return answer
