"""Product download: the files under the archive directory that an ObsCore row the caller may see
publishes, and nothing else (a file rejected by the ingest, staged, retracted or not yet released
is not found, as is anything outside the archive directory; an anonymous caller is asked to log in
for all of them alike, once the archive has accounts).
"""

from __future__ import annotations

import mimetypes

from fastapi.responses import FileResponse

from archive_io.product_urls import stored_url
from dalserver.access.identity import Identity
from dalserver.access.visibility import row_filter
from dalserver.dali.faults import ErrorStyle, NotFoundFault
from dalserver.http.routing import protocol_router
from dalserver.obscore.datasets import archive_file
from dalserver.services import IdentityDep, ServicesDep

router = protocol_router(ErrorStyle.PLAIN_VOTABLE, tags=["Products"])

_MEDIA_TYPES = {".fits": "application/fits", ".fit": "application/fits", ".fts": "application/fits"}


def _published(who: Identity) -> str:
    """Whether a row ``who`` may see publishes the file: a point lookup in obscore_access_url."""
    return f"SELECT EXISTS (SELECT 1 FROM ivoa.obscore AS o WHERE access_url = %s AND {row_filter(who, 'o')})"


@router.get("/data/{relative:path}", summary="Download a data product")
async def download(svc: ServicesDep, relative: str, who: IdentityDep) -> FileResponse:
    root = svc.settings.archive_root.resolve()
    try:
        path = archive_file(root, relative)
    except NotFoundFault:
        raise await svc.access.not_visible(who, "no such product") from None
    # The row names the file as the ingest did: its path under the resolved archive directory.
    async with svc.pool.connection() as conn:
        stored = stored_url(path.relative_to(root).as_posix())
        row = await (await conn.execute(_published(who), (stored,))).fetchone()
        await conn.rollback()
    if not (row and row[0]):
        raise await svc.access.not_visible(who, "no such product")
    name = path.name.lower()
    media = next((m for s, m in _MEDIA_TYPES.items() if name.endswith(s)), None)
    if media is None:
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media, filename=path.name, content_disposition_type="inline")
