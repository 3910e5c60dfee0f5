"""TAP async: the UWS 1.1 job list and job resources at /tap/async."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from dalserver.errors import DALIError
from dalserver.formats import votable
from dalserver.params import DALIParams
from dalserver.services import Services, services
from dalserver.tap.request import max_body_bytes, save_parts
from dalserver.uws import documents
from dalserver.uws.jobs import ACTIVE, ERROR, PENDING, PHASES, Job
from dalserver.uws.runner import JobRunner
from dalserver.uws.store import new_job_id

router = APIRouter(prefix="/tap/async", tags=["TAP async (UWS 1.1)"])
TEXT = "text/plain; charset=utf-8"
# Job attributes a client may set at creation; everything else is a parameter of the query.
_CONTROLS = ("PHASE", "RUNID", "EXECUTIONDURATION", "DESTRUCTION", "ACTION")


def _jobs_url(svc: Services) -> str:
    return f"{svc.settings.public_url}/tap/async"


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _runner(svc: Services) -> JobRunner:
    assert svc.runner is not None
    return svc.runner


async def _job(svc: Services, job_id: str) -> Job:
    job = await svc.jobs.get(job_id)
    if job is None:
        raise DALIError(f"no job {job_id!r} (it may have been deleted or passed its destruction time)", 404)
    return job


def _parse_time(name: str, value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise DALIError(f"{name} must be an ISO 8601 time such as 2030-01-01T00:00:00Z, not {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _execution_duration(svc: Services, value: str) -> int:
    try:
        seconds = int(value.strip())
    except ValueError:
        raise DALIError(f"EXECUTIONDURATION must be a whole number of seconds, not {value!r}") from None
    if seconds < 0:
        raise DALIError(f"EXECUTIONDURATION must not be negative, not {value!r}")
    hard = svc.settings.async_execution_max_seconds
    return hard if seconds == 0 else min(seconds, hard)  # 0, "unlimited", gets the hard limit


def _destruction(svc: Services, value: str, created: datetime) -> datetime:
    return min(_parse_time("DESTRUCTION", value), created + timedelta(seconds=svc.settings.job_retention_max_seconds))


async def _params(request: Request, svc: Services) -> DALIParams:
    return await DALIParams.from_request(request, max_body_bytes(svc.settings))


# --- the job list ---------------------------------------------------------------------------------
@router.get("", summary="UWS job list")
async def job_list(request: Request) -> Response:
    svc = services(request)
    params = await _params(request, svc)
    phases = [p.strip().upper() for p in params.getall("PHASE")]
    for phase in phases:
        if phase not in PHASES:
            raise DALIError(f"PHASE {phase!r} is not a UWS phase; use one of {', '.join(PHASES)}")
    after = params.get("AFTER")
    last = params.get("LAST")
    if last is not None and (not last.strip().isdigit() or int(last) < 1):
        raise DALIError(f"LAST must be a positive integer, not {last!r}")
    jobs = await svc.jobs.list(
        phases, _parse_time("AFTER", after) if after else None, int(last) if last is not None else None
    )
    return Response(documents.job_list(jobs, _jobs_url(svc)), media_type=documents.MEDIA_TYPE)


@router.post("", summary="Create a job (PHASE=RUN to start it at once)")
async def create_job(request: Request) -> Response:
    svc = services(request)
    params = await _params(request, svc)
    job_id = new_job_id()
    now = datetime.now(UTC)
    duration = svc.settings.async_execution_default_seconds
    if params.get("EXECUTIONDURATION"):
        duration = _execution_duration(svc, params.get("EXECUTIONDURATION") or "")
    destruction = now + timedelta(seconds=svc.settings.job_retention_default_seconds)
    if params.get("DESTRUCTION"):
        destruction = _destruction(svc, params.get("DESTRUCTION") or "", now)
    phase = (params.get("PHASE") or "").strip().upper()
    if phase not in ("", "RUN"):
        raise DALIError(f"PHASE at job creation can only be RUN, not {phase!r}")
    directory = _runner(svc).job_dir(job_id)
    try:
        files = await save_parts(params, directory, svc.settings)
    except DALIError:
        await _runner(svc).remove_files(job_id)
        raise
    parameters = [(n, v) for n, v in params.items() if n not in _CONTROLS]
    uploads = {part: path.name for part, path in files.items()}
    await svc.jobs.create(job_id, parameters, uploads, params.get("RUNID"), duration, destruction, queue=phase == "RUN")
    return _see_other(f"{_jobs_url(svc)}/{job_id}")


# --- one job --------------------------------------------------------------------------------------
@router.get("/{job_id}", summary="UWS job document (WAIT and PHASE block until it changes)")
async def get_job(request: Request, job_id: str) -> Response:
    svc = services(request)
    params = await _params(request, svc)
    job = await _job(svc, job_id)
    wait = params.get("WAIT")
    if wait is not None and wait.strip():
        job = await _wait(svc, job, wait, params.get("PHASE"))
    url = f"{_jobs_url(svc)}/{job_id}"
    return Response(documents.job_document(job, url), media_type=documents.MEDIA_TYPE)


async def _wait(svc: Services, job: Job, wait: str, phase: str | None) -> Job:
    """UWS 1.1 blocking: hold the request while the job stays in the phase it had (or in
    ``phase``, if given) and may still change by itself, for at most ``wait`` seconds."""
    try:
        seconds = int(wait.strip())
    except ValueError:
        raise DALIError(f"WAIT must be a whole number of seconds (or -1), not {wait!r}") from None
    limit = svc.settings.job_wait_max_seconds
    seconds = limit if seconds < 0 else min(seconds, limit)
    start = job.phase
    if start not in ACTIVE or (phase is not None and phase.strip().upper() != start) or seconds == 0:
        return job
    async for _ in _runner(svc).changes(job.job_id, seconds):
        job = await _job(svc, job.job_id)
        if job.phase != start:
            break
    return job


@router.post("/{job_id}", summary="ACTION=DELETE deletes the job")
async def post_job(request: Request, job_id: str) -> Response:
    svc = services(request)
    params = await _params(request, svc)
    action = (params.get("ACTION") or "").strip().upper()
    if action != "DELETE":
        raise DALIError(
            "POST to a job takes ACTION=DELETE; parameters go to the job's /parameters, PHASE to its /phase"
        )
    return await _delete(svc, job_id)


@router.delete("/{job_id}", summary="Delete the job and its results")
async def delete_job(request: Request, job_id: str) -> Response:
    return await _delete(services(request), job_id)


async def _delete(svc: Services, job_id: str) -> Response:
    await _job(svc, job_id)
    await svc.jobs.delete(job_id)
    await _runner(svc).remove_files(job_id)
    return _see_other(_jobs_url(svc))


@router.get("/{job_id}/phase", summary="The job's phase")
async def get_phase(request: Request, job_id: str) -> Response:
    return Response((await _job(services(request), job_id)).phase, media_type=TEXT)


@router.post("/{job_id}/phase", summary="PHASE=RUN queues the job, PHASE=ABORT stops it")
async def post_phase(request: Request, job_id: str) -> Response:
    svc = services(request)
    params = await _params(request, svc)
    job = await _job(svc, job_id)
    phase = (params.get("PHASE") or "").strip().upper()
    if phase == "RUN":
        if job.phase == PENDING:
            await svc.jobs.queue(job_id)
        # RUN on a job already on its way (or done) changes nothing; UWS allows ignoring it.
    elif phase == "ABORT":
        await svc.jobs.abort(job_id)
    else:
        raise DALIError(f"PHASE must be RUN or ABORT, not {params.get('PHASE')!r}")
    return _see_other(f"{_jobs_url(svc)}/{job_id}")


@router.get("/{job_id}/executionduration", summary="Seconds the job may run")
async def get_execution_duration(request: Request, job_id: str) -> Response:
    return Response(str((await _job(services(request), job_id)).execution_duration), media_type=TEXT)


@router.post("/{job_id}/executionduration", summary="Change the execution duration (PENDING jobs)")
async def post_execution_duration(request: Request, job_id: str) -> Response:
    svc = services(request)
    params = await _params(request, svc)
    await _job(svc, job_id)
    seconds = _execution_duration(svc, params.require("EXECUTIONDURATION"))
    if not await svc.jobs.set_execution_duration(job_id, seconds):
        raise DALIError("the execution duration can only be changed while the job is PENDING", 409)
    return _see_other(f"{_jobs_url(svc)}/{job_id}")


@router.get("/{job_id}/destruction", summary="When the job and its results are removed")
async def get_destruction(request: Request, job_id: str) -> Response:
    return Response(documents.iso((await _job(services(request), job_id)).destruction), media_type=TEXT)


@router.post("/{job_id}/destruction", summary="Change the destruction time (within the retention limit)")
async def post_destruction(request: Request, job_id: str) -> Response:
    svc = services(request)
    params = await _params(request, svc)
    job = await _job(svc, job_id)
    await svc.jobs.set_destruction(job_id, _destruction(svc, params.require("DESTRUCTION"), job.creation_time))
    return _see_other(f"{_jobs_url(svc)}/{job_id}")


@router.get("/{job_id}/quote", summary="Estimated completion time (none is offered)")
async def get_quote(request: Request, job_id: str) -> Response:
    await _job(services(request), job_id)
    return Response("", media_type=TEXT)


@router.get("/{job_id}/owner", summary="The job's owner (empty: no authentication)")
async def get_owner(request: Request, job_id: str) -> Response:
    return Response((await _job(services(request), job_id)).owner_id or "", media_type=TEXT)


@router.get("/{job_id}/error", summary="The error document of a failed job")
async def get_error(request: Request, job_id: str) -> Response:
    job = await _job(services(request), job_id)
    if job.phase != ERROR:
        raise DALIError(f"job {job_id} has no error: it is {job.phase}", 404)
    body = votable.error_document(job.error_message or "the job failed")
    return Response(body, media_type=votable.MEDIA_TYPE)


@router.get("/{job_id}/parameters", summary="The job's parameters")
async def get_parameters(request: Request, job_id: str) -> Response:
    job = await _job(services(request), job_id)
    return Response(documents.parameters_document(job), media_type=documents.MEDIA_TYPE)


@router.post("/{job_id}/parameters", summary="Set parameters (and add uploads) while the job is PENDING")
async def post_parameters(request: Request, job_id: str) -> Response:
    svc = services(request)
    params = await _params(request, svc)
    job = await _job(svc, job_id)
    if job.phase != PENDING:
        raise DALIError(f"parameters can only be changed while the job is PENDING; it is {job.phase}", 409)
    given = {n for n, _ in params.items()}
    parameters = [(n, v) for n, v in job.parameters if n not in given]
    parameters += [(n, v) for n, v in params.items() if n not in _CONTROLS]
    files = await save_parts(params, _runner(svc).job_dir(job_id), svc.settings)
    if files:
        await svc.jobs.set_uploads(job_id, {**job.uploads, **{part: path.name for part, path in files.items()}})
    if not await svc.jobs.set_parameters(job_id, parameters):
        raise DALIError("parameters can only be changed while the job is PENDING", 409)
    return _see_other(f"{_jobs_url(svc)}/{job_id}")


@router.get("/{job_id}/results", summary="The job's results")
async def get_results(request: Request, job_id: str) -> Response:
    svc = services(request)
    job = await _job(svc, job_id)
    return Response(documents.results_document(job, f"{_jobs_url(svc)}/{job_id}"), media_type=documents.MEDIA_TYPE)


@router.get("/{job_id}/results/{result_id}", summary="One result (the query's table is 'result')")
async def get_result(request: Request, job_id: str, result_id: str) -> Response:
    svc = services(request)
    job = await _job(svc, job_id)
    for result in job.results:
        if result.id == result_id:
            path = _runner(svc).job_dir(job_id) / result.file
            if not path.is_file():
                raise DALIError(f"the result file of job {job_id} is missing on the server", 404)
            return FileResponse(path, media_type=result.mime)
    raise DALIError(f"job {job_id} has no result {result_id!r} (it is {job.phase})", 404)
