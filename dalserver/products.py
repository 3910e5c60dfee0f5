"""Product download: the files under the archive directory, and nothing outside it."""

from __future__ import annotations

import mimetypes

from fastapi import Request
from fastapi.responses import FileResponse

from dalserver.datasets import archive_file
from dalserver.faults import ErrorStyle
from dalserver.routing import protocol_router
from dalserver.services import services

router = protocol_router(ErrorStyle.PLAIN_VOTABLE, tags=["Products"])

_MEDIA_TYPES = {".fits": "application/fits", ".fit": "application/fits", ".fts": "application/fits"}


@router.get("/data/{relative:path}", summary="Download a data product")
async def download(request: Request, relative: str) -> FileResponse:
    path = archive_file(services(request).settings.archive_root, relative)
    name = path.name.lower()
    media = next((m for s, m in _MEDIA_TYPES.items() if name.endswith(s)), None)
    if media is None:
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media, filename=path.name, content_disposition_type="inline")
