"""TAP async: what a TAP job is to the generic UWS layer. The worker runs the job's query through
the one pipeline into its result file; the hooks store its uploads and write its error document;
the UWS handlers are installed at /tap/async with the app's job runner.
"""

from __future__ import annotations

import logging
from pathlib import Path

from anyio import to_thread
from fastapi.responses import Response

from dalserver.access.gate import Access
from dalserver.access.identity import ANONYMOUS, Identity
from dalserver.dali.faults import ErrorStyle, FatalFault, UsageFault
from dalserver.dali.params import DALIParams
from dalserver.db import metrics
from dalserver.db.arrow_pool import ArrowPool
from dalserver.db.errors import QueryCancelled, QueryTimeout, RecoveryConflict
from dalserver.db.query import QueryServers
from dalserver.formats import votable
from dalserver.http.routing import protocol_router
from dalserver.obscore.discovery import result_extras
from dalserver.pipeline import Limits, QueryRun, ResultWriter
from dalserver.services import ServicesDep, identity
from dalserver.settings import Settings
from dalserver.tap.parameters import TAP_PARAMETERS
from dalserver.tap.request import TapQuery, max_body_bytes, prepare_query, read_uploads, save_parts
from dalserver.uws.jobs import Job, Result
from dalserver.uws.routes import install_job_routes
from dalserver.uws.runner import JobAborted, JobContext, JobRunner, JobWorker

log = logging.getLogger(__name__)

RESULT_ID = "result"  # TAP 1.1: the result of an async query is at results/result


class TapJobs:
    """The TAP side of /tap/async (``dalserver.uws.routes.JobProtocol``)."""

    def max_body_bytes(self, settings: Settings) -> int:
        return max_body_bytes(settings)

    async def save_files(self, params: DALIParams, directory: Path, settings: Settings) -> dict[str, Path]:
        return await save_parts(params, directory, settings)

    def error_document(self, job: Job) -> Response:
        body = votable.error_document(job.error_message or "the job failed")
        return Response(body, media_type=votable.MEDIA_TYPE)


async def owner_identity(access: Access, job: Job) -> Identity:
    """Who a job runs as: its owner with their rights as they are now (a grant given or taken
    back while the job waited counts), anonymous for a job created anonymously."""
    if job.owner_id is None:
        return ANONYMOUS
    who = await access.identity_of(job.owner_id)
    if who is None:
        raise UsageFault(f"the account of the job's owner {job.owner_id!r} is disabled or gone; the job was not run")
    return who


def tap_worker(access: Access, queries: QueryServers, primary: ArrowPool, settings: Settings) -> JobWorker:
    """The function the job runner calls for each TAP job: query in, result file out. A query a
    standby cancelled for a recovery conflict is run again on the ``primary``, where none happens."""

    async def run(context: JobContext) -> list[Result]:
        job, directory = context.job, context.directory
        params = DALIParams(job.parameters)
        files = {part: directory / name for part, name in job.uploads.items()}
        uploads = await read_uploads(params, files, directory, settings)
        catalog = await access.catalog(await owner_identity(access, job))
        tap = prepare_query(params, catalog, settings, uploads)
        try:
            return await _run_query(context, tap, queries, settings)
        except RecoveryConflict as exc:
            log.warning("job %s: %s; running it again on the primary", job.job_id, exc.message)
            metrics.query_moved(exc.server or "standby", "recovery_conflict")
        try:
            return await _run_query(context, tap, primary, settings)
        except RecoveryConflict as exc:  # not on a primary; were it to, the job ends rather than loops
            raise FatalFault(exc.message) from None

    return run


async def _run_query(context: JobContext, tap: TapQuery, servers: QueryServers, settings: Settings) -> list[Result]:
    """One run of the job's query into its result file, on one of ``servers``."""
    job, directory = context.job, context.directory
    seconds = job.execution_duration or settings.async_execution_max_seconds
    writer = ResultWriter(tap.fmt, result_extras(tap.query.columns, settings.public_url))
    run = QueryRun(tap.query, writer, servers, Limits(seconds, settings.fetch_batch_bytes))
    partial = directory / f"{RESULT_ID}.part"
    target = directory / f"{RESULT_ID}.{tap.fmt.extension}"
    try:
        pid = await run.connect()
        # A standby's backend cannot be cancelled from the primary (its process id names nothing
        # there, or somebody else's query): an ABORT reaches it through this process (NOTIFY).
        # So is an upload scattered to a sharded catalogue's shards (dalserver.tap.scatter).
        async with context.cancellable(run.cancel, backend_pid=pid if run.backend_cancels else None):
            await run.start()
            with partial.open("wb") as out:
                async for chunk in run.chunks():
                    await to_thread.run_sync(out.write, chunk)
    except BaseException as exc:
        # No partial result is kept, whatever stopped the run (CSV and TSV raise a late failure).
        partial.unlink(missing_ok=True)
        if isinstance(exc, QueryTimeout):
            raise _too_long(seconds, settings) from None
        if isinstance(exc, QueryCancelled):
            raise JobAborted() from None
        if isinstance(exc, RecoveryConflict):
            exc.server = run.server
        raise
    finally:
        await run.close()  # chunks() gave the session back, unless the run failed before them
    late = run.late_error
    if late is not None:
        # A synchronous answer can only say so at its end; a job does better than a partial result.
        partial.unlink(missing_ok=True)
        if isinstance(late, QueryCancelled):
            raise JobAborted()
        if isinstance(late, QueryTimeout):
            raise _too_long(seconds, settings)
        if isinstance(late, RecoveryConflict):
            late.server = run.server
        raise late
    try:
        partial.replace(target)
    except FileNotFoundError:
        raise JobAborted() from None  # deleted while it ran: its directory went with it
    return [Result(RESULT_ID, target.name, tap.fmt.mime, target.stat().st_size)]


def _too_long(seconds: int, settings: Settings) -> UsageFault:
    return UsageFault(
        f"the job ran longer than its execution duration ({seconds} s) and its query was cancelled; "
        "narrow the query down, or ask for a longer EXECUTIONDURATION "
        f"(at most {settings.async_execution_max_seconds} s)"
    )


async def tap_runner(svc: ServicesDep) -> JobRunner:
    """The runner of TAP's jobs: the app's (a dependency)."""
    return svc.runner


router = protocol_router(ErrorStyle.PLAIN_VOTABLE, tags=["TAP async (UWS 1.1)"])
install_job_routes(router, "/tap/async", tap_runner, TapJobs(), identity, parameters=TAP_PARAMETERS)
