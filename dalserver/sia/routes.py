"""SIA 2.0 endpoints: /sia/query (DALI-sync, GET and POST), /sia/capabilities, /sia/availability."""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from dalserver.datalink.descriptors import SIA_STANDARD, resource_xml
from dalserver.datalink.discovery import ID_FIELD, discovery_extras
from dalserver.db.query import QueryStream, QueryTimeout
from dalserver.errors import DALIError
from dalserver.formats.registry import response_format
from dalserver.formats.votable import VOTableExtras
from dalserver.landing import landing_page
from dalserver.params import FORM_MAX_BYTES, DALIParams
from dalserver.services import Services, services
from dalserver.sia.describe import Options, self_descriptor
from dalserver.sia.query import QUERY_PARAMETERS, UsageFault, build_query, obscore_table
from dalserver.vosi.resources import vosi_routes

router = APIRouter()
# SIA 2.0 sec. 2.3's example capability: the query resource's URL as a base, interface version 2.0.
router.include_router(vosi_routes("sia", "SIA", SIA_STANDARD, "query", version="2.0", use="base"))


def _maxrec(params: DALIParams, svc: Services) -> int:
    try:
        requested = params.integer("MAXREC", svc.settings.maxrec_default)
    except DALIError as exc:
        raise UsageFault(exc.message) from None
    return min(requested, svc.settings.maxrec_hard)


@lru_cache(maxsize=8)
def sia_extras(base_url: str, options: Options) -> VOTableExtras:
    """What an SIA answer carries besides its rows; the same until the archive's values change,
    so rendered once rather than per request."""
    described = resource_xml(self_descriptor(f"{base_url}/sia/query", options))
    return discovery_extras(base_url, ID_FIELD, (described,), (("standardID", SIA_STANDARD),))


async def run_sia_query(params: DALIParams, svc: Services) -> StreamingResponse:
    fmt = response_format(params.get("RESPONSEFORMAT"), fault="UsageFault: ")
    maxrec = _maxrec(params, svc)
    values = {name: params.getall(name) for name in QUERY_PARAMETERS}
    table = obscore_table((await svc.catalog.get()).tables)
    # One row beyond MAXREC tells an overflow apart from an exact fit; MAXREC=0: metadata only.
    query = build_query(values, table, maxrec + 1 if maxrec else 0)
    stream = QueryStream(svc.queries, query.sql, svc.settings.statement_timeout_seconds, svc.settings.fetch_batch_bytes)
    try:
        await stream.open()
    except QueryTimeout as exc:
        raise DALIError(f"FatalFault: {exc.message}") from None
    except DALIError as exc:
        if "spherepoly" in exc.message:  # the one input pgsphere judges, not the parser
            raise UsageFault(f"POS POLYGON is not a valid spherical polygon ({exc.message})") from None
        raise DALIError(f"DefaultFault: {exc.message}", exc.status_code) from None
    extras = sia_extras(svc.settings.public_url, await svc.vocabulary.get() if svc.vocabulary else ())

    async def body():  # type: ignore[no-untyped-def]
        try:
            async for chunk in fmt.stream(query.columns, stream.batches(), maxrec, extras):
                yield chunk
        finally:
            await stream.close()

    return StreamingResponse(body(), media_type=fmt.mime)


@router.api_route("/sia/query", methods=["GET", "POST"], summary="SIA 2.0 image search")
async def sia_query(request: Request) -> StreamingResponse:
    svc = services(request)
    params = await DALIParams.from_request(request, FORM_MAX_BYTES)
    return await run_sia_query(params, svc)


@router.get("/sia", response_class=HTMLResponse, summary="SIA service landing page")
async def landing(request: Request) -> HTMLResponse:
    settings = services(request).settings
    base = settings.public_url
    return landing_page(
        settings.title,
        "SIA",
        f"Simple Image Access 2.0 at {base}/sia (pyvo: pyvo.dal.SIA2Service).",
        (
            f"{base}/sia/query?POS=CIRCLE%2034.5%20-5.0%200.05&BAND=6e-7%207e-7&MAXREC=10",
            "images at RA 34.5, Dec -5.0 in 600-700 nm",
        ),
        tuple((f"{base}/sia/{p}", p) for p in ("capabilities", "availability", "examples")),
    )
