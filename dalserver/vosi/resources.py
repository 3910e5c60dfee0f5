"""The VOSI resources every service of this server offers alike: availability, and capabilities
naming the service's one standard interface."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from dalserver.dali.faults import ErrorStyle
from dalserver.http.openapi import xml_answer
from dalserver.http.routing import protocol_router
from dalserver.services import Services, ServicesDep
from dalserver.vosi import documents


async def availability_response(svc: Services) -> Response:
    """Available while the database answers (as its health probe last found); the note says why
    not otherwise, and since when. No request to the database: availability is asked often."""
    health = svc.health
    if health.up:
        ok, note = True, "the service is accepting queries"
    else:
        ok, note = False, f"the database is not available since {health.since:%Y-%m-%dT%H:%M:%SZ}: {health.reason}"
    return Response(documents.availability(ok, note, svc.started), media_type=documents.XML_MEDIA_TYPE)


def vosi_routes(
    service: str, label: str, standard_id: str, resource: str, style: ErrorStyle, **interface: str
) -> APIRouter:
    """``/<service>/capabilities`` (the service's one standard capability at ``/<service>/<resource>``,
    then VOSI's, then its DALI examples) and ``/<service>/availability``; ``interface``: version,
    use of its accessURL; ``style``: the service's error documents. Every such service has
    ``/<service>/examples``."""
    router = protocol_router(style)

    @router.get(
        f"/{service}/capabilities", summary=f"{label} VOSI capabilities", responses=xml_answer("VOSI capabilities")
    )
    async def capabilities(svc: ServicesDep) -> Response:
        base = f"{svc.settings.public_url}/{service}"
        capability = documents.Capability(standard_id, f"{base}/{resource}", **interface)
        document = documents.service_capabilities(base, [capability], examples=True)
        return Response(document, media_type=documents.XML_MEDIA_TYPE)

    @router.get(
        f"/{service}/availability", summary=f"{label} VOSI availability", responses=xml_answer("VOSI availability")
    )
    async def availability(svc: ServicesDep) -> Response:
        return await availability_response(svc)

    return router
