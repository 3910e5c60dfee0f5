"""Routers that know their protocol's error style, and the one handler that turns every refusal
into the error document of the protocol whose route raised it.

A route made by ``protocol_router(ErrorStyle.SODA_TEXT)`` answers a ``UsageFault`` with
``text/plain`` ``UsageError: ...``; one made with ``DAL_VOTABLE`` with a VOTable whose message
starts ``UsageFault: ...``; a path no route serves gets the plain VOTable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import anyio
import fastapi.routing
import psycopg
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from dalserver.dali.faults import DALIError, ErrorStyle, FatalFault, NotFoundFault, UsageFault
from dalserver.db.errors import DatabaseUnavailable, database_fault, is_connection_lost
from dalserver.formats import votable
from dalserver.http.direct_calls import direct_handler
from dalserver.http.landing import not_found_page, wants_html
from dalserver.http.spool import spooled
from dalserver.settings import Settings

log = logging.getLogger(__name__)


class _DirectRoute(APIRoute):
    """A route that calls its dependencies and endpoint directly where it can
    (dalserver.http.direct_calls)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        fallback = super().get_route_handler()
        # FastAPI builds a route's handler once for each router that includes it, with that
        # inclusion's dependant (its dependencies added) in effect: ask for the one in effect.
        effective = _effective_route()
        dependant = effective.dependant if effective is not None else self.dependant
        return direct_handler(dependant, fallback) or fallback


def _effective_route() -> Any:
    """FastAPI's route in effect while a handler is built (``fastapi.routing``'s context of an
    included route), or None when there is none or this FastAPI has no such thing."""
    context = getattr(fastapi.routing, "_effective_route_context_var", None)
    return context.get() if context is not None else None


def _route_class(style: ErrorStyle) -> type[APIRoute]:
    return type(f"{style.name.title().replace('_', '')}Route", (_DirectRoute,), {"error_style": style})


_ROUTE_CLASSES = {style: _route_class(style) for style in ErrorStyle}


def protocol_router(style: ErrorStyle, **kwargs: Any) -> APIRouter:
    """An APIRouter whose routes write errors in ``style``. No route answers JSON unless it says
    so (the OpenAPI description would otherwise claim application/json for every answer)."""
    kwargs.setdefault("default_response_class", Response)
    return APIRouter(route_class=_ROUTE_CLASSES[style], **kwargs)


def error_style(request: Request) -> ErrorStyle:
    route = request.scope.get("route")
    return getattr(route, "error_style", ErrorStyle.PLAIN_VOTABLE)


def error_response(request: Request, error: DALIError) -> Response:
    style = error_style(request)
    message = style.message(error)
    if style in (ErrorStyle.SODA_TEXT, ErrorStyle.PLAIN_TEXT):
        return PlainTextResponse(message, status_code=error.status_code, headers=error.headers)
    if style is ErrorStyle.SCS_VOTABLE:
        # SCS 1.03 answers the client's mistakes with HTTP 200 and an error VOTable; the
        # service's own failures keep their 5xx status.
        status = error.status_code if error.status_code >= 500 else 200
        body = votable.scs_error_document(message)
        return Response(body, status_code=status, media_type=votable.MEDIA_TYPE, headers=error.headers)
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
            if request.scope.get("route") is None and wants_html(request.headers.get("accept")):
                return _not_found_page(request)  # a person in a browser, at a path no service has
            return error_response(request, NotFoundFault(f"no such resource: {request.url.path}"))
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


def _not_found_page(request: Request) -> Response:
    svc = getattr(request.app.state, "services", None)
    title = svc.settings.title if svc is not None else request.app.title
    base = svc.settings.public_url if svc is not None else str(request.base_url).rstrip("/")
    return not_found_page(title, base, request.url.path)


async def client_gone(request: Request) -> None:
    """Completes when the client of ``request`` disconnects (its body must have been read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


class AnswerWhenTheDatabaseHangs:
    """ASGI middleware: a request still waiting for the database when the database is found
    down (refusing, or hung: a stopped server answers nothing, not even a cancel) is answered at
    once with 503 and Retry-After, in its protocol's error style. Its handler is cancelled and
    unwinds in its own time; a response already on its way is left alone (the pipeline writes
    the failure into the document).

    The handler runs in the request's own task: a task of its own and ``asyncio.wait`` for each
    request cost some 20-30 us of a worker's CPU, about a tenth of a trivial request's (issue
    #28). The 503 goes from a task started only when the database is found down."""

    def __init__(self, app: Callable[..., Awaitable[None]]):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        state = getattr(scope.get("app"), "state", None)
        svc = getattr(state, "services", None)
        if scope["type"] != "http" or svc is None:
            await self.app(scope, receive, send)
            return
        handling = asyncio.current_task()
        assert handling is not None
        started = ended = False
        answering: asyncio.Task[None] | None = None  # the 503's, once the database is found down

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal started
            if answering is not None:
                return  # the client has its answer already
            started = True
            await send(message)

        def found_down(_: object) -> None:
            nonlocal answering
            # A database known down already is found so after the handler's first step, as it was
            # when the handler had a task of its own: a request that needs no database (VOSI
            # availability) is answered by its handler.
            if started or ended or answering is not None:
                return
            answering = asyncio.ensure_future(self._unavailable(scope, receive, send, svc.health.reason))
            handling.cancel()

        gone = svc.health.watch()
        gone.add_done_callback(found_down)
        try:
            await self.app(scope, receive, guarded_send)
        except (asyncio.CancelledError, Exception):
            if answering is None:
                raise
            # Cancelled here because the database was found down (or failing as it unwound):
            # the client has its 503 from ``answering``.
            handling.uncancel()
        finally:
            ended = True
            gone.remove_done_callback(found_down)
            gone.cancel()
        if answering is not None:
            await answering

    @staticmethod
    async def _unavailable(
        scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any], reason: str
    ) -> None:
        response = error_response(Request(scope), DatabaseUnavailable(reason))
        await response(scope, receive, send)


class AnswerResponse(StreamingResponse):
    """A streamed answer whose reader must make progress: one that takes no bytes for
    ``send_timeout`` seconds is dropped, so a stuck client holds nothing for ever."""

    def __init__(self, content: AsyncIterator[bytes], media_type: str, send_timeout: float):
        super().__init__(content, media_type=media_type)
        self.send_timeout = send_timeout

    async def stream_response(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        try:
            async for chunk in self.body_iterator:
                with anyio.fail_after(self.send_timeout):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except TimeoutError:
            log.warning("a client read nothing for %g s; its answer is abandoned", self.send_timeout)
            await self._close_body()
            return
        except DALIError as exc:
            # A format with no place for a late failure (CSV, TSV) raises it: the answer is cut off
            # without its last chunk, so the client sees an incomplete transfer, not a short result.
            log.warning("an answer was cut off: %s", exc.message)
            await self._close_body()
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _close_body(self) -> None:
        closing = getattr(self.body_iterator, "aclose", None)
        if closing is not None:
            await closing()


async def answer_response(
    chunks: AsyncIterator[bytes], media_type: str, settings: Settings, whole: bool = False
) -> Response:
    """The HTTP response for a query's answer. With ``whole`` (every row is read already: a
    small result), the answer is written now and goes as one body: no spool, no streaming task,
    no per-chunk timer, which is most of what a small query cost besides the database. Any other
    answer is streamed (``streamed_answer``)."""
    if not whole:
        return streamed_answer(chunks, media_type, settings)
    written: list[bytes] = []
    try:
        async for chunk in chunks:
            written.append(chunk)
    except DALIError as exc:
        # A format with no place for a late failure: cut off as a streamed answer would be.
        return streamed_answer(_then_raise(written, exc), media_type, settings)
    except BaseException:
        closing = getattr(chunks, "aclose", None)
        if closing is not None:
            await closing()  # the query's session goes back to its pool
        raise
    return Response(b"".join(written), media_type=media_type)


async def _then_raise(chunks: list[bytes], error: DALIError) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
    raise error


def streamed_answer(chunks: AsyncIterator[bytes], media_type: str, settings: Settings) -> AnswerResponse:
    """The HTTP response for a query's answer: spooled (the query does not wait for a slow reader)
    and guarded against a reader that stops."""
    body = spooled(chunks, settings.spool_memory_bytes, settings.spool_max_bytes)
    return AnswerResponse(body, media_type, settings.send_timeout_seconds)
