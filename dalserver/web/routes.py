"""``GET /``: the portal page; ``/portal/config.json``: what the page needs to know about this
server (its URLs, limits, the ADQL vocabulary, which optional services it has);
``/portal/<file>``: the built assets, cached by browsers (a year for a URL carrying the file's
hash, revalidated by ETag otherwise)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from hashlib import sha256
from html import escape

from fastapi import Request
from fastapi.responses import FileResponse, JSONResponse, Response

from adql.functions import SIGNATURES
from adql.reserved import RESERVED_WORDS
from adql.udf import USER_FUNCTIONS
from dalserver.dali.faults import ErrorStyle, NotFoundFault
from dalserver.http.routing import protocol_router
from dalserver.services import ServicesDep
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
async def portal_page(request: Request, svc: ServicesDep) -> Response:
    found = asset("index.html")
    if found is None:
        raise NotFoundFault("the portal is not built into this installation (web/build.mjs writes it)")
    title = escape(svc.settings.title)
    body = found.path.read_text().replace("%TITLE%", title).encode()
    etag = f'"{found.sha256[:24]}-{sha256(title.encode()).hexdigest()[:8]}"'
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return _not_modified(request, etag, headers) or Response(
        body, media_type=found.media_type, headers={"ETag": etag, **headers}
    )


@dataclass(frozen=True)
class AdqlVocabulary:
    """What the page's ADQL editor completes and highlights."""

    keywords: list[str] = field(default_factory=lambda: sorted(RESERVED_WORDS))
    functions: list[str] = field(
        default_factory=lambda: sorted({*SIGNATURES, *(name.upper() for name in USER_FUNCTIONS)})
    )


@dataclass(frozen=True)
class Resolver:
    """Where the page's name fields resolve a name, and which online resolver answers (None: offline)."""

    online: str | None
    url: str = "portal/resolve"


@dataclass(frozen=True)
class PortalConfig:
    """``/portal/config.json``: the server's limits and the page's resources, relative to the page."""

    title: str
    maxrec_default: int
    maxrec_hard: int
    # the cart's downloads and when a synchronous query goes on as a job
    bulk_max_ids: int
    async_after_seconds: float
    resolver: Resolver
    tables: str = "tap/tables"
    examples: str = "tap/examples"
    sia: str = "sia/query"
    datalink: str = "datalink/links"
    soda: str = "soda/sync"
    # An archive with no survey built answers an empty list: the page then says so.
    hipslist: str = "hips/hipslist"
    moc: str = "moc/all.json"
    quicklook: str = "quicklook/pixels"
    catalogues: str = "portal/catalogues.json"
    targets: str = "portal/targets.json"
    adql: AdqlVocabulary = field(default_factory=AdqlVocabulary)


@router.get("/portal/config.json", summary="What the portal page needs to know about this server")
async def config(svc: ServicesDep) -> JSONResponse:
    settings = svc.settings
    body = PortalConfig(
        settings.title,
        settings.maxrec_default,
        settings.maxrec_hard,
        settings.bulk_max_ids,
        settings.portal_async_after_seconds,
        Resolver("CDS Sesame" if settings.sesame_url else None),
    )
    return JSONResponse(asdict(body), headers={"Cache-Control": "no-cache"})


# before the catch-all of the assets below: /portal/resolve is a route, not a file
router.include_router(lookup_router)


@router.api_route("/portal/{name:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def portal_file(request: Request, name: str) -> Response:
    found = asset(name) if name not in ("build.json", "index.html") else None
    if found is None:
        raise NotFoundFault(f"the portal has no file {name!r}")
    versioned = request.query_params.get("v")
    return _serve(request, found, IMMUTABLE if versioned and versioned == version(name) else REVALIDATE)
