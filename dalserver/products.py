"""Product download: the files under the archive directory, and nothing outside it."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from dalserver.errors import DALIError
from dalserver.services import services

router = APIRouter()

_MEDIA_TYPES = {".fits": "application/fits", ".fit": "application/fits", ".fts": "application/fits"}


def archive_file(root: Path, relative: str) -> Path:
    """The file ``relative`` names under ``root``; refuse anything that would leave ``root``."""
    root = root.resolve()
    if "\x00" in relative or relative.startswith("/"):
        raise DALIError("no such product", status_code=404)
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        raise DALIError("no such product", status_code=404)
    return candidate


@router.get("/data/{relative:path}", summary="Download a data product")
async def download(request: Request, relative: str) -> FileResponse:
    path = archive_file(services(request).settings.archive_root, relative)
    name = path.name.lower()
    media = next((m for s, m in _MEDIA_TYPES.items() if name.endswith(s)), None)
    if media is None:
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media, filename=path.name, content_disposition_type="inline")
