"""The dataset the DALI examples of SIA, DataLink and SODA are written around, so that every example
returns data whatever the operator ingested: positions at its centre, its band, its time, its
identifier. SODA 1.0 sec. 2.3 asks for examples; SIA and DataLink may have them (DALI).

The dataset is the first image by publisher DID, looked up on each request (examples are read
rarely; a cache would show a withdrawn dataset).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from fastapi.responses import Response
from psycopg_pool import AsyncConnectionPool

from dalserver.dali_examples import MEDIA_TYPE, Example, examples_document

_SAMPLE = (
    "SELECT obs_publisher_did, s_ra, s_dec, s_fov, em_min, em_max, t_min, t_max, instrument_name "
    "FROM ivoa.obscore WHERE dataproduct_type IN ('image', 'cube') AND obs_publisher_did IS NOT NULL "
    "AND s_ra IS NOT NULL AND s_dec IS NOT NULL AND s_fov > 0 ORDER BY obs_publisher_did LIMIT 1"
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


def triangle_text(s: Sample, size: float) -> str:
    """A triangle around the centre, ``size`` degrees across, as POLYGON's flat vertex list."""
    corners = ((s.ra, s.dec + size / 2), (s.ra - size / 2, s.dec - size / 2), (s.ra + size / 2, s.dec - size / 2))
    return " ".join(f"{number(ra % 360.0)} {number(dec)}" for ra, dec in corners)


def examples_response(
    title: str, sample: Sample | None, standard_id: str, build: Callable[[Sample], Sequence[Example]]
) -> Response:
    """The examples document of one service: ``build``'s examples for its capability, or a note
    saying that there is nothing to show yet."""
    found = [replace(e, capability=standard_id) for e in build(sample)] if sample else []
    return Response(examples_document(title, found, _EMPTY), media_type=MEDIA_TYPE)
