"""DALI examples of SIA, DataLink and SODA (``/sia/examples``, ``/datalink/examples``,
``/soda/examples``), written around a dataset of this archive so that every example returns data
whatever the operator ingested: positions at its centre, its band, its time, its identifier.

SODA 1.0 sec. 2.3 asks for examples; SIA and DataLink may have them (DALI). The dataset is the first
image by publisher DID, looked up on each request (examples are read rarely; a cache would show a
withdrawn dataset).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from fastapi import APIRouter, Request
from fastapi.responses import Response
from psycopg_pool import AsyncConnectionPool

from dalserver.dali_examples import MEDIA_TYPE, Example, examples_document
from dalserver.datalink.descriptors import DATALINK_STANDARD, SIA_STANDARD, SODA_STANDARD
from dalserver.services import services

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


def _num(value: float) -> str:
    return f"{value:.7g}"


def _circle(s: Sample, radius: float) -> str:
    return f"{_num(s.ra)} {_num(s.dec)} {_num(radius)}"


def _range(s: Sample, ra_min: float, ra_max: float, dec_min: float, dec_max: float) -> str:
    """RANGE's four numbers, RA wrapped into [0, 360) (a range may pass through 0) and Dec clamped."""
    dec_min, dec_max = max(dec_min, -90.0), min(dec_max, 90.0)
    return f"{_num(ra_min % 360.0)} {_num(ra_max % 360.0)} {_num(dec_min)} {_num(dec_max)}"


def _triangle(s: Sample, size: float) -> str:
    """A triangle around the centre, ``size`` degrees across, as POLYGON's flat vertex list."""
    corners = ((s.ra, s.dec + size / 2), (s.ra - size / 2, s.dec - size / 2), (s.ra + size / 2, s.dec - size / 2))
    return " ".join(f"{_num(ra % 360.0)} {_num(dec)}" for ra, dec in corners)


def sia_examples(s: Sample) -> list[Example]:
    examples = [
        Example(
            "sia-pos",
            "Images covering a position",
            "Every image whose footprint overlaps a small circle (centre and radius in degrees).",
            params=(("POS", f"CIRCLE {_circle(s, 0.001)}"),),
        ),
        Example(
            "sia-range",
            "Images of one instrument in a coordinate box",
            "POS=RANGE takes RA and Dec limits in degrees; parameters of different names must all match.",
            params=(
                ("POS", f"RANGE {_range(s, s.ra - s.fov / 4, s.ra + s.fov / 4, s.dec - s.fov / 4, s.dec + s.fov / 4)}"),
                *((("INSTRUMENT", s.instrument),) if s.instrument else ()),
            ),
        ),
    ]
    if s.em_min is not None and s.em_max is not None:
        middle = (s.em_min + s.em_max) / 2
        examples.append(
            Example(
                "sia-band",
                "Images at a position taken in a band",
                "BAND is a wavelength interval in metres (a single value: images whose band contains it).",
                params=(("POS", f"CIRCLE {_circle(s, 0.001)}"), ("BAND", _num(middle))),
            )
        )
    if s.t_min is not None and s.t_max is not None:
        examples.append(
            Example(
                "sia-time",
                "Images observed in a time range",
                "TIME is an interval of MJD; -Inf or +Inf leave an end open.",
                params=(("TIME", f"{_num(s.t_min - 1)} {_num(s.t_max + 1)}"), ("MAXREC", "10")),
            )
        )
    examples.append(
        Example(
            "sia-id",
            "One image by its identifier",
            "ID is the publisher DID (obs_publisher_did), compared without regard to case.",
            params=(("ID", s.did),),
        )
    )
    return examples


def datalink_examples(s: Sample) -> list[Example]:
    return [
        Example(
            "links",
            "Links of a dataset",
            "The file itself (#this), its preview, its provenance and a cutout service for it.",
            params=(("ID", s.did),),
        ),
        Example(
            "links-csv",
            "Links of a dataset as CSV",
            "RESPONSEFORMAT takes the output formats of TAP.",
            params=(("ID", s.did), ("RESPONSEFORMAT", "text/csv")),
        ),
    ]


def soda_examples(s: Sample) -> list[Example]:
    return [
        Example(
            "cutout-circle",
            "A circular cutout",
            "The pixels of the image around a circle (centre and radius in degrees), as FITS with its WCS.",
            params=(("ID", s.did), ("CIRCLE", _circle(s, s.fov / 8))),
        ),
        Example(
            "cutout-polygon",
            "A polygon cutout",
            "POLYGON lists the vertices' RA and Dec in degrees; the cutout is the box around it.",
            params=(("ID", s.did), ("POLYGON", _triangle(s, s.fov / 4))),
        ),
        Example(
            "cutout-two",
            "Two cutouts in one request",
            "Several regions give a FITS file with one extension per region.",
            params=(
                ("ID", s.did),
                ("POS", f"CIRCLE {_circle(s, s.fov / 16)}"),
                ("POS", f"RANGE {_range(s, s.ra - s.fov / 8, s.ra, s.dec, s.dec + s.fov / 8)}"),
            ),
        ),
    ]


def _route(service: str, label: str, standard_id: str, build: Callable[[Sample], list[Example]]) -> APIRouter:
    router = APIRouter()

    @router.get(f"/{service}/examples", summary=f"{label} DALI examples")
    async def examples(request: Request) -> Response:
        svc = services(request)
        sample = await sample_dataset(svc.pool)
        found = [replace(e, capability=standard_id) for e in build(sample)] if sample else []
        body = examples_document(f"{svc.settings.title}: {label}", found, _EMPTY)
        return Response(body, media_type=MEDIA_TYPE)

    return router


router = APIRouter()
router.include_router(_route("sia", "SIA", SIA_STANDARD, sia_examples))
router.include_router(_route("datalink", "DataLink", DATALINK_STANDARD, datalink_examples))
router.include_router(_route("soda", "SODA", SODA_STANDARD, soda_examples))
