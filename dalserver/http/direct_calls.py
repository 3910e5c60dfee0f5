"""The hot paths without FastAPI's per-request dependency solving (issue #28).

FastAPI solves a route's dependencies anew for every request: it walks the dependency tree,
classifies each callable, sorts parameters into path, query, header, cookie and body, validates
each and builds the call's arguments; on a small query that is some 50-150 us of a worker's CPU
before any work is done. Most routes here ask for nothing FastAPI must validate: the ``Request``,
path parameters that are strings, and other dependencies of the same kind (the services, the
DALI parameters, the identity). For those, the order of calls and the arguments each takes are
known once the route is made: ``direct_handler`` works them out then, and per request calls the
same functions in the same order with the same arguments, each once, as FastAPI's own
dependency cache would.

A route that asks for anything else (a query parameter FastAPI converts, a body model, a
dependency with ``yield`` or run in a thread, security scopes) keeps FastAPI's handler, and so
does every request while ``app.dependency_overrides`` holds something (tests swap dependencies
so: tests/test_dependencies.py). The endpoint's signature still describes the route to OpenAPI.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass(frozen=True)
class _Call:
    """One call of the plan: ``call(**arguments)``, each argument the request, a path parameter
    or an earlier call's result."""

    call: Callable[..., Awaitable[Any]]
    request: str | None  # the name the Request is passed as
    path: tuple[str, ...]  # path parameters passed by their names
    earlier: tuple[tuple[str, int], ...]  # (name, index of the earlier call)


def _is_async(call: Any) -> bool:
    if inspect.isasyncgenfunction(call) or inspect.isgeneratorfunction(call):
        return False
    if inspect.iscoroutinefunction(call):
        return True
    dunder = getattr(call, "__call__", None)  # noqa: B004 - an instance whose __call__ is async
    return (
        not inspect.isfunction(call)
        and dunder is not None
        and inspect.iscoroutinefunction(dunder)
        and not inspect.isasyncgenfunction(dunder)
    )


def _simple(dependant: Dependant) -> bool:
    """Whether a call asks only for the request, string path parameters and other calls."""
    if (
        dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.own_oauth_scopes
        or not dependant.use_cache
        or dependant.call is None
        or not _is_async(dependant.call)
    ):
        return False
    return all(field.field_info.annotation is str and field.alias == field.name for field in dependant.path_params)


def _plan(dependant: Dependant, calls: list[_Call], done: dict[int, int]) -> int | None:
    """Append the calls ``dependant`` needs, then its own, to ``calls`` (depth first, each call
    once, as FastAPI solves them); its index, or None if one of them is not simple."""
    if not _simple(dependant):
        return None
    assert dependant.call is not None
    known = done.get(id(dependant.call))
    if known is not None:
        return known
    earlier = []
    for sub in dependant.dependencies:
        index = _plan(sub, calls, done)
        if index is None or sub.name is None:
            return None
        earlier.append((sub.name, index))
    calls.append(
        _Call(
            dependant.call,
            dependant.request_param_name,
            tuple(field.name for field in dependant.path_params),
            tuple(earlier),
        )
    )
    done[id(dependant.call)] = len(calls) - 1
    return len(calls) - 1


def _answers_responses(endpoint: Callable[..., Any]) -> bool:
    """Whether ``endpoint`` is declared to return a Response (which FastAPI passes on as it is)."""
    try:
        declared = typing.get_type_hints(endpoint).get("return")
    except Exception:  # noqa: BLE001 - a hint that does not resolve: FastAPI's handler decides
        return False
    return isinstance(declared, type) and issubclass(declared, Response)


def direct_handler(dependant: Dependant, fallback: Handler) -> Handler | None:
    """A handler that serves the route of ``dependant`` as FastAPI's ``fallback`` would, without
    solving its dependencies per request; None if the route needs FastAPI's solver."""
    if dependant.call is None or not _answers_responses(dependant.call):
        return None
    calls: list[_Call] = []
    if _plan(dependant, calls, {}) is None:
        return None
    plan = tuple(calls)

    async def handle(request: Request) -> Response:
        if request.app.dependency_overrides:
            return await fallback(request)
        results: list[Any] = []
        path = request.path_params
        for step in plan:
            arguments = {name: results[index] for name, index in step.earlier}
            for name in step.path:
                arguments[name] = path[name]
            if step.request is not None:
                arguments[step.request] = request
            results.append(await step.call(**arguments))
        answer = results[-1]
        if not isinstance(answer, Response):
            raise TypeError(f"{plan[-1].call.__qualname__} answered {type(answer).__name__}, not a Response")
        return answer

    return handle
