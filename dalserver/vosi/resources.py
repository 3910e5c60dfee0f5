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

from dalserver.access.gate import Access
from dalserver.access.identity import Identity
from dalserver.dali.faults import ErrorStyle
from dalserver.db.health import DatabaseHealth
from dalserver.db.replicas import QueryRouter
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
    def queries(self) -> QueryRouter: ...  # the standbys users' queries go to, for their notes

    @property
    def started(self) -> datetime: ...

    @property
    def access(self) -> Access: ...


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
    not otherwise, and since when, and a note per standby says how it does. No request to the
    database: availability is asked often."""
    health = svc.health
    if health.up:
        ok, note = True, "the service is accepting queries"
    else:
        ok, note = False, f"the database is not available since {health.since:%Y-%m-%dT%H:%M:%SZ}: {health.reason}"
    # Each standby users' queries may go to: in use or not, why, and how far behind the primary.
    notes = [note, *svc.queries.notes()]
    return Response(documents.availability(ok, notes, svc.started), media_type=documents.XML_MEDIA_TYPE)


def vosi_routes(
    service: str,
    label: str,
    standard_id: str,
    resource: str,
    style: ErrorStyle,
    services: Callable[..., Awaitable[ServiceState]],
    identity: Callable[..., Awaitable[Identity]],
    **interface: str,
) -> APIRouter:
    """``/<service>/capabilities`` (the service's one standard capability at ``/<service>/<resource>``,
    then VOSI's, then its DALI examples) and ``/<service>/availability``, both on GET and HEAD
    (AuthVO sec. 4.1: clients probe with HEAD for the challenges); ``interface``: version, use of
    its accessURL; ``style``: the service's error documents; ``services``, ``identity``: the
    dependencies that give the app's services and the caller (capabilities answer anybody, and
    say to whom: X-VO-Authenticated). Every such service has ``/<service>/examples``."""
    router = protocol_router(style)
    # Defaults, not annotations: the dependencies are this call's arguments.
    app_services = Depends(services)
    caller = Depends(identity)

    @router.api_route(
        f"/{service}/capabilities",
        methods=["GET", "HEAD"],
        summary=f"{label} VOSI capabilities",
        responses=xml_answer("VOSI capabilities"),
    )
    async def capabilities(svc: ServiceState = app_services, who: Identity = caller) -> Response:
        base = f"{svc.settings.public_url}/{service}"
        capability = documents.Capability(standard_id, f"{base}/{resource}", **interface)
        secured = await svc.access.accounts_exist()
        document = documents.service_capabilities(base, [capability], examples=True, secured=secured)
        return Response(document, media_type=documents.XML_MEDIA_TYPE)

    @router.api_route(
        f"/{service}/availability",
        methods=["GET", "HEAD"],
        summary=f"{label} VOSI availability",
        responses=xml_answer("VOSI availability"),
    )
    async def availability(svc: ServiceState = app_services) -> Response:
        return await availability_response(svc)

    return router
