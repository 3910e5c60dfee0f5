"""Routes of the protocol routers call their dependencies and endpoint directly where FastAPI has
nothing to convert or validate (dalserver.http.direct_calls): each dependency once, in FastAPI's
order, with the request, path parameters and other dependencies' results; every other route, and
every request while dependency overrides are set, keeps FastAPI's own handler. A small app of its
own, served by uvicorn in this process and asked over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import fastapi.routing
import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response

import dalserver.scs.routes
import dalserver.sia.routes
import dalserver.tap.sync
import dalserver.tap.vosi
from dalserver.dali.faults import ErrorStyle
from dalserver.http.direct_calls import direct_handler
from dalserver.http.routing import protocol_router
from tests.test_dependencies import serving

calls: list[str] = []


async def first(request: Request) -> str:
    calls.append("first")
    return request.url.path


async def second(request: Request, earlier: Annotated[str, Depends(first)], name: str) -> str:
    calls.append("second")
    return f"{earlier}+{name}"


class Third:
    """A callable instance, as dalserver.services.DALIParamsReader is."""

    async def __call__(self, earlier: Annotated[str, Depends(first)]) -> str:
        calls.append("third")
        return earlier.upper()


router = protocol_router(ErrorStyle.PLAIN_VOTABLE)


@router.get("/things/{name}")
async def thing(
    name: str,
    a: Annotated[str, Depends(first)],
    b: Annotated[str, Depends(second)],
    c: Annotated[str, Depends(Third())],
) -> Response:
    calls.append("endpoint")
    return PlainTextResponse(f"{name} {a} {b} {c}")


@router.get("/counted")
async def counted(k: int, a: Annotated[str, Depends(first)]) -> Response:
    return PlainTextResponse(f"{k + 1} {a}")


@pytest.fixture
def base() -> Iterator[tuple[FastAPI, str]]:
    app = FastAPI()
    app.include_router(router)
    with serving(app) as url:
        yield app, url


@pytest.fixture
def solver_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one each time FastAPI's own dependency solver runs."""
    runs: list[int] = []
    solve = getattr(fastapi.routing, "solve_dependencies")  # noqa: B009 - not among its exports

    async def counting(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return await solve(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    return runs


def test_a_route_of_the_request_path_parameters_and_dependencies_is_served_without_fastapis_solver(
    base: tuple[FastAPI, str], solver_runs: list[int]
) -> None:
    _, url = base
    calls.clear()
    answer = httpx.get(f"{url}/things/m31")
    assert answer.status_code == 200
    assert answer.text == "m31 /things/m31 /things/m31+m31 /THINGS/M31"
    assert calls == ["first", "second", "third", "endpoint"]  # each once, dependencies first
    assert solver_runs == []


def test_a_route_with_a_parameter_fastapi_converts_keeps_fastapis_handler(
    base: tuple[FastAPI, str], solver_runs: list[int]
) -> None:
    _, url = base
    assert httpx.get(f"{url}/counted", params={"k": "41"}).text == "42 /counted"
    assert httpx.get(f"{url}/counted", params={"k": "many"}).status_code == 422
    assert len(solver_runs) == 2


def test_dependency_overrides_are_honoured_on_a_directly_served_route(base: tuple[FastAPI, str]) -> None:
    app, url = base

    async def swapped() -> str:
        return "swapped"

    app.dependency_overrides[first] = swapped
    try:
        assert httpx.get(f"{url}/things/m31").text == "m31 swapped swapped+m31 SWAPPED"
    finally:
        app.dependency_overrides.clear()
    assert httpx.get(f"{url}/things/m31").text == "m31 /things/m31 /things/m31+m31 /THINGS/M31"


@pytest.mark.parametrize(
    ("module", "path"),
    [
        (dalserver.tap.sync, "/tap/sync"),
        (dalserver.sia.routes, "/sia/query"),
        (dalserver.scs.routes, "/scs/{name}"),
        (dalserver.tap.vosi, "/tap/availability"),
    ],
)
def test_the_archives_query_routes_are_served_directly(module: Any, path: str) -> None:
    routes = [r for r in module.router.routes if isinstance(r, fastapi.routing.APIRoute) and r.path == path]
    assert routes, f"no route {path} in {module.__name__}"

    async def fallback(request: Request) -> Response:
        raise AssertionError("not called")

    for route in routes:
        assert direct_handler(route.dependant, fallback) is not None, f"{path} needs FastAPI's solver"
