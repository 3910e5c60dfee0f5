"""The HiPS node: every published survey's files under ``/hips/<survey>/``, the HiPS list at
``/hips/hipslist`` (HiPS 1.0 sec. 5.2) and a page listing them at ``/hips``. A survey's base URL
in a browser is its ``index.html`` (sec. 4.4.5: "by loading the root HiPS directory location one
will be able to display information about the HiPS"); HiPS clients read ``properties`` and tiles
by their own names.

Everything here may be read by Aladin Lite from pages of other sites, so every answer, a 404
included, carries ``Access-Control-Allow-Origin: *``. Tiles are cached by clients for an hour and
revalidated by their ETag (a rebuild changes them in place); properties, the list, a survey's page
and its preview for a minute.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response

from archive_io.hips_store import HipsStore, PublishedSurvey
from dalserver.dali.faults import ErrorStyle, NotFoundFault
from dalserver.hips.listing import HipsListCache
from dalserver.http.routing import protocol_router
from dalserver.services import ServicesDep

router = protocol_router(ErrorStyle.PLAIN_TEXT, tags=["HiPS"])
# Keyed by the directory, its state and the server's URL and title: right for every app at once.
_HIPSLIST = HipsListCache()

CORS = {"Access-Control-Allow-Origin": "*"}
TILE_CACHE = "public, max-age=3600"
METADATA_CACHE = "public, max-age=60"

# Tiles and Allsky files are FITS images (RFC 4047: image/fits for an image in the primary HDU);
# the MOC is a binary table (application/fits).
_MEDIA_TYPES = {
    ".fits": "image/fits",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/x-votable+xml",
    ".tsv": "text/tab-separated-values; charset=utf-8",
}


async def hips_store(svc: ServicesDep) -> HipsStore:
    """The published surveys (a dependency)."""
    return HipsStore(svc.settings.hips_root)


Surveys = Annotated[HipsStore, Depends(hips_store)]


def _not_found(message: str) -> NotFoundFault:
    fault = NotFoundFault(message)
    fault.headers.update(CORS)
    return fault


def _media_type(path: Path) -> str:
    if path.name == "properties":
        return "text/plain; charset=utf-8"
    if path.name == "Moc.fits":
        return "application/fits"
    return _MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


def _survey_file(store: HipsStore, survey: str, relative: str) -> Path:
    """The file ``relative`` of a published survey; nothing hidden, nothing outside it."""
    if survey.startswith(".") or survey not in store.names():
        raise _not_found(f"no HiPS survey {survey!r} here; /hips/hipslist lists them")
    root = store.current(survey)
    parts = Path(relative).parts
    if root is None or not parts or "\x00" in relative or any(p.startswith(".") or p in ("..", "/") for p in parts):
        raise _not_found(f"no file {relative!r} in the HiPS survey {survey}")
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        raise _not_found(f"no file {relative!r} in the HiPS survey {survey}")
    return candidate


def _file_response(request: Request, path: Path, cache: str) -> Response:
    # With the stat given, FileResponse sets its ETag and Last-Modified now, so they can be compared.
    response = FileResponse(
        path, media_type=_media_type(path), headers={**CORS, "Cache-Control": cache}, stat_result=path.stat()
    )
    etag = response.headers.get("etag")
    wanted = request.headers.get("if-none-match")
    if etag and wanted and etag in [t.strip().removeprefix("W/") for t in wanted.split(",")]:
        return Response(status_code=304, headers={**CORS, "Cache-Control": cache, "ETag": etag})
    return response


@router.api_route("/hips/hipslist", methods=["GET", "HEAD"], summary="The HiPS list of this node (HiPS 1.0 sec. 5.2)")
async def hipslist(svc: ServicesDep, store: Surveys) -> PlainTextResponse:
    text = _HIPSLIST.text(store.root, svc.settings.public_url, svc.settings.title)
    return PlainTextResponse(text, headers={**CORS, "Cache-Control": METADATA_CACHE})


def _row(survey: PublishedSurvey) -> str:
    p = survey.properties
    name = html.escape(survey.name)
    page = (survey.directory / "index.html").is_file()
    return (
        f'<tr><td><a href="/hips/{name}/{"index.html" if page else "properties"}">{name}</a></td>'
        f"<td>{html.escape(survey.title)}</td>"
        f"<td>{html.escape(p.get('hips_order', ''))}</td><td>{html.escape(p.get('hips_tile_format', ''))}</td>"
        f"<td>{html.escape(p.get('hips_release_date', ''))}</td>"
        f'<td><a href="/hips/{name}/properties">properties</a></td></tr>'
    )


@router.api_route("/hips", methods=["GET", "HEAD"], summary="The HiPS surveys of this archive, as a page")
async def index(svc: ServicesDep, store: Surveys) -> HTMLResponse:
    settings = svc.settings
    surveys = store.published()
    rows = (
        "\n".join(_row(s) for s in surveys)
        or '<tr><td colspan="6">none yet: run <code>dalserver hips build</code></td></tr>'
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>HiPS surveys of {html.escape(settings.title)}</title></head>
<body><h1>HiPS surveys of {html.escape(settings.title)}</h1>
<p>Give Aladin a survey's URL (<code>{html.escape(settings.public_url)}/hips/&lt;survey&gt;</code>), or this node's
<a href="/hips/hipslist">HiPS list</a> as a HiPS server.</p>
<table><tr><th>survey</th><th>title</th><th>order</th><th>tiles</th><th>released</th><th>metadata</th></tr>
{rows}
</table></body></html>
"""
    return HTMLResponse(page, headers={**CORS, "Cache-Control": METADATA_CACHE})


def _survey_page(store: HipsStore, survey: str) -> RedirectResponse:
    """The survey's page; a build made before surveys had one answers with its properties."""
    _survey_file(store, survey, "properties")
    root = store.current(survey)
    page = "index.html" if root is not None and (root / "index.html").is_file() else "properties"
    return RedirectResponse(f"/hips/{survey}/{page}", headers=CORS)


@router.api_route("/hips/{survey}", methods=["GET", "HEAD"], include_in_schema=False)
async def survey_root(store: Surveys, survey: str) -> RedirectResponse:
    return _survey_page(store, survey)


@router.api_route("/hips/{survey}/{relative:path}", methods=["GET", "HEAD"], summary="A file of a HiPS survey")
async def survey_file(request: Request, store: Surveys, survey: str, relative: str) -> Response:
    if relative in ("", "/"):
        return _survey_page(store, survey)
    path = _survey_file(store, survey, relative)
    # The page and the preview change with every build that adds data; a tile only where data came.
    cache = METADATA_CACHE if path.name in ("properties", "index.html", "preview.jpg") else TILE_CACHE
    return _file_response(request, path, cache)
