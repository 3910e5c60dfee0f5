"""The TAP service's VOSI resources and landing page: availability, capabilities, tables."""

from __future__ import annotations

from dataclasses import replace

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from archive_io.tap_schema import read_tap_schema
from dalserver.access.identity import Identity
from dalserver.access.visibility import tableset_for
from dalserver.dali.faults import ErrorStyle, NotFoundFault
from dalserver.formats.registry import FORMATS
from dalserver.http.landing import landing_page
from dalserver.http.openapi import xml_answer
from dalserver.http.routing import protocol_router
from dalserver.services import IdentityDep, Services, ServicesDep
from dalserver.vosi import documents
from dalserver.vosi.resources import availability_response, tap_limits
from schemas.tableset import Tableset, TapSchema, TapTable

router = protocol_router(ErrorStyle.PLAIN_VOTABLE, tags=["TAP"])


@router.api_route(
    "/tap/availability", methods=["GET", "HEAD"], summary="VOSI availability", responses=xml_answer("VOSI availability")
)
async def availability(svc: ServicesDep) -> Response:
    return await availability_response(svc)


@router.api_route(
    "/tap/capabilities",
    methods=["GET", "HEAD"],
    summary="VOSI capabilities (TAPRegExt)",
    responses=xml_answer("VOSI capabilities"),
)
async def capabilities(svc: ServicesDep, who: IdentityDep) -> Response:
    """Anybody's (AuthVO sec. 4.1), GET and HEAD; it says who the caller is (X-VO-Authenticated)
    and, to anonymous callers once the archive has accounts, how to log in."""
    settings = svc.settings
    secured = await svc.access.accounts_exist()
    body = documents.tap_capabilities(settings.public_url, FORMATS, tap_limits(settings), secured)
    return Response(body, media_type=documents.XML_MEDIA_TYPE)


def _only_tables(published: Tableset, wanted: str) -> Tableset:
    """The schemas with just the tables named in ``wanted`` (comma-separated, any case), in that order."""
    names = [n.strip().lower() for n in wanted.split(",") if n.strip()]
    by_name = {t.name.lower(): (s, t) for s in published.schemas for t in s.tables}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise NotFoundFault(f"no published table is called {', '.join(repr(n) for n in missing)}")
    kept: dict[str, tuple[TapSchema, list[TapTable]]] = {}
    for name in names:
        schema, table = by_name[name]
        _, tables = kept.setdefault(schema.name, (schema, []))
        if table not in tables:
            tables.append(table)
    return Tableset(tuple(replace(schema, tables=tuple(tables)) for schema, tables in kept.values()))


_TAPPLUS_PARAMETERS = ("tables", "only_tables", "share_accessible", "share_info")


def _tapplus_schema(request: Request, public_url: str) -> str | None:
    """Where the TAP+ attributes' schema is, if this request is astroquery's TapPlus: it sends
    ESA TAP+'s own parameters (``tables=``) or, on GET, no User-Agent at all (pyvo, STILTS,
    TOPCAT, browsers and curl all send one). Everyone else gets plain VODataService."""
    if request.headers.get("user-agent") and not any(p in request.query_params for p in _TAPPLUS_PARAMETERS):
        return None
    return f"{public_url}/tap/esatapplus.xsd"


async def _visible_tables(svc: Services, who: Identity) -> Tableset:
    """TAP_SCHEMA as ``who`` may read it (no table of another group)."""
    return tableset_for(await read_tap_schema(svc.pool), who, await svc.access.restricted.get())


@router.get("/tap/tables", summary="VOSI tables (VODataService tableset)", responses=xml_answer("VOSI tableset"))
async def tables(
    request: Request, svc: ServicesDep, who: IdentityDep, detail: str | None = None, tables: str | None = None
) -> Response:
    """``detail=min``: names and descriptions only. ``tables=schema.name,...``: just those tables
    (astroquery's TapPlus ``load_table`` asks this way; ESA's TAP+ and others offer it)."""
    published = await _visible_tables(svc, who)
    if tables is not None and tables.strip():
        published = _only_tables(published, tables)
    body = documents.tableset(
        published,
        detail_min=(detail or "").lower() == "min",
        esatapplus_xsd=_tapplus_schema(request, svc.settings.public_url),
    )
    return Response(body, media_type=documents.XML_MEDIA_TYPE)


@router.get("/tap/esatapplus.xsd", summary="XML schema of the TAP+ column attributes in /tap/tables")
async def esatapplus_schema() -> Response:
    """The tables documents carry ESA TAP+'s column flags (for astroquery's TapPlus); VODataService
    admits foreign attributes only with a schema, and this is it."""
    return Response(documents.ESATAPPLUS_XSD.read_bytes(), media_type="application/xml")


@router.get("/tap/tables/{name}", summary="VOSI tables: one table", responses=xml_answer("VOSI table"))
async def one_table(request: Request, svc: ServicesDep, who: IdentityDep, name: str) -> Response:
    table = (await _visible_tables(svc, who)).table(name)
    if table is None:
        raise NotFoundFault(f"no published table is called {name!r}")
    body = documents.single_table(table, _tapplus_schema(request, svc.settings.public_url))
    return Response(body, media_type=documents.XML_MEDIA_TYPE)


@router.get("/tap", response_class=HTMLResponse, summary="TAP service landing page")
async def landing(svc: ServicesDep) -> HTMLResponse:
    settings = svc.settings
    base = settings.public_url
    return landing_page(
        settings.title,
        "TAP",
        f"Table Access Protocol 1.1 service at {base}/tap. Use it with pyvo, TOPCAT or astroquery.",
        (f"{base}/tap/sync?LANG=ADQL&QUERY=SELECT%20TOP%2010%20*%20FROM%20ivoa.obscore", "ten ObsCore rows"),
        tuple((f"{base}/tap/{p}", p) for p in ("capabilities", "availability", "tables", "examples")),
    )
