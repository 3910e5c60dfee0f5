"""Request paths as clients really write them: a base URL given with a trailing slash
(``http://host/tap/``) makes pyvo, astroquery and STILTS ask for ``/tap//sync``. The path is
tidied before routing, in place, rather than redirected: a redirect of a POST loses its body
for some clients (and a 301/302 turns it into a GET for most)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

_REPEATED = re.compile(r"/{2,}")
_REPEATED_RAW = re.compile(rb"/{2,}")


def tidy_path(path: str) -> str:
    """``path`` with runs of slashes collapsed and no trailing slash (except the root's)."""
    tidy = _REPEATED.sub("/", path)
    return tidy.rstrip("/") or "/"


def _tidy_raw(raw: bytes) -> bytes:
    return _REPEATED_RAW.sub(b"/", raw).rstrip(b"/") or b"/"


class TidyPaths:
    """ASGI middleware: routes see ``tidy_path(path)`` (and the same change in ``raw_path``)."""

    def __init__(self, app: Callable[..., Awaitable[None]]):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] in ("http", "websocket"):
            path = scope["path"]
            tidy = tidy_path(path)
            if tidy != path:
                scope = dict(scope, path=tidy)
                raw = scope.get("raw_path")
                if raw:
                    scope["raw_path"] = _tidy_raw(raw)
        await self.app(scope, receive, send)
