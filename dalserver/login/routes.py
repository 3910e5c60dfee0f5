"""``POST /login`` (form fields ``username``, ``password``) answers 200 with the ``SESSION``
cookie, as TOPCAT's AUTH (AuthVO's ``ivoa_cookie``) and astroquery's TapPlus expect (TOPCAT does
not follow a redirect from a login); with a same-site ``next`` (the portal's form) it answers 303
there. ``/tap/login`` and ``/tap/logout`` are the same for TapPlus, which logs in at its TAP
service's ``login``. ``POST /logout`` ends the session. ``GET /whoami`` says who the caller is.

The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Lax`` (other sites' forms do not
carry it), ``Secure`` when the public URL is https, and lasts DALSERVER_SESSION_HOURS. Only its
key and the SHA-256 of its secret are stored; logging out revokes it.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from dalserver.access.gate import SESSION_COOKIE
from dalserver.dali.faults import ErrorStyle, NotAuthenticated, UsageFault
from dalserver.dali.params import DALIParams
from dalserver.http.routing import protocol_router
from dalserver.services import IdentityDep, ServicesDep
from dalserver.settings import Settings

router = protocol_router(ErrorStyle.PLAIN_TEXT, tags=["Login"])


def _set_cookie(response: Response, value: str, settings: Settings, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.public_url.startswith("https://"),
    )


def _next(value: str | None) -> str | None:
    """Where the portal's form asked to go after logging in: a path on this site, nothing else."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return value


@router.get("/login", response_class=HTMLResponse, summary="The login form")
async def login_form(svc: ServicesDep) -> HTMLResponse:
    title = escape(svc.settings.title)
    return HTMLResponse(
        f"<!DOCTYPE html><html><head><title>{title}: log in</title></head><body><h1>{title}</h1>"
        "<p>Log in to see the proprietary data your groups are granted.</p>"
        '<form method="post" action="login"><input type="hidden" name="next" value="/">'
        '<label>User <input name="username" autocomplete="username" required></label> '
        '<label>Password <input name="password" type="password" autocomplete="current-password" required></label> '
        "<button>Log in</button></form>"
        "<p>Scripts can use HTTP Basic with a password or a token (dalserver user token), or "
        "<code>Authorization: Bearer</code> with a token.</p></body></html>"
    )


@router.post("/login", summary="Log in: a session cookie (200, or 303 to next)")
@router.post("/tap/login", summary="Log in (astroquery TapPlus)")
async def login(request: Request, svc: ServicesDep) -> Response:
    params = await DALIParams.from_request(request)
    user, password = params.get("username"), params.get("password")
    if not user or password is None:
        raise UsageFault("give username and password (form fields)")
    token = await svc.access.login(user, password, request)
    if token is None:
        request.state.auth_problem = "invalid_credentials"  # the answer carries the challenges
        raise NotAuthenticated("wrong user name or password (or the account is disabled)")
    target = _next(params.get("next"))
    response: Response = (
        RedirectResponse(target, status_code=303) if target else PlainTextResponse(f"logged in as {user}\n")
    )
    _set_cookie(response, token.text, svc.settings, int(svc.settings.session_hours * 3600))
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/logout", summary="Log out: the session ends")
@router.post("/tap/logout", summary="Log out (astroquery TapPlus)")
async def logout(request: Request, svc: ServicesDep) -> Response:
    await svc.access.logout(request.cookies.get(SESSION_COOKIE))
    response = PlainTextResponse("logged out\n", headers={"Cache-Control": "no-store"})
    _set_cookie(response, "", svc.settings, 0)
    return response


@router.get("/whoami", summary="Who the caller is (JSON: user, groups)")
async def whoami(who: IdentityDep) -> JSONResponse:
    return JSONResponse({"user": who.user, "groups": sorted(who.groups)}, headers={"Cache-Control": "no-store"})
