"""Product download: the files under the archive directory that an ObsCore row publishes, and
nothing else (a file rejected by the ingest, staged, or retracted is not found, as is anything
outside the archive directory).
"""

from __future__ import annotations

import mimetypes

from fastapi.responses import FileResponse

from archive_io.product_urls import stored_url
from dalserver.dali.faults import ErrorStyle, NotFoundFault
from dalserver.http.routing import protocol_router
from dalserver.obscore.datasets import archive_file
from dalserver.services import ServicesDep

router = protocol_router(ErrorStyle.PLAIN_VOTABLE, tags=["Products"])

_MEDIA_TYPES = {".fits": "application/fits", ".fit": "application/fits", ".fts": "application/fits"}
# A point lookup in the index obscore_access_url.
_PUBLISHED = "SELECT EXISTS (SELECT 1 FROM ivoa.obscore WHERE access_url = %s)"


@router.get("/data/{relative:path}", summary="Download a data product")
async def download(svc: ServicesDep, relative: str) -> FileResponse:
    root = svc.settings.archive_root.resolve()
    path = archive_file(root, relative)
    # The row names the file as the ingest did: its path under the resolved archive directory.
    async with svc.pool.connection() as conn:
        row = await (await conn.execute(_PUBLISHED, (stored_url(path.relative_to(root).as_posix()),))).fetchone()
        await conn.rollback()
    if not (row and row[0]):
        raise NotFoundFault("no such product")
    name = path.name.lower()
    media = next((m for s, m in _MEDIA_TYPES.items() if name.endswith(s)), None)
    if media is None:
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media, filename=path.name, content_disposition_type="inline")
