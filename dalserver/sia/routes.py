"""SIA 2.0 endpoints: /sia/query (DALI-sync, GET and POST), its VOSI resources, examples and landing page."""

from __future__ import annotations

from functools import lru_cache

from fastapi import Request
from fastapi.responses import Response

from dalserver.access.identity import Identity
from dalserver.dali.descriptors import resource_xml
from dalserver.dali.faults import ErrorStyle, UsageFault
from dalserver.dali.params import DALIParams
from dalserver.db.errors import PGSPHERE_ERROR, QueryFailed
from dalserver.formats.registry import response_format
from dalserver.formats.votable import VOTableExtras
from dalserver.http.landing import landing_page
from dalserver.http.openapi import ApiParam, answers, dali_get, dali_post, page_or_answer
from dalserver.http.routing import answer_response, client_gone, protocol_router
from dalserver.http.stages import mark
from dalserver.obscore.discovery import ID_FIELD, discovery_extras
from dalserver.obscore.example_dataset import examples_response, sample_dataset
from dalserver.obscore.values import ObsCoreValues
from dalserver.pipeline import Limits, ResultWriter, answer
from dalserver.services import FormParams, IdentityDep, Services, ServicesDep, identity, services
from dalserver.sia.describe import self_descriptor
from dalserver.sia.examples import sia_examples
from dalserver.sia.parameters import PARAMETERS, SIAParameter
from dalserver.sia.query import build_query, obscore_table
from dalserver.vosi.resources import vosi_routes
from ivoa.vocabulary import StandardID

router = protocol_router(ErrorStyle.DAL_VOTABLE, tags=["SIA 2.0"])
# SIA 2.0 sec. 2.3's example capability: the query resource's URL as a base, interface version 2.0.
router.include_router(
    vosi_routes(
        "sia", "SIA", StandardID.SIA2, "query", ErrorStyle.DAL_VOTABLE, services, identity, version="2.0", use="base"
    )
)


def _api_parameter(p: SIAParameter) -> ApiParam:
    unit = f" ({p.unit})" if p.unit else ""
    return ApiParam(p.name, f"{p.description}{unit}; repeat for several (OR-ed)", repeatable=True, enum=p.vocabulary)


# The OpenAPI description derives from the one table of SIA's parameters.
SIA_PARAMETERS = (
    *(_api_parameter(p) for p in PARAMETERS),
    ApiParam("MAXREC", "Most rows to return; beyond it the answer says OVERFLOW", kind="integer"),
    ApiParam("RESPONSEFORMAT", "Output format, by TAP name or MIME type (default: VOTable)"),
)
SIA_ANSWERS = answers(
    "the ObsCore rows of the matching images (VOTable with DataLink and SODA descriptors)",
    ["application/x-votable+xml"],
    "a VOTable whose QUERY_STATUS message starts UsageFault:",
)

SIA_ROOT_ANSWERS = page_or_answer(SIA_ANSWERS, "the query's answer")


@lru_cache(maxsize=8)
def sia_extras(base_url: str, values: ObsCoreValues) -> VOTableExtras:
    """What an SIA answer carries besides its rows; the same until the archive's values change,
    so rendered once rather than per request."""
    described = resource_xml(self_descriptor(f"{base_url}/sia/query", values))
    return discovery_extras(base_url, ID_FIELD, (described,), (("standardID", StandardID.SIA2),))


async def run_sia_query(params: DALIParams, svc: Services, request: Request, who: Identity) -> Response:
    fmt = response_format(params.get("RESPONSEFORMAT"))
    maxrec = params.maxrec(svc.settings)
    values = {p.name: params.getall(p.name) for p in PARAMETERS}
    # ObsCore as the caller may see it (dalserver.access.visibility): the catalogue's table says how.
    catalog = await svc.access.catalog(who)
    mark("catalogue")
    query = build_query(values, obscore_table(catalog.tables), maxrec)
    mark("query")
    writer = ResultWriter(fmt, sia_extras(svc.settings.public_url, await svc.obscore_values.get()))
    mark("descriptors")
    limits = Limits(svc.settings.statement_timeout_seconds, svc.settings.fetch_batch_bytes)
    try:
        chunks = await answer(query, writer, svc.queries, limits, client_gone(request))
    except QueryFailed as exc:
        if exc.sqlstate == PGSPHERE_ERROR:  # the one input pgsphere judges, not our parser: POS POLYGON
            raise UsageFault(f"POS POLYGON is not a valid spherical polygon ({exc.message})") from None
        raise
    return await answer_response(chunks, fmt.mime, svc.settings, chunks.rows_in_memory)


@router.post(
    "/sia/query", summary="SIA 2.0 image search", openapi_extra=dali_post(SIA_PARAMETERS), responses=SIA_ANSWERS
)
@router.get("/sia/query", summary="SIA 2.0 image search", openapi_extra=dali_get(SIA_PARAMETERS), responses=SIA_ANSWERS)
async def sia_query(request: Request, svc: ServicesDep, params: FormParams, who: IdentityDep) -> Response:
    return await run_sia_query(params, svc, request, who)


@router.get("/sia/examples", summary="SIA DALI examples")
async def examples(svc: ServicesDep) -> Response:
    return examples_response(
        f"{svc.settings.title}: SIA", await sample_dataset(svc.pool), StandardID.SIA2, sia_examples
    )


@router.get(
    "/sia",
    summary="SIA service landing page; with SIA parameters, a query as at /sia/query",
    openapi_extra=dali_get(SIA_PARAMETERS),
    responses=SIA_ROOT_ANSWERS,
)
@router.post("/sia", summary="SIA query at the service's base URL", include_in_schema=False)
async def landing(request: Request, svc: ServicesDep, params: FormParams, who: IdentityDep) -> Response:
    """The page for a browser; a request with parameters is a query (TOPCAT and STILTS are often
    given the service's base URL rather than its query URL)."""
    if request.method == "POST" or request.query_params:
        return await run_sia_query(params, svc, request, who)
    base = svc.settings.public_url
    return landing_page(
        svc.settings.title,
        "SIA",
        f"Simple Image Access 2.0 at {base}/sia (pyvo: pyvo.dal.SIA2Service).",
        (
            f"{base}/sia/query?POS=CIRCLE%2034.5%20-5.0%200.05&BAND=6e-7%207e-7&MAXREC=10",
            "images at RA 34.5, Dec -5.0 in 600-700 nm",
        ),
        tuple((f"{base}/sia/{p}", p) for p in ("capabilities", "availability", "examples")),
        clients=(
            f"Give pyvo and TOPCAT {base}/sia; STILTS and other clients that want the query URL "
            f"{base}/sia/query. Both answer SIA 2.0 parameters (POS, BAND, TIME, ID, ...)."
        ),
    )
