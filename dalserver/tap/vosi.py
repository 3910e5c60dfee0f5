"""The TAP service's VOSI resources and landing page: availability, capabilities, tables."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from archive_io.tap_schema import read_tap_schema
from dalserver.faults import ErrorStyle, NotFoundFault
from dalserver.landing import landing_page
from dalserver.routing import protocol_router
from dalserver.services import services
from dalserver.vosi import documents
from dalserver.vosi.resources import OUTPUT_FORMATS, availability_response, tap_limits

router = protocol_router(ErrorStyle.PLAIN_VOTABLE, tags=["TAP"])


@router.get("/tap/availability", summary="VOSI availability")
async def availability(request: Request) -> Response:
    return await availability_response(services(request))


@router.get("/tap/capabilities", summary="VOSI capabilities (TAPRegExt)")
async def capabilities(request: Request) -> Response:
    settings = services(request).settings
    body = documents.tap_capabilities(settings.public_url, OUTPUT_FORMATS, tap_limits(settings))
    return Response(body, media_type=documents.XML_MEDIA_TYPE)


@router.get("/tap/tables", summary="VOSI tables (VODataService tableset)")
async def tables(request: Request, detail: str | None = None) -> Response:
    schemas = await read_tap_schema(services(request).pool)
    body = documents.tableset(schemas, detail_min=(detail or "").lower() == "min")
    return Response(body, media_type=documents.XML_MEDIA_TYPE)


@router.get("/tap/tables/{name}", summary="VOSI tables: one table")
async def one_table(request: Request, name: str) -> Response:
    schemas = await read_tap_schema(services(request).pool)
    for schema in schemas:
        for table in schema["tables"]:
            if table["name"].lower() == name.lower():
                return Response(documents.single_table(table), media_type=documents.XML_MEDIA_TYPE)
    raise NotFoundFault(f"no published table is called {name!r}")


@router.get("/tap", response_class=HTMLResponse, summary="TAP service landing page")
async def landing(request: Request) -> HTMLResponse:
    settings = services(request).settings
    base = settings.public_url
    return landing_page(
        settings.title,
        "TAP",
        f"Table Access Protocol 1.1 service at {base}/tap. Use it with pyvo, TOPCAT or astroquery.",
        (f"{base}/tap/sync?LANG=ADQL&QUERY=SELECT%20TOP%2010%20*%20FROM%20ivoa.obscore", "ten ObsCore rows"),
        tuple((f"{base}/tap/{p}", p) for p in ("capabilities", "availability", "tables", "examples")),
    )
