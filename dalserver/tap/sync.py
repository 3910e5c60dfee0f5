"""TAP 1.1 synchronous queries: DALI parameters (and uploads) in, a streamed result out."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from dalserver.datalink.discovery import result_extras
from dalserver.db.query import QueryStream
from dalserver.params import DALIParams
from dalserver.services import Services, services
from dalserver.tap.request import max_body_bytes, prepare_query, read_uploads, save_parts

router = APIRouter()


async def run_sync_query(params: DALIParams, svc: Services) -> StreamingResponse:
    workdir = Path(tempfile.mkdtemp(prefix="dalserver-upload-")) if params.getall("UPLOAD") else None
    try:
        uploads = []
        if workdir is not None:
            files = await save_parts(params, workdir, svc.settings)
            uploads = await read_uploads(params, files, workdir, svc.settings)
        prepared = prepare_query(params, await svc.catalog.get(), svc.settings, uploads)
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)  # the tables are in memory (bounded by the limits) now
    stream = QueryStream(
        svc.queries,
        prepared.sql,
        svc.settings.statement_timeout_seconds,
        svc.settings.fetch_batch_bytes,
        prepared.uploads,
    )
    await stream.open()
    extras = result_extras(prepared.columns, svc.settings.public_url)

    async def body():  # type: ignore[no-untyped-def]
        try:
            async for chunk in prepared.fmt.stream(prepared.columns, stream.batches(), prepared.maxrec, extras):
                yield chunk
        finally:
            await stream.close()

    return StreamingResponse(body(), media_type=prepared.fmt.mime)


@router.api_route("/tap/sync", methods=["GET", "POST"], summary="TAP synchronous query")
async def tap_sync(request: Request) -> StreamingResponse:
    svc = services(request)
    params = await DALIParams.from_request(request, max_body_bytes(svc.settings))
    return await run_sync_query(params, svc)
