"""``GET /``: the portal page; ``/portal/config.json``: what the page needs to know about this
server (its URLs, limits, the ADQL vocabulary, which optional services it has);
``/portal/<file>``: the built assets, cached by browsers (a year for a URL carrying the file's
hash, revalidated by ETag otherwise)."""

from __future__ import annotations

from hashlib import sha256
from html import escape
from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse, JSONResponse, Response

from adql.functions import SIGNATURES
from adql.reserved import RESERVED_WORDS
from adql.udf import USER_FUNCTIONS
from dalserver.faults import ErrorStyle, NotFoundFault
from dalserver.routing import protocol_router
from dalserver.services import services
from dalserver.web.assets import Asset, asset, version
from dalserver.web.lookup_routes import router as lookup_router

router = protocol_router(ErrorStyle.PLAIN_VOTABLE, tags=["Portal"])

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=3600"


def _not_modified(request: Request, etag: str, headers: dict[str, str]) -> Response | None:
    wanted = request.headers.get("if-none-match", "")
    if etag in (tag.strip() for tag in wanted.split(",")) or wanted.strip() == "*":
        return Response(status_code=304, headers={"ETag": etag, **headers})
    return None


def _serve(request: Request, found: Asset, cache_control: str) -> Response:
    """Sent in 64 KiB chunks (Aladin Lite is 2.3 MB): a worker's memory stays where it was."""
    headers = {"Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"}
    return _not_modified(request, found.etag, headers) or FileResponse(
        found.path, media_type=found.media_type, headers={"ETag": found.etag, **headers}
    )


@router.api_route("/", methods=["GET", "HEAD"], summary="The portal: image search, ADQL, tables, sky view")
async def portal_page(request: Request) -> Response:
    found = asset("index.html")
    if found is None:
        raise NotFoundFault("the portal is not built into this installation (web/build.mjs writes it)")
    title = escape(services(request).settings.title)
    body = found.path.read_text().replace("%TITLE%", title).encode()
    etag = f'"{found.sha256[:24]}-{sha256(title.encode()).hexdigest()[:8]}"'
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return _not_modified(request, etag, headers) or Response(
        body, media_type=found.media_type, headers={"ETag": etag, **headers}
    )


def portal_config(request: Request) -> dict[str, Any]:
    settings = services(request).settings
    config: dict[str, Any] = {
        "title": settings.title,
        "maxrec_default": settings.maxrec_default,
        "maxrec_hard": settings.maxrec_hard,
        "tables": "tap/tables",
        "examples": "tap/examples",
        "sia": "sia/query",
        "datalink": "datalink/links",
        "soda": "soda/sync",
        # An archive with no survey built answers an empty list: the page then says so.
        "hipslist": "hips/hipslist",
        "moc": "moc/all.json",
        "resolver": {"url": "portal/resolve", "online": "CDS Sesame" if settings.sesame_url else None},
        "catalogues": "portal/catalogues.json",
        "targets": "portal/targets.json",
        "adql": {
            "keywords": sorted(RESERVED_WORDS),
            "functions": sorted({*SIGNATURES, *(name.upper() for name in USER_FUNCTIONS)}),
        },
    }
    return config


@router.get("/portal/config.json", summary="What the portal page needs to know about this server")
async def config(request: Request) -> JSONResponse:
    return JSONResponse(portal_config(request), headers={"Cache-Control": "no-cache"})


# before the catch-all of the assets below: /portal/resolve is a route, not a file
router.include_router(lookup_router)


@router.api_route("/portal/{name:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def portal_file(request: Request, name: str) -> Response:
    found = asset(name) if name not in ("build.json", "index.html") else None
    if found is None:
        raise NotFoundFault(f"the portal has no file {name!r}")
    versioned = request.query_params.get("v")
    return _serve(request, found, IMMUTABLE if versioned and versioned == version(name) else REVALIDATE)
