"""``GET /``: the portal page; ``/portal/config.json``: what the page needs to know about this
server (its URLs, limits, the ADQL vocabulary, which optional services it has);
``/portal/resolve``: an object name's position (dalserver/web/resolver.py);
``/portal/catalogues.json``: the catalogues a cone search can search; ``/portal/targets.json``:
the names of the archive's targets;
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
from dalserver.faults import ErrorStyle, NotFoundFault, TransientFault, UsageFault
from dalserver.records.store import published_records
from dalserver.routing import protocol_router
from dalserver.services import services
from dalserver.web.assets import Asset, asset, version
from dalserver.web.resolver import ArchiveTargets, Sesame, SesameUnreachable, archive_answer, name_key

router = protocol_router(ErrorStyle.PLAIN_VOTABLE, tags=["Portal"])

IMMUTABLE = "public, max-age=31536000, immutable"
MAX_TARGET_NAMES = 5000  # suggested to the name fields; every target resolves all the same
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


def _archive_targets(request: Request) -> ArchiveTargets:
    """This app's archive targets (one cache per app, made on first use)."""
    state = request.app.state
    targets = getattr(state, "portal_targets", None)
    if targets is None:
        targets = state.portal_targets = ArchiveTargets(services(request).pool)
    return targets


def _sesame(request: Request) -> Sesame | None:
    settings = services(request).settings
    if not settings.sesame_url:
        return None
    state = request.app.state
    sesame = getattr(state, "portal_sesame", None)
    if sesame is None:
        sesame = state.portal_sesame = Sesame(settings.sesame_url, settings.sesame_timeout_seconds)
    return sesame


@router.get("/portal/resolve", summary="An object name's position: the archive's own targets, then CDS Sesame")
async def resolve(request: Request, name: str = "") -> JSONResponse:
    """``{name, ra, dec, resolver, detail, radius}`` (degrees, ICRS); ``resolver`` is ``archive``
    or ``sesame``. 404 when no resolver knows the name, 503 when the archive does not and Sesame
    cannot be asked."""
    wanted = " ".join(name.split())
    if not wanted:
        raise UsageFault("give an object name, e.g. /portal/resolve?name=M31")
    if len(wanted) > 200:
        raise UsageFault("an object name is at most 200 characters long")
    target = (await _archive_targets(request).get()).get(name_key(wanted))
    if target is not None:
        return JSONResponse(archive_answer(target).as_json(), headers={"Cache-Control": "no-cache"})
    sesame = _sesame(request)
    if sesame is None:
        raise NotFoundFault(
            f"{wanted!r} is not a target of this archive, and this server does not ask online "
            "resolvers (DALSERVER_SESAME_URL is empty): give a position instead"
        )
    try:
        found = await sesame.resolve(wanted)
    except SesameUnreachable as exc:
        raise TransientFault(
            f"{wanted!r} is not a target of this archive, and the online resolver (CDS Sesame) is not "
            f"reachable: {exc}. Give a position instead",
            retry_after=60,
        ) from None
    if found is None:
        raise NotFoundFault(f"{wanted!r} is neither a target of this archive nor a name CDS Sesame knows")
    return JSONResponse(found.as_json(), headers={"Cache-Control": "no-cache"})


@router.get("/portal/targets.json", summary="The names of the archive's targets (for a name field's suggestions)")
async def targets(request: Request) -> JSONResponse:
    found = await _archive_targets(request).get()
    names = sorted((t.name for t in found.values()), key=str.casefold)[:MAX_TARGET_NAMES]
    return JSONResponse(names, headers={"Cache-Control": "no-cache"})


@router.get("/portal/catalogues.json", summary="The catalogues the portal's cone search form offers")
async def catalogues(request: Request) -> JSONResponse:
    """The published catalogues that have a position (the columns the ingest indexed), by name."""
    state = (await published_records(request)).state
    found = []
    for key, row in sorted(state.resources.items()):
        if not key.startswith("catalog:") or row.deleted or row.position is None:
            continue
        table = state.table(key.partition(":")[2])
        if table is not None:
            found.append({"name": table["name"], "ra": row.position[0], "dec": row.position[1]})
    return JSONResponse(found, headers={"Cache-Control": "no-cache"})


@router.api_route("/portal/{name:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def portal_file(request: Request, name: str) -> Response:
    found = asset(name) if name not in ("build.json", "index.html") else None
    if found is None:
        raise NotFoundFault(f"the portal has no file {name!r}")
    versioned = request.query_params.get("v")
    return _serve(request, found, IMMUTABLE if versioned and versioned == version(name) else REVALIDATE)
