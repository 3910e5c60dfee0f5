"""A request still waiting when the database is found down is answered at once with the protocol's
503 (dalserver.http.routing.AnswerWhenTheDatabaseHangs), while every request's handler runs in
the request's own task (no task of its own per request: issue #28). A small app of its own with
the archive's real ``DatabaseHealth``, told the database is lost as a failing request would tell
it, served by uvicorn in this process and asked over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from dalserver.dali.faults import ErrorStyle
from dalserver.db.health import DatabaseHealth
from dalserver.http.routing import AnswerWhenTheDatabaseHangs, add_error_handlers, protocol_router
from tests.support.threaded_server import serving_in_thread

router = protocol_router(ErrorStyle.PLAIN_VOTABLE)
seen: dict[str, Any] = {}


def _health(request: Request) -> DatabaseHealth:
    health: DatabaseHealth = request.app.state.services.health
    return health


@router.get("/task")
async def task_of_the_handler(request: Request) -> Response:
    seen["handler"] = asyncio.current_task()
    return PlainTextResponse("ok")


@router.get("/lost-while-waiting")
async def lost_while_waiting(request: Request) -> Response:
    _health(request).lost("the test says so")
    try:
        await asyncio.Event().wait()  # a statement the stopped database never answers
    except asyncio.CancelledError:
        seen["cancelled"] = True
        raise
    return PlainTextResponse("never")


@router.get("/needs-no-database")
async def needs_no_database(request: Request) -> Response:
    return PlainTextResponse(f"available: {_health(request).up}")


@router.get("/lost-after-the-first-bytes")
async def lost_after_the_first_bytes(request: Request) -> Response:
    health = _health(request)

    async def body() -> Any:
        yield b"first "
        health.lost("the test says so")
        await asyncio.sleep(0.05)
        yield b"last"

    return StreamingResponse(body(), media_type="text/plain")


class RecordTask:
    """The outer layer: notes the task the request arrives in."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen["request"] = asyncio.current_task()
        await self.app(scope, receive, send)


@pytest.fixture
def served() -> Iterator[tuple[str, FastAPI]]:
    seen.clear()
    app = FastAPI()
    app.include_router(router)
    add_error_handlers(app)
    app.add_middleware(AnswerWhenTheDatabaseHangs)
    app.add_middleware(RecordTask)
    app.state.services = SimpleNamespace(health=DatabaseHealth("postgresql://unused.invalid/none"))
    with serving_in_thread(app) as (port, _):
        yield f"http://127.0.0.1:{port}", app


def test_the_handler_runs_in_the_request_s_own_task(served: tuple[str, FastAPI]) -> None:
    base, _ = served
    assert httpx.get(f"{base}/task").text == "ok"
    assert seen["handler"] is seen["request"]


def test_a_request_waiting_when_the_database_is_found_down_gets_the_protocol_s_503_at_once(
    served: tuple[str, FastAPI],
) -> None:
    base, _ = served
    with httpx.Client(timeout=5) as client:
        response = client.get(f"{base}/lost-while-waiting")
        assert response.status_code == 503 and response.headers.get("Retry-After")
        assert response.headers["content-type"].startswith("application/x-votable+xml")
        assert "the test says so" in response.text
        assert seen.get("cancelled") is True
        # The same connection serves the next request; one that needs no database is answered.
        assert client.get(f"{base}/needs-no-database").text == "available: False"


def test_an_answer_already_on_its_way_is_left_alone(served: tuple[str, FastAPI]) -> None:
    base, _ = served
    response = httpx.get(f"{base}/lost-after-the-first-bytes", timeout=5)
    assert response.status_code == 200 and response.text == "first last"
