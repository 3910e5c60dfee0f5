"""The dataset the DALI examples of SIA, DataLink and SODA are written around, so that every example
returns data whatever the operator ingested: positions at its centre, its band, its time, its
identifier. SODA 1.0 sec. 2.3 asks for examples; SIA and DataLink may have them (DALI).

The dataset is the first image by publisher DID, looked up on each request (examples are read
rarely; a cache would show a withdrawn dataset).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from fastapi.responses import Response
from psycopg_pool import AsyncConnectionPool

from dalserver.access.identity import ANONYMOUS
from dalserver.access.visibility import row_filter
from dalserver.dali.examples import MEDIA_TYPE, Example, examples_document

# A public image: examples are read by anybody, and must name no proprietary target.
_SAMPLE = (
    "SELECT obs_publisher_did, s_ra, s_dec, s_fov, em_min, em_max, t_min, t_max, instrument_name "
    "FROM ivoa.obscore AS o WHERE dataproduct_type IN ('image', 'cube') AND obs_publisher_did IS NOT NULL "
    f"AND s_ra IS NOT NULL AND s_dec IS NOT NULL AND s_fov > 0 AND {row_filter(ANONYMOUS, 'o')} "
    "ORDER BY obs_publisher_did LIMIT 1"
)
_EMPTY = "No image has been ingested yet: examples appear once the archive holds one."


@dataclass(frozen=True)
class Sample:
    did: str
    ra: float
    dec: float
    fov: float  # degrees: the diameter of a circle holding the image
    em_min: float | None
    em_max: float | None
    t_min: float | None
    t_max: float | None
    instrument: str | None


async def sample_dataset(pool: AsyncConnectionPool) -> Sample | None:
    async with pool.connection() as conn:
        row = await (await conn.execute(_SAMPLE)).fetchone()
        await conn.rollback()
    return Sample(*row) if row else None


def number(value: float) -> str:
    return f"{value:.7g}"


def circle_text(s: Sample, radius: float) -> str:
    return f"{number(s.ra)} {number(s.dec)} {number(radius)}"


def range_text(s: Sample, ra_min: float, ra_max: float, dec_min: float, dec_max: float) -> str:
    """RANGE's four numbers, RA wrapped into [0, 360) (a range may pass through 0) and Dec clamped."""
    dec_min, dec_max = max(dec_min, -90.0), min(dec_max, 90.0)
    return f"{number(ra_min % 360.0)} {number(ra_max % 360.0)} {number(dec_min)} {number(dec_max)}"


def offset(ra: float, dec: float, distance: float, angle: float) -> tuple[float, float]:
    """The point ``distance`` degrees from (ra, dec) at position angle ``angle`` (degrees east of
    north), along a great circle: on the sphere wherever the start is, poles included."""
    ra0, dec0, r, theta = (math.radians(v) for v in (ra, dec, distance, angle))
    sin_dec = math.sin(dec0) * math.cos(r) + math.cos(dec0) * math.sin(r) * math.cos(theta)
    dec1 = math.asin(max(-1.0, min(1.0, sin_dec)))
    if math.cos(dec0) < 1e-12:  # at a pole every direction is south (or north): the angle picks the meridian
        return (ra + (180.0 - angle if dec > 0 else angle)) % 360.0, math.degrees(dec1)
    east = math.atan2(math.sin(theta) * math.sin(r) * math.cos(dec0), math.cos(r) - math.sin(dec0) * sin_dec)
    return (ra + math.degrees(east)) % 360.0, math.degrees(dec1)


def triangle_text(s: Sample, size: float) -> str:
    """An equilateral triangle around the centre, its vertices ``size / 2`` degrees from it (north,
    then south-east and south-west), as POLYGON's flat vertex list; it stays on the sky near a pole."""
    corners = [offset(s.ra, s.dec, size / 2, angle) for angle in (0.0, 120.0, 240.0)]
    return " ".join(f"{number(ra)} {number(dec)}" for ra, dec in corners)


def examples_response(
    title: str, sample: Sample | None, standard_id: str, build: Callable[[Sample], Sequence[Example]]
) -> Response:
    """The examples document of one service: ``build``'s examples for its capability, or a note
    saying that there is nothing to show yet."""
    found = [replace(e, capability=standard_id) for e in build(sample)] if sample else []
    return Response(examples_document(title, found, _EMPTY), media_type=MEDIA_TYPE)
