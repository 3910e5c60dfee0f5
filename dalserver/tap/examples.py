"""DALI examples (/tap/examples): working queries on the published tables, in XHTML with the RDFa
properties TOPCAT's examples menu and taplint read (name, query, table)."""

from __future__ import annotations

from fastapi.responses import Response

from dalserver.dali.examples import MEDIA_TYPE, Example, examples_document
from dalserver.dali.faults import ErrorStyle
from dalserver.http.routing import protocol_router
from dalserver.services import ServicesDep

router = protocol_router(ErrorStyle.PLAIN_VOTABLE, tags=["TAP"])


EXAMPLES = (
    Example(
        "cone",
        "Images around a position",
        "Stacks whose centre lies within 0.2 degrees of a position: a cone search on the ObsCore position index.",
        "SELECT obs_id, em_band_name, s_ra, s_dec, access_url\nFROM ivoa.obscore\n"
        "WHERE CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 34.5, -5.0, 0.2)) = 1",
        ("ivoa.obscore",),
    ),
    Example(
        "covering",
        "Images covering a position",
        "Stacks whose footprint contains a given sky position, whatever their centre.",
        "SELECT obs_id, em_band_name, t_exptime, access_url\nFROM ivoa.obscore\n"
        "WHERE CONTAINS(POINT('ICRS', 34.42, -4.75), s_region) = 1\nORDER BY em_band_name",
        ("ivoa.obscore",),
    ),
    Example(
        "band",
        "Images in a wavelength range",
        "Stacks whose passband includes 550 nm (ObsCore wavelengths are in metres).",
        "SELECT obs_id, em_band_name, em_min, em_max\nFROM ivoa.obscore\nWHERE em_min <= 5.5e-7 AND em_max >= 5.5e-7",
        ("ivoa.obscore",),
    ),
    Example(
        "bands-nm",
        "Filters and their passbands in nanometres",
        "ObsCore wavelengths are in metres; here converted to nanometres.",
        "SELECT DISTINCT em_band_name, em_min * 1e9 AS lo_nm, em_max * 1e9 AS hi_nm\nFROM ivoa.obscore\nORDER BY lo_nm",
        ("ivoa.obscore",),
    ),
    Example(
        "time",
        "Observations in a time range",
        "Stacks whose exposures lie within an MJD interval, longest first.",
        "SELECT obs_id, em_band_name, t_min, t_max, t_exptime\nFROM ivoa.obscore\n"
        "WHERE t_min >= 52900 AND t_max <= 53300\nORDER BY t_exptime DESC",
        ("ivoa.obscore",),
    ),
    Example(
        "per-band",
        "Exposure time per filter",
        "Aggregates: number of stacks and total exposure per filter.",
        "SELECT em_band_name, COUNT(*) AS n, SUM(t_exptime) AS total_s\nFROM ivoa.obscore\n"
        "GROUP BY em_band_name\nORDER BY total_s DESC",
        ("ivoa.obscore",),
    ),
    Example(
        "nearest",
        "Stacks sorted by distance",
        "The ten stacks closest to a position, with their distance in degrees.",
        "SELECT TOP 10 obs_id, em_band_name,\n  DISTANCE(POINT('ICRS', s_ra, s_dec), POINT('ICRS', 34.5, -5.0)) AS dist\n"
        "FROM ivoa.obscore\nORDER BY dist",
        ("ivoa.obscore",),
    ),
    Example(
        "overlap",
        "Overlapping stacks in two filters",
        "A self-join on footprints: V-band stacks and the i'-band stacks they overlap.",
        "SELECT v.obs_id AS v_stack, i.obs_id AS i_stack\nFROM ivoa.obscore AS v\n"
        "JOIN ivoa.obscore AS i ON INTERSECTS(v.s_region, i.s_region) = 1\n"
        "WHERE v.em_band_name = 'W-J-V' AND i.em_band_name = 'W-S-I+'",
        ("ivoa.obscore",),
    ),
    Example(
        "columns",
        "What a table offers",
        "TAP_SCHEMA lists every published column with its unit, UCD and description.",
        "SELECT column_name, datatype, unit, ucd, description\nFROM TAP_SCHEMA.columns\n"
        "WHERE table_name = 'ivoa.obscore'\nORDER BY column_index",
        ("tap_schema.columns",),
    ),
    Example(
        "deepest",
        "The deepest stack of each filter",
        "A join with a derived table: for each filter, the stack with the longest exposure.",
        "SELECT o.em_band_name, o.obs_id, o.t_exptime\nFROM ivoa.obscore AS o\n"
        "JOIN (SELECT em_band_name, MAX(t_exptime) AS t FROM ivoa.obscore GROUP BY em_band_name) AS d\n"
        "  ON o.em_band_name = d.em_band_name AND o.t_exptime = d.t\nORDER BY 1",
        ("ivoa.obscore",),
    ),
)


@router.get("/tap/examples", summary="DALI example queries")
async def examples(svc: ServicesDep) -> Response:
    body = examples_document(svc.settings.title, EXAMPLES)
    return Response(body, media_type=MEDIA_TYPE)
