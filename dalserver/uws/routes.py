"""The UWS 1.1 REST binding: a job list and job resources under a prefix, for any protocol.

The handlers are written once, at module level, on ``uws_router``; ``install_job_routes`` mounts
them under a protocol's router with what makes them that protocol's: its job runner and the
caller's identity (FastAPI dependencies), its hooks (``JobProtocol``: how a job's files are stored, how its error is written,
how large a request may be) and the job parameters it takes, which describe job creation in the
OpenAPI document. This is how safir installs its UWS handlers (``uws_router`` and
``install_async_post_handler``); TAP async (``/tap/async``) is installed so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from dalserver.access.identity import Identity
from dalserver.dali.faults import ErrorStyle, FatalFault, Forbidden, NotAuthenticated, NotFoundFault, UsageFault
from dalserver.dali.params import DALIParams
from dalserver.http.openapi import ApiParam, dali_post, xml_answer
from dalserver.http.routing import protocol_router
from dalserver.settings import Settings
from dalserver.uws import documents
from dalserver.uws.jobs import ABORTED, ACTIVE, ERROR, PENDING, PHASES, Job
from dalserver.uws.runner import JobRunner
from dalserver.uws.store import new_job_id

TEXT = "text/plain; charset=utf-8"
# Job attributes a client may set at creation; everything else is a parameter of the job.
CONTROLS = ("PHASE", "RUNID", "EXECUTIONDURATION", "DESTRUCTION", "ACTION")
CONTROL_PARAMETERS = (
    ApiParam("PHASE", "RUN to start the job at once (otherwise it waits in PENDING)", enum=["RUN"]),
    ApiParam("RUNID", "A label of the client's for the job"),
    ApiParam("EXECUTIONDURATION", "Seconds the job may run (0: the service's limit)", kind="integer"),
    ApiParam("DESTRUCTION", "When the job and its results are removed (ISO 8601)", example="2030-01-01T00:00:00Z"),
)


class JobProtocol(Protocol):
    """What the protocol whose jobs these are tells the UWS binding."""

    def max_body_bytes(self, settings: Settings) -> int:
        """The largest request body worth reading (a job's parameters with its uploads)."""
        ...

    async def save_files(self, params: DALIParams, directory: Path, settings: Settings) -> dict[str, Path]:
        """Store the request's file parts in the job's directory: part name -> file."""
        ...

    def error_document(self, job: Job) -> Response:
        """The job's error resource (the message is ``job.error_message``)."""
        ...


@dataclass(frozen=True)
class ProtocolJobs:
    """The jobs of one protocol, as its UWS handlers see them: its runner, its hooks, the
    public URL of its job list, and who is asking (UWS 1.1 sec. 2.1.8: a job's owner is the user
    who created it; others may not see it)."""

    runner: JobRunner
    protocol: JobProtocol
    url: str
    caller: Identity

    @property
    def settings(self) -> Settings:
        return self.runner.settings

    def job_url(self, job_id: str) -> str:
        return f"{self.url}/{job_id}"

    async def job(self, job_id: str) -> Job:
        job = await self.runner.store.get(job_id)
        if job is None:
            raise NotFoundFault(f"no job {job_id!r} (it may have been deleted or passed its destruction time)")
        # A job created anonymously is anybody's who has its URL (as before accounts existed).
        if job.owner_id is not None and job.owner_id != self.caller.user:
            if not self.caller.authenticated:
                raise NotAuthenticated(f"job {job_id} belongs to a user: log in as its owner to see it")
            raise Forbidden(f"job {job_id} belongs to another user")  # UWS 1.1 sec. 3
        return job


async def bound_jobs(request: Request) -> ProtocolJobs:
    """The jobs of the protocol whose route this is (``install_job_routes`` binds them first)."""
    bound: ProtocolJobs = request.state.uws_jobs  # Starlette's state holds Any
    return bound


Jobs = Annotated[ProtocolJobs, Depends(bound_jobs)]


async def job_params(request: Request, jobs: Jobs) -> DALIParams:
    """The request's DALI parameters, with a body as large as the protocol's jobs take."""
    settings = jobs.settings
    return await DALIParams.from_request(
        request, jobs.protocol.max_body_bytes(settings), settings.request_body_timeout_seconds
    )


JobParams = Annotated[DALIParams, Depends(job_params)]


async def _saved(saving: Awaitable[dict[str, Path]]) -> dict[str, Path]:
    """The job's files stored, or a 5xx naming what failed: a full or read-only jobs directory
    is the service's failure, not the client's."""
    try:
        return await saving
    except OSError as exc:
        raise FatalFault(
            f"the job's files could not be stored on the server ({exc.strerror or exc}); the job was not changed"
        ) from None


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _parse_time(name: str, value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageFault(f"{name} must be an ISO 8601 time such as 2030-01-01T00:00:00Z, not {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _execution_duration(settings: Settings, value: str) -> int:
    try:
        seconds = int(value.strip())
    except ValueError:
        raise UsageFault(f"EXECUTIONDURATION must be a whole number of seconds, not {value!r}") from None
    if seconds < 0:
        raise UsageFault(f"EXECUTIONDURATION must not be negative, not {value!r}")
    hard = settings.async_execution_max_seconds
    return hard if seconds == 0 else min(seconds, hard)  # 0, "unlimited", gets the hard limit


def _destruction(settings: Settings, value: str, created: datetime) -> datetime:
    return min(_parse_time("DESTRUCTION", value), created + timedelta(seconds=settings.job_retention_max_seconds))


async def _wait(jobs: ProtocolJobs, job: Job, wait: str, phase: str | None) -> Job:
    """UWS 1.1 blocking: hold the request while the job stays in the phase it had (or in
    ``phase``, if given) and may still change by itself, for at most ``wait`` seconds."""
    try:
        seconds = int(wait.strip())
    except ValueError:
        raise UsageFault(f"WAIT must be a whole number of seconds (or -1), not {wait!r}") from None
    limit = jobs.settings.job_wait_max_seconds
    seconds = limit if seconds < 0 else min(seconds, limit)
    start = job.phase
    if start not in ACTIVE or (phase is not None and phase.strip().upper() != start) or seconds == 0:
        return job
    async for _ in jobs.runner.changes(job.job_id, seconds):
        job = await jobs.job(job.job_id)
        if job.phase != start:
            break
    return job


# UWS's own error document is DALI's: a VOTable with the message alone.
uws_router = protocol_router(ErrorStyle.PLAIN_VOTABLE)


# --- the job list ---------------------------------------------------------------------------------
@uws_router.get("", summary="UWS job list")
async def job_list(jobs: Jobs, params: JobParams) -> Response:
    phases = [p.strip().upper() for p in params.getall("PHASE")]
    for phase in phases:
        if phase not in PHASES:
            raise UsageFault(f"PHASE {phase!r} is not a UWS phase; use one of {', '.join(PHASES)}")
    after = params.get("AFTER")
    last = params.get("LAST")
    if last is not None and (not last.strip().isdigit() or int(last) < 1):
        raise UsageFault(f"LAST must be a positive integer, not {last!r}")
    # UWS 1.1 sec. 2.2.2.1: the jobs of the current security context, the caller's own.
    found = await jobs.runner.store.find(
        phases,
        _parse_time("AFTER", after) if after else None,
        int(last) if last is not None else None,
        owner=jobs.caller.user,
    )
    return Response(documents.job_list(found, jobs.url), media_type=documents.MEDIA_TYPE)


# Job creation: installed per protocol by install_job_routes, whose parameters describe it. (No
# docstring: FastAPI would publish it as the operation's description.)
async def create_job(jobs: Jobs, params: JobParams) -> Response:
    runner, settings = jobs.runner, jobs.settings
    job_id = new_job_id()
    now = datetime.now(UTC)
    duration = settings.async_execution_default_seconds
    if params.get("EXECUTIONDURATION"):
        duration = _execution_duration(settings, params.get("EXECUTIONDURATION") or "")
    destruction = now + timedelta(seconds=settings.job_retention_default_seconds)
    if params.get("DESTRUCTION"):
        destruction = _destruction(settings, params.get("DESTRUCTION") or "", now)
    phase = (params.get("PHASE") or "").strip().upper()
    if phase not in ("", "RUN"):
        raise UsageFault(f"PHASE at job creation can only be RUN, not {phase!r}")
    try:
        files = await _saved(jobs.protocol.save_files(params, runner.job_dir(job_id), settings))
    except BaseException:
        await runner.remove_files(job_id)
        raise
    parameters = [(n, v) for n, v in params.items() if n not in CONTROLS]
    uploads = {part: path.name for part, path in files.items()}
    await runner.store.create(
        job_id,
        parameters,
        uploads,
        params.get("RUNID"),
        duration,
        destruction,
        queue=phase == "RUN",
        owner=jobs.caller.user,
    )
    return _see_other(jobs.job_url(job_id))


# --- one job --------------------------------------------------------------------------------------
@uws_router.get(
    "/{job_id}",
    summary="UWS job document (WAIT and PHASE block until it changes)",
    responses=xml_answer("the UWS 1.1 job document"),
)
async def get_job(job_id: str, jobs: Jobs, params: JobParams) -> Response:
    job = await jobs.job(job_id)
    wait = params.get("WAIT")
    if wait is not None and wait.strip():
        job = await _wait(jobs, job, wait, params.get("PHASE"))
    return Response(documents.job_document(job, jobs.job_url(job_id)), media_type=documents.MEDIA_TYPE)


@uws_router.post("/{job_id}", summary="ACTION=DELETE deletes the job")
async def post_job(job_id: str, jobs: Jobs, params: JobParams) -> Response:
    action = (params.get("ACTION") or "").strip().upper()
    if action != "DELETE":
        raise UsageFault(
            "POST to a job takes ACTION=DELETE; parameters go to the job's /parameters, PHASE to its /phase"
        )
    return await _delete(jobs, job_id)


@uws_router.delete("/{job_id}", summary="Delete the job and its results")
async def delete_job(job_id: str, jobs: Jobs) -> Response:
    return await _delete(jobs, job_id)


async def _delete(jobs: ProtocolJobs, job_id: str) -> Response:
    await jobs.job(job_id)
    await jobs.runner.store.delete(job_id)
    await jobs.runner.remove_files(job_id)
    return _see_other(jobs.url)


@uws_router.get("/{job_id}/phase", summary="The job's phase")
async def get_phase(job_id: str, jobs: Jobs) -> Response:
    return Response((await jobs.job(job_id)).phase, media_type=TEXT)


@uws_router.post("/{job_id}/phase", summary="PHASE=RUN queues the job, PHASE=ABORT stops it")
async def post_phase(job_id: str, jobs: Jobs, params: JobParams) -> Response:
    job = await jobs.job(job_id)
    store = jobs.runner.store
    phase = (params.get("PHASE") or "").strip().upper()
    if phase == "RUN":
        if job.phase == PENDING:
            await store.queue(job_id)
        # RUN on a job already on its way (or done) changes nothing; UWS allows ignoring it.
    elif phase == "ABORT":
        await store.abort(job_id)
    else:
        raise UsageFault(f"PHASE must be RUN or ABORT, not {params.get('PHASE')!r}")
    return _see_other(jobs.job_url(job_id))


@uws_router.get("/{job_id}/executionduration", summary="Seconds the job may run")
async def get_execution_duration(job_id: str, jobs: Jobs) -> Response:
    return Response(str((await jobs.job(job_id)).execution_duration), media_type=TEXT)


@uws_router.post("/{job_id}/executionduration", summary="Change the execution duration (PENDING jobs)")
async def post_execution_duration(job_id: str, jobs: Jobs, params: JobParams) -> Response:
    await jobs.job(job_id)
    seconds = _execution_duration(jobs.settings, params.require("EXECUTIONDURATION"))
    if not await jobs.runner.store.set_execution_duration(job_id, seconds):
        raise UsageFault("the execution duration can only be changed while the job is PENDING", 409)
    return _see_other(jobs.job_url(job_id))


@uws_router.get("/{job_id}/destruction", summary="When the job and its results are removed")
async def get_destruction(job_id: str, jobs: Jobs) -> Response:
    return Response(documents.iso((await jobs.job(job_id)).destruction), media_type=TEXT)


@uws_router.post("/{job_id}/destruction", summary="Change the destruction time (within the retention limit)")
async def post_destruction(job_id: str, jobs: Jobs, params: JobParams) -> Response:
    job = await jobs.job(job_id)
    when = _destruction(jobs.settings, params.require("DESTRUCTION"), job.creation_time)
    await jobs.runner.store.set_destruction(job_id, when)
    return _see_other(jobs.job_url(job_id))


@uws_router.get("/{job_id}/quote", summary="Estimated completion time (none is offered)")
async def get_quote(job_id: str, jobs: Jobs) -> Response:
    await jobs.job(job_id)
    return Response("", media_type=TEXT)


@uws_router.get("/{job_id}/owner", summary="The job's owner (empty: created anonymously)")
async def get_owner(job_id: str, jobs: Jobs) -> Response:
    return Response((await jobs.job(job_id)).owner_id or "", media_type=TEXT)


@uws_router.get("/{job_id}/error", summary="The error document of a failed job")
async def get_error(job_id: str, jobs: Jobs) -> Response:
    job = await jobs.job(job_id)
    if job.phase not in (ERROR, ABORTED) or not job.error_message:
        raise NotFoundFault(f"job {job_id} has no error: it is {job.phase}")
    return jobs.protocol.error_document(job)


@uws_router.get("/{job_id}/parameters", summary="The job's parameters")
async def get_parameters(job_id: str, jobs: Jobs) -> Response:
    job = await jobs.job(job_id)
    return Response(documents.parameters_document(job), media_type=documents.MEDIA_TYPE)


@uws_router.post("/{job_id}/parameters", summary="Set parameters (and add uploads) while the job is PENDING")
async def post_parameters(job_id: str, jobs: Jobs, params: JobParams) -> Response:
    job = await jobs.job(job_id)
    runner = jobs.runner
    if job.phase != PENDING:
        raise UsageFault(f"parameters can only be changed while the job is PENDING; it is {job.phase}", 409)
    given = {n for n, _ in params.items()}
    parameters = [(n, v) for n, v in job.parameters if n not in given]
    parameters += [(n, v) for n, v in params.items() if n not in CONTROLS]
    files = await _saved(jobs.protocol.save_files(params, runner.job_dir(job_id), runner.settings))
    if files:
        await runner.store.set_uploads(job_id, {**job.uploads, **{part: path.name for part, path in files.items()}})
    if not await runner.store.set_parameters(job_id, parameters):
        raise UsageFault("parameters can only be changed while the job is PENDING", 409)
    return _see_other(jobs.job_url(job_id))


@uws_router.get("/{job_id}/results", summary="The job's results")
async def get_results(job_id: str, jobs: Jobs) -> Response:
    job = await jobs.job(job_id)
    return Response(documents.results_document(job, jobs.job_url(job_id)), media_type=documents.MEDIA_TYPE)


@uws_router.get("/{job_id}/results/{result_id}", summary="One result of the job")
async def get_result(job_id: str, result_id: str, jobs: Jobs) -> Response:
    job = await jobs.job(job_id)
    for result in job.results:
        if result.id == result_id:
            path = jobs.runner.job_dir(job_id) / result.file
            if not path.is_file():
                raise NotFoundFault(f"the result file of job {job_id} is missing on the server")
            return FileResponse(path, media_type=result.mime)
    if job.phase in (ERROR, ABORTED) and job.error_message:
        # Clients that read the result without looking at the phase first (astroquery's
        # TapPlus) get the reason in the protocol's error document, not a bare 404.
        reason = replace(job, error_message=f"job {job_id} is {job.phase} and has no result: {job.error_message}")
        failed = jobs.protocol.error_document(reason)
        failed.status_code = 404
        return failed
    raise NotFoundFault(f"job {job_id} has no result {result_id!r} (it is {job.phase})")


def install_job_routes(
    router: APIRouter,
    prefix: str,
    runner: Callable[..., JobRunner | Awaitable[JobRunner]],
    protocol: JobProtocol,
    identity: Callable[..., Awaitable[Identity]],
    parameters: Sequence[ApiParam] = (),
) -> None:
    """Serve a protocol's UWS jobs at ``prefix`` of ``router``: the job list, job creation and
    every job resource. ``runner`` is the FastAPI dependency that gives the protocol's job runner,
    ``identity`` the one that says who the caller is, ``protocol`` its hooks, ``parameters`` the
    job parameters it takes (for the OpenAPI description of job creation)."""

    # Defaults, not annotations: the dependencies are this call's arguments, which a string
    # annotation (``from __future__ import annotations``) could not name.
    protocol_runner = Depends(runner)
    caller_identity = Depends(identity)

    async def bind(
        request: Request, job_runner: JobRunner = protocol_runner, caller: Identity = caller_identity
    ) -> None:
        url = f"{job_runner.settings.public_url}{router.prefix}{prefix}"
        request.state.uws_jobs = ProtocolJobs(job_runner, protocol, url, caller)

    router.include_router(uws_router, prefix=prefix, dependencies=[Depends(bind)])
    router.add_api_route(
        prefix,
        create_job,
        methods=["POST"],
        summary="Create a job (PHASE=RUN to start it at once)",
        status_code=303,
        openapi_extra=dali_post([*parameters, *CONTROL_PARAMETERS], multipart=any(p.file for p in parameters)),
        responses={303: {"description": "the job was created: Location is its URL"}},
        dependencies=[Depends(bind)],
    )
