"""Routers that know their protocol's error style, and the one handler that turns every refusal
into the error document of the protocol whose route raised it.

A route made by ``protocol_router(ErrorStyle.SODA_TEXT)`` answers a ``UsageFault`` with
``text/plain`` ``UsageError: ...``; one made with ``DAL_VOTABLE`` with a VOTable whose message
starts ``UsageFault: ...``; a path no route serves gets the plain VOTable.
"""

from __future__ import annotations

import logging

import psycopg
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from dalserver.db.errors import database_fault, is_connection_lost
from dalserver.faults import DALIError, ErrorStyle, FatalFault, NotFoundFault, UsageFault
from dalserver.formats import votable

log = logging.getLogger(__name__)


def _route_class(style: ErrorStyle) -> type[APIRoute]:
    return type(f"{style.name.title().replace('_', '')}Route", (APIRoute,), {"error_style": style})


_ROUTE_CLASSES = {style: _route_class(style) for style in ErrorStyle}


def protocol_router(style: ErrorStyle, **kwargs: object) -> APIRouter:
    """An APIRouter whose routes write errors in ``style``."""
    return APIRouter(route_class=_ROUTE_CLASSES[style], **kwargs)  # type: ignore[arg-type]


def error_style(request: Request) -> ErrorStyle:
    route = request.scope.get("route")
    return getattr(route, "error_style", ErrorStyle.PLAIN_VOTABLE)


def error_response(request: Request, error: DALIError) -> Response:
    style = error_style(request)
    message = style.message(error)
    if style is ErrorStyle.SODA_TEXT:
        return PlainTextResponse(message, status_code=error.status_code, headers=error.headers)
    body = votable.error_document(message)
    return Response(body, status_code=error.status_code, media_type=votable.MEDIA_TYPE, headers=error.headers)


def add_error_handlers(app: FastAPI) -> None:
    """Every failure a request can meet becomes an error document; never a stack trace or HTML."""

    @app.exception_handler(DALIError)
    async def refused(request: Request, exc: DALIError) -> Response:
        if exc.status_code >= 500:
            log.warning("%s %s: %s", request.method, request.url.path, exc.message)
        return error_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_response(request, NotFoundFault("no such resource"))
        return error_response(request, UsageFault(str(exc.detail), exc.status_code))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, UsageFault(f"invalid request: {exc.errors()}"))

    @app.exception_handler(psycopg.Error)
    async def database_error(request: Request, exc: psycopg.Error) -> Response:
        # Metadata and job-store statements: a lost connection is the database's absence (503);
        # anything else is the service's own failure.
        fault = database_fault(exc)
        if fault.status_code >= 500 and not is_connection_lost(exc):
            log.exception("database error on %s", request.url.path)
        return error_response(request, fault)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(request, FatalFault("internal error in the service; the operator's log has the details"))


async def client_gone(request: Request) -> None:
    """Completes when the client of ``request`` disconnects (its body must have been read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
