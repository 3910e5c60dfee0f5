"""VOSI availability and capabilities responses that every service of this server offers alike.

The routes read the app's settings and database health through a dependency their protocol
hands in (``dalserver.services.services``): this package sits below the services, since the
registry records embed its documents."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from dalserver.dali.faults import ErrorStyle
from dalserver.db.health import DatabaseHealth
from dalserver.http.openapi import xml_answer
from dalserver.http.routing import protocol_router
from dalserver.settings import Settings
from dalserver.vosi import documents


class ServiceState(Protocol):
    """What the VOSI resources read of the app's services (``dalserver.services.Services``)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def health(self) -> DatabaseHealth: ...

    @property
    def started(self) -> datetime: ...


def tap_limits(settings: Settings) -> documents.TapLimits:
    """What TAPRegExt says of this service's limits; the VOSI capabilities and the registry
    record say the same."""
    return documents.TapLimits(
        maxrec_default=settings.maxrec_default,
        maxrec_hard=settings.maxrec_hard,
        # TAPRegExt's executionDuration is the async jobs' limit; sync queries have their own,
        # shorter statement timeout (DALSERVER_STATEMENT_TIMEOUT_SECONDS).
        execution_default=settings.async_execution_default_seconds,
        execution_hard=settings.async_execution_max_seconds,
        retention_default=settings.job_retention_default_seconds,
        retention_hard=settings.job_retention_max_seconds,
        upload_bytes=settings.upload_max_bytes,
        upload_url=settings.upload_url_fetch,
    )


async def availability_response(svc: ServiceState) -> Response:
    """Available while the database answers (as its health probe last found); the note says why
    not otherwise, and since when. No request to the database: availability is asked often."""
    health = svc.health
    if health.up:
        ok, note = True, "the service is accepting queries"
    else:
        ok, note = False, f"the database is not available since {health.since:%Y-%m-%dT%H:%M:%SZ}: {health.reason}"
    return Response(documents.availability(ok, note, svc.started), media_type=documents.XML_MEDIA_TYPE)


def vosi_routes(
    service: str,
    label: str,
    standard_id: str,
    resource: str,
    style: ErrorStyle,
    services: Callable[..., Awaitable[ServiceState]],
    **interface: str,
) -> APIRouter:
    """``/<service>/capabilities`` (the service's one standard capability at ``/<service>/<resource>``,
    then VOSI's, then its DALI examples) and ``/<service>/availability``; ``interface``: version,
    use of its accessURL; ``style``: the service's error documents; ``services``: the dependency
    that gives the app's services. Every such service has ``/<service>/examples``."""
    router = protocol_router(style)
    # A default, not an annotation: the dependency is this call's argument.
    app_services = Depends(services)

    @router.get(
        f"/{service}/capabilities", summary=f"{label} VOSI capabilities", responses=xml_answer("VOSI capabilities")
    )
    async def capabilities(svc: ServiceState = app_services) -> Response:
        base = f"{svc.settings.public_url}/{service}"
        capability = documents.Capability(standard_id, f"{base}/{resource}", **interface)
        document = documents.service_capabilities(base, [capability], examples=True)
        return Response(document, media_type=documents.XML_MEDIA_TYPE)

    @router.get(
        f"/{service}/availability", summary=f"{label} VOSI availability", responses=xml_answer("VOSI availability")
    )
    async def availability(svc: ServiceState = app_services) -> Response:
        return await availability_response(svc)

    return router
