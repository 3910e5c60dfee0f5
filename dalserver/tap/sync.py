"""TAP 1.1 synchronous queries: DALI parameters in, a streamed VOTable out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from adql import ADQLError, to_postgres
from dalserver.db.query import QueryStream
from dalserver.errors import DALIError
from dalserver.formats.registry import FORMATS, OutputFormat, find_format
from dalserver.params import DALIParams
from dalserver.services import Services, services

router = APIRouter()


def _check_request_parameters(params: DALIParams) -> OutputFormat:
    request = params.get("REQUEST")
    # TAP 1.1 removed REQUEST from the interface; 1.0 clients still send doQuery.
    if request is not None and request.strip().lower() != "doquery":
        raise DALIError(f"REQUEST must be doQuery (or left out), not {request!r}")
    lang = params.get("LANG")
    if lang is None or not lang.strip():
        raise DALIError("missing required parameter LANG (use LANG=ADQL)")
    if lang.strip().upper() not in ("ADQL", "ADQL-2.0", "ADQL-2.1"):
        raise DALIError(f"query language {lang!r} is not supported; use LANG=ADQL")
    requested = params.get("RESPONSEFORMAT") or params.get("FORMAT")
    fmt = find_format(requested)
    if fmt is None:
        known = ", ".join(a for f in FORMATS for a in f.aliases[:1])
        raise DALIError(f"output format {requested!r} is not supported; use one of {known} (or their MIME types)")
    return fmt


async def run_sync_query(params: DALIParams, svc: Services) -> StreamingResponse:
    fmt = _check_request_parameters(params)
    query = params.require("QUERY")
    maxrec = min(params.integer("MAXREC", svc.settings.maxrec_default), svc.settings.maxrec_hard)
    catalog = await svc.catalog.get()
    try:
        # One row beyond MAXREC tells an overflow apart from an exact fit; MAXREC=0: metadata only.
        translation = to_postgres(query, catalog, row_limit=maxrec + 1 if maxrec else 0)
    except ADQLError as exc:
        raise DALIError(f"{exc.code}: {exc}") from exc
    columns = [out.meta for out in translation.output]
    stream = QueryStream(
        svc.queries, translation.sql, svc.settings.statement_timeout_seconds, svc.settings.fetch_batch_bytes
    )
    await stream.open()

    async def body():  # type: ignore[no-untyped-def]
        try:
            async for chunk in fmt.writer(columns, stream.batches(), maxrec):
                yield chunk
        finally:
            await stream.close()

    return StreamingResponse(body(), media_type=fmt.mime)


@router.api_route("/tap/sync", methods=["GET", "POST"], summary="TAP synchronous query")
async def tap_sync(request: Request) -> StreamingResponse:
    params = await DALIParams.from_request(request)
    return await run_sync_query(params, services(request))
