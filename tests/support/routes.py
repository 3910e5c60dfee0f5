"""Every route an app serves, with its methods and the functions its dependencies call (those of
the routers it was included with among them): for tests that check what each route depends on."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute


@dataclass(frozen=True)
class ServedRoute:
    path: str
    methods: frozenset[str]
    calls: frozenset[Callable[..., Any]]  # every dependency, however deep


def _calls(dependant: Dependant | None) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies if dependant else ():
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _walk(routes: Iterable[Any]) -> Iterator[ServedRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield ServedRoute(route.path, frozenset(route.methods or ()), frozenset(_calls(route.dependant)))
        elif hasattr(route, "effective_candidates"):  # a router included in another (FastAPI 0.16x)
            yield from _walk(route.effective_candidates())
        elif hasattr(route, "original_route") and isinstance(route.original_route, APIRoute):
            dependant = route.dependant
            yield ServedRoute(route.path, frozenset(route.original_route.methods or ()), frozenset(_calls(dependant)))
        else:
            path = getattr(route, "path", None)
            if path is not None:
                yield ServedRoute(path, frozenset(getattr(route, "methods", None) or {"GET"}), frozenset())


def served_routes(app: FastAPI) -> list[ServedRoute]:
    return list(_walk(app.routes))
