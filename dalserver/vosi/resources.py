"""VOSI availability and capabilities responses that every service of this server offers alike."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dalserver.faults import ErrorStyle
from dalserver.routing import protocol_router
from dalserver.services import Services, services
from dalserver.vosi import documents


async def availability_response(svc: Services) -> Response:
    """Available when the database answers; the note says why not otherwise."""
    try:
        async with svc.pool.connection(timeout=5) as conn:
            await conn.execute("SELECT 1")
            await conn.rollback()
        ok, note = True, "the service is accepting queries"
    except Exception as exc:  # any failure to reach the database means "not available"
        ok, note = False, f"the database cannot be reached: {type(exc).__name__}"
    return Response(documents.availability(ok, note, svc.started), media_type=documents.XML_MEDIA_TYPE)


def vosi_routes(
    service: str, label: str, standard_id: str, resource: str, style: ErrorStyle, **interface: str
) -> APIRouter:
    """``/<service>/capabilities`` (the service's one standard capability at ``/<service>/<resource>``,
    then VOSI's, then its DALI examples) and ``/<service>/availability``; ``interface``: version,
    use of its accessURL; ``style``: the service's error documents. Every such service has
    ``/<service>/examples``."""
    router = protocol_router(style)

    @router.get(f"/{service}/capabilities", summary=f"{label} VOSI capabilities")
    async def capabilities(request: Request) -> Response:
        base = f"{services(request).settings.public_url}/{service}"
        capability = documents.Capability(standard_id, f"{base}/{resource}", **interface)
        document = documents.service_capabilities(base, [capability], examples=True)
        return Response(document, media_type=documents.XML_MEDIA_TYPE)

    @router.get(f"/{service}/availability", summary=f"{label} VOSI availability")
    async def availability(request: Request) -> Response:
        return await availability_response(services(request))

    return router
