"""What every answer of a guarded route says about authentication (ASGI middleware), from what
the identity dependency noted in the request's state:

* authenticated: ``X-VO-Authenticated: <user>`` (AuthVO sec. 4.3), ``Cache-Control: private``
  (no shared cache keeps an answer made for one user);
* anonymous, once the archive has accounts: ``WWW-Authenticate`` challenges, one per header, that
  say how to log in (AuthVO sec. 2.1: a 401 must carry them; TOPCAT reads them on any status);
  a refused Bearer token gets ``error="invalid_token"`` (RFC 6750 sec. 3.1). The Basic challenge is
  left off a 401 answering the portal's own fetches, where the browser would pop up its dialog;
* either way ``Vary: Authorization, Cookie``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import MutableHeaders

from dalserver.access.identity import Identity
from dalserver.settings import Settings
from ivoa.vocabulary import StandardID

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[..., Awaitable[Any]], Callable[..., Awaitable[None]]], Awaitable[None]]
VARY = "Authorization, Cookie"


def challenges(settings: Settings, problem: str | None = None, basic: bool = True) -> list[str]:
    """The WWW-Authenticate values that tell a client how to log in here."""
    realm = settings.title.replace("\\", "").replace('"', "'")
    cookie = f'ivoa_cookie standard_id="{StandardID.SSO_TLS_WITH_PASSWORD}", access_url="{settings.public_url}/login"'
    bearer = f'Bearer realm="{realm}"' + (', error="invalid_token"' if problem == "invalid_token" else "")
    return [cookie, *([f'Basic realm="{realm}"'] if basic else []), bearer]


class AuthenticationHeaders:
    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings

    async def __call__(
        self, scope: Scope, receive: Callable[..., Awaitable[Any]], send: Callable[..., Awaitable[None]]
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self._add(scope, message)
            await send(message)

        await self.app(scope, receive, with_headers)

    def _add(self, scope: Scope, message: dict[str, Any]) -> None:
        state = scope.get("state") or {}
        who: Identity | None = state.get("identity")
        problem: str | None = state.get("auth_problem")
        if who is None and problem is None:
            return  # a route that does not ask who the caller is
        headers = MutableHeaders(scope=message)
        vary = headers.get("vary")
        headers["Vary"] = f"{vary}, {VARY}" if vary else VARY
        if who is not None and who.authenticated:
            headers["X-VO-Authenticated"] = who.user or ""
            headers["Cache-Control"] = "private"
            return
        if not state.get("auth_enabled") and problem is None:
            return  # no accounts: nobody can log in, so nothing is offered
        request_headers = dict(scope.get("headers") or [])
        fetched = request_headers.get(b"sec-fetch-mode", b"") in (b"cors", b"same-origin")
        basic = not (message["status"] == 401 and fetched)
        for challenge in challenges(self.settings, problem, basic):
            headers.append("WWW-Authenticate", challenge)
