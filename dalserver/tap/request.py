"""A TAP query request checked and translated into a prepared query: shared by /tap/sync and TAP async jobs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from anyio import to_thread

from adql import ADQLError, Catalog, to_postgres
from adql.cache import TranslationCache
from dalserver.dali.faults import UsageFault
from dalserver.dali.params import DALIParams
from dalserver.db.query import QueryServers, QueryStream, SessionSetup
from dalserver.formats.registry import OutputFormat, response_format
from dalserver.pipeline import PreparedQuery, row_limit
from dalserver.settings import Settings
from dalserver.tap.scatter import ScatterStream, scatter_plan
from dalserver.tap.upload import UploadTable, bind_uploads, fetch_upload, parse_upload_parameter, read_upload


@dataclass(frozen=True)
class TapQuery:
    query: PreparedQuery
    fmt: OutputFormat


def output_format(params: DALIParams) -> OutputFormat:
    return response_format(params.get("RESPONSEFORMAT") or params.get("FORMAT"))


def check_request_parameters(params: DALIParams) -> OutputFormat:
    request = params.get("REQUEST")
    # TAP 1.1 removed REQUEST from the interface; 1.0 clients still send doQuery.
    if request is not None and request.strip().lower() != "doquery":
        raise UsageFault(f"REQUEST must be doQuery (or left out), not {request!r}")
    lang = params.get("LANG")
    if lang is None or not lang.strip():
        raise UsageFault("missing required parameter LANG (use LANG=ADQL)")
    if lang.strip().upper() not in ("ADQL", "ADQL-2.0", "ADQL-2.1"):
        raise UsageFault(f"query language {lang!r} is not supported; use LANG=ADQL")
    return output_format(params)


async def read_uploads(
    params: DALIParams, files: dict[str, Path], workdir: Path, settings: Settings
) -> list[UploadTable]:
    """The tables the UPLOAD parameter names, read from ``files`` (part name -> stored file), or
    fetched into ``workdir`` where URLs are allowed."""
    specs = parse_upload_parameter(params.getall("UPLOAD"), settings)
    tables = []
    for spec in specs:
        if spec.part is None:
            path = workdir / f"fetched-{spec.name.lower()}"
            await to_thread.run_sync(fetch_upload, spec.uri, path, settings)
        elif spec.part in files:
            path = files[spec.part]
        else:
            raise UsageFault(
                f"UPLOAD {spec.name} refers to the part {spec.part!r}, but the request has no file part of that name"
            )
        tables.append(await to_thread.run_sync(read_upload, spec.name, path, settings))
    return tables


def _uploads_setup(uploads: list[UploadTable]) -> SessionSetup | None:
    """Hands the uploads to the query's own session, before the query."""
    if not uploads:
        return None
    return lambda conn: bind_uploads(conn, uploads)


def prepare_query(
    params: DALIParams,
    catalog: Catalog,
    settings: Settings,
    uploads: list[UploadTable],
    translations: TranslationCache | None = None,
) -> TapQuery:
    """The query ``params`` ask for; translated through ``translations`` when given (a query with
    uploads never is: its catalogue is its own)."""
    fmt = check_request_parameters(params)
    query = params.require("QUERY")
    maxrec = params.maxrec(settings)
    translate = to_postgres if translations is None else translations.translate
    if uploads:
        catalog = catalog.with_tables(u.meta() for u in uploads)
        translate = to_postgres
    try:
        translation = translate(query, catalog, row_limit(maxrec))
    except ADQLError as exc:
        raise UsageFault(f"{exc.code}: {exc}") from exc
    columns = [out.meta for out in translation.output]
    setup = _uploads_setup(uploads)
    plan = scatter_plan(query, catalog, row_limit(maxrec)) if uploads else None
    stream = None
    if plan is not None:
        sql = translation.sql

        def stream(servers: QueryServers, timeout_seconds: float, batch_bytes: int) -> QueryStream:
            assert plan is not None
            return ScatterStream(servers, plan, uploads, sql, timeout_seconds, batch_bytes, setup)

    prepared = PreparedQuery(
        translation.sql, columns, maxrec, setup, stream=stream, parameterized=translation.parameterized
    )
    return TapQuery(prepared, fmt)


async def save_parts(params: DALIParams, directory: Path, settings: Settings) -> dict[str, Path]:
    """Copy the request's file parts into ``directory``; part name -> file. Size-limited."""
    saved: dict[str, Path] = {}
    directory.mkdir(parents=True, exist_ok=True)
    for name, upload in params.files.items():
        # One file per part name: a part sent again (to an async job's parameters) replaces it.
        target = directory / f"part-{hashlib.sha1(name.encode()).hexdigest()[:16]}"
        written = 0
        with target.open("wb") as out:
            while chunk := await upload.read(1 << 20):
                written += len(chunk)
                if written > settings.upload_max_bytes:
                    raise UsageFault(
                        f"the uploaded part {name!r} is larger than the limit of {settings.upload_max_bytes} bytes",
                        status_code=413,
                    )
                await to_thread.run_sync(out.write, chunk)
        saved[name] = target
    return saved


def max_body_bytes(settings: Settings) -> int:
    """The largest POST body worth reading: every upload at its limit, plus room for the form."""
    return settings.upload_max_bytes * settings.upload_max_tables + (1 << 20)
