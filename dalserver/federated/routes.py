"""The federated image search: /federated/sia/query (SIA 2.0 parameters, DALI-sync, GET and POST)
over the crawler's cache of other archives' data, and with LIVE=true over the services
themselves too; its VOSI resources, examples and landing page.

pyvo's ``SIA2Service`` takes ``<server>/federated/sia`` as it takes any SIA 2.0 service. Errors
are SIA's own error documents; a live service that misbehaves is that service's INFO.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from archive_io.remote_answers import user_agent
from dalserver.access.identity import Identity
from dalserver.dali.descriptors import resource_xml
from dalserver.dali.examples import MEDIA_TYPE as EXAMPLES_MEDIA_TYPE
from dalserver.dali.examples import examples_document
from dalserver.dali.faults import ErrorStyle, UsageFault
from dalserver.dali.params import DALIParams
from dalserver.db.errors import PGSPHERE_ERROR, QueryFailed
from dalserver.federated.describe import self_descriptor
from dalserver.federated.live import ask_services, candidate_services
from dalserver.federated.live_client import LiveClient
from dalserver.federated.parameters import LIVE
from dalserver.federated.query import build_federated_query, cache_table, federated_sql
from dalserver.federated.reach import search_circles
from dalserver.federated.report import SearchReport
from dalserver.formats.registry import response_format
from dalserver.formats.votable import VOTableExtras
from dalserver.http.landing import landing_page
from dalserver.http.openapi import ApiParam, answers, dali_get, dali_post, page_or_answer
from dalserver.http.routing import client_gone, protocol_router, streamed_answer
from dalserver.obscore.example_dataset import Sample
from dalserver.pipeline import Limits, ResultWriter, answer
from dalserver.services import FormParams, IdentityDep, Services, ServicesDep, identity, services
from dalserver.settings import Settings
from dalserver.sia.examples import sia_examples
from dalserver.sia.parameters import PARAMETERS
from dalserver.sia.routes import SIA_PARAMETERS
from dalserver.vosi.resources import vosi_routes
from ivoa.vocabulary import StandardID

SERVICE = "federated/sia"
router = protocol_router(ErrorStyle.DAL_VOTABLE, tags=["Federated image search (SIA 2.0)"])
router.include_router(
    vosi_routes(
        SERVICE,
        "Federated SIA",
        StandardID.SIA2,
        "query",
        ErrorStyle.DAL_VOTABLE,
        services,
        identity,
        version="2.0",
        use="base",
    )
)

PARAMETERS_API = (*SIA_PARAMETERS, ApiParam(LIVE.name, LIVE.description, kind="boolean"))
ANSWERS = answers(
    "the ObsCore rows of other archives' images (VOTable): the cache's, then those only the live "
    "services hold; INFOs after the table say how many came from where, and how each live service fared",
    ["application/x-votable+xml"],
    "a VOTable whose QUERY_STATUS message starts UsageFault:",
)
ROOT_ANSWERS = page_or_answer(ANSWERS, "the search's answer")
_SAMPLE = (
    "SELECT obs_publisher_did, s_ra, s_dec, s_fov, em_min, em_max, t_min, t_max, instrument_name "
    "FROM vo.remote_obscore WHERE dataproduct_type IN ('image', 'cube') AND s_ra IS NOT NULL "
    "AND s_dec IS NOT NULL AND s_fov > 0 ORDER BY source_ivoid, obs_publisher_did LIMIT 1"  # the unique key's index
)
_NO_SAMPLE = "The cache holds no image yet: examples appear once the crawler has stored some (dalserver crawl run)."


def _software_version() -> str:
    try:
        return version("dalserver")
    except PackageNotFoundError:
        return "0"


def make_live_client(settings: Settings) -> LiveClient:
    """The process's client for live services (``app.state.live_client``), with the crawler's
    User-Agent."""
    return LiveClient(
        user_agent(_software_version(), settings.crawl_contact_url or settings.public_url),
        settings.federated_max_body_mb << 20,
        settings.federated_timeout_seconds,
        settings.federated_private_addresses,
    )


async def live_client(request: Request) -> LiveClient:
    """This process's client for live services (made by the app's lifespan): one per process,
    so that its searches take turns at each host."""
    client: LiveClient = request.app.state.live_client
    return client


LiveClientDep = Annotated[LiveClient, Depends(live_client)]


async def _live_part(
    params_values: dict[str, list[str]], svc: Services, client: LiveClient, report: SearchReport, maxrec: int
) -> None:
    settings = svc.settings
    circles = search_circles(params_values.get("POS", []))
    found = await candidate_services(svc.pool, circles, params_values, settings.federated_live_services)
    report.live_asked = True
    report.timeout = settings.federated_timeout_seconds
    report.outcomes = await ask_services(
        client, found, params_values, circles, min(maxrec, settings.federated_live_maxrec), report.timeout
    )


async def run_federated_query(
    params: DALIParams, svc: Services, client: LiveClient, request: Request, who: Identity
) -> Response:
    fmt = response_format(params.get("RESPONSEFORMAT"))
    maxrec = params.maxrec(svc.settings)
    live = LIVE.parse(params.get(LIVE.name))
    values = {p.name: params.getall(p.name) for p in PARAMETERS}
    table = cache_table((await svc.access.catalog(who)).tables)  # the cache is public, unless an operator restricts it
    federated_sql(values, table, maxrec, with_live=False)  # every parameter checked before anyone is asked
    report = SearchReport(maxrec)
    gone = asyncio.ensure_future(client_gone(request))
    if live and maxrec > 0:
        asking = asyncio.ensure_future(_live_part(values, svc, client, report, maxrec))
        try:
            await asyncio.wait((asking, gone), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not asking.done():  # the client went away (or the request was cancelled): so do the live requests
                asking.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await asking
        if gone.done():
            return Response(status_code=499)  # nobody is there to read it
        try:
            await asking
        except BaseException:
            gone.cancel()
            raise
    query = build_federated_query(values, table, maxrec, report)
    described = resource_xml(self_descriptor(f"{svc.settings.public_url}/{SERVICE}/query"))
    writer = ResultWriter(fmt, VOTableExtras(resources=described, closing_infos=report.infos))
    limits = Limits(svc.settings.statement_timeout_seconds, svc.settings.fetch_batch_bytes)
    try:
        chunks = await answer(query, writer, svc.queries, limits, gone)
    except QueryFailed as exc:
        if exc.sqlstate == PGSPHERE_ERROR:  # the one input pgsphere judges, not our parser: POS POLYGON
            raise UsageFault(f"POS POLYGON is not a valid spherical polygon ({exc.message})") from None
        raise
    return streamed_answer(chunks, fmt.mime, svc.settings)


@router.post(
    f"/{SERVICE}/query",
    summary="Federated SIA 2.0 image search of other archives",
    openapi_extra=dali_post(PARAMETERS_API),
    responses=ANSWERS,
)
@router.get(
    f"/{SERVICE}/query",
    summary="Federated SIA 2.0 image search of other archives",
    openapi_extra=dali_get(PARAMETERS_API),
    responses=ANSWERS,
)
async def federated_query(
    request: Request, svc: ServicesDep, params: FormParams, client: LiveClientDep, who: IdentityDep
) -> Response:
    return await run_federated_query(params, svc, client, request, who)


async def _cache_sample(svc: Services) -> Sample | None:
    async with svc.pool.connection() as conn:
        row = await (await conn.execute(_SAMPLE)).fetchone()
        await conn.rollback()
    return Sample(*row) if row else None


@router.get(f"/{SERVICE}/examples", summary="Federated SIA DALI examples")
async def examples(svc: ServicesDep) -> Response:
    sample = await _cache_sample(svc)
    found = [replace(e, capability=StandardID.SIA2) for e in sia_examples(sample)] if sample else []
    document = examples_document(f"{svc.settings.title}: federated image search", found, _NO_SAMPLE)
    return Response(document, media_type=EXAMPLES_MEDIA_TYPE)


@router.get(
    f"/{SERVICE}",
    summary="Federated image search landing page; with SIA parameters, a search as at /federated/sia/query",
    openapi_extra=dali_get(PARAMETERS_API),
    responses=ROOT_ANSWERS,
)
@router.post(f"/{SERVICE}", summary="Federated search at the service's base URL", include_in_schema=False)
async def landing(
    request: Request, svc: ServicesDep, params: FormParams, client: LiveClientDep, who: IdentityDep
) -> Response:
    """The page for a browser; a request with parameters is a search (as at /sia)."""
    if request.method == "POST" or request.query_params:
        return await run_federated_query(params, svc, client, request, who)
    base = f"{svc.settings.public_url}/{SERVICE}"
    return landing_page(
        svc.settings.title,
        "federated image search",
        f"Images of other archives of the Virtual Observatory, with Simple Image Access 2.0 parameters, at {base} "
        "(pyvo: pyvo.dal.SIA2Service): from this archive's cache of them (vo.remote_obscore, kept by its "
        "crawler), and with LIVE=true from the services themselves too, each asked within "
        f"{svc.settings.federated_timeout_seconds:g} s; INFOs after the table say how many rows came from where.",
        (
            f"{base}/query?POS=CIRCLE%2034.5%20-5.0%200.5&MAXREC=100",
            "other archives' images within 0.5 degrees of RA 34.5, Dec -5.0",
        ),
        tuple((f"{base}/{p}", p) for p in ("capabilities", "availability", "examples")),
        clients=(
            f"Give pyvo and TOPCAT {base}; STILTS and other clients that want the query URL {base}/query. "
            "Both answer SIA 2.0 parameters (POS, BAND, TIME, COLLECTION, FACILITY, ...) and LIVE."
        ),
    )
