"""TAP 1.1 synchronous queries: DALI parameters (and uploads) in, a streamed result out."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from dalserver.access.identity import Identity
from dalserver.dali.faults import ErrorStyle
from dalserver.dali.params import DALIParams
from dalserver.http.openapi import dali_get, dali_post
from dalserver.http.routing import answer_response, client_gone, protocol_router
from dalserver.http.stages import mark
from dalserver.obscore.discovery import result_extras
from dalserver.pipeline import Limits, ResultWriter, answer
from dalserver.services import DALIParamsReader, IdentityDep, Services, ServicesDep
from dalserver.tap.parameters import TAP_ANSWERS, TAP_PARAMETERS
from dalserver.tap.request import max_body_bytes, prepare_query, read_uploads, save_parts

router = protocol_router(ErrorStyle.PLAIN_VOTABLE, tags=["TAP"])
# A query's parameters with its uploads: every upload at its limit, and the form.
tap_params = DALIParamsReader(max_body_bytes)
TapParams = Annotated[DALIParams, Depends(tap_params)]


async def run_sync_query(params: DALIParams, svc: Services, request: Request, who: Identity) -> Response:
    workdir = Path(tempfile.mkdtemp(prefix="dalserver-upload-")) if params.getall("UPLOAD") else None
    try:
        uploads = []
        if workdir is not None:
            files = await save_parts(params, workdir, svc.settings)
            uploads = await read_uploads(params, files, workdir, svc.settings)
        catalog = await svc.access.catalog(who)
        mark("catalogue")
        tap = prepare_query(params, catalog, svc.settings, uploads, svc.translations)
        mark("adql")
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)  # the tables are in memory (bounded by the limits) now
    writer = ResultWriter(tap.fmt, result_extras(tap.query.columns, svc.settings.public_url))
    limits = Limits(svc.settings.statement_timeout_seconds, svc.settings.fetch_batch_bytes)
    chunks = await answer(tap.query, writer, svc.queries, limits, client_gone(request))
    return await answer_response(chunks, tap.fmt.mime, svc.settings, chunks.rows_in_memory)


@router.post(
    "/tap/sync",
    summary="TAP synchronous query (form, or multipart with uploads)",
    openapi_extra=dali_post(TAP_PARAMETERS, multipart=True),
    responses=TAP_ANSWERS,
)
@router.get("/tap/sync", summary="TAP synchronous query", openapi_extra=dali_get(TAP_PARAMETERS), responses=TAP_ANSWERS)
async def tap_sync(request: Request, svc: ServicesDep, params: TapParams, who: IdentityDep) -> Response:
    return await run_sync_query(params, svc, request, who)
