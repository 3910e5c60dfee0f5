"""The job runner every server process starts: claims queued jobs, hands each to the worker
function the protocol gave it, records the outcome, and keeps the store tidy (orphaned runs
recovered, expired jobs removed with their files). It knows jobs, not what a job computes.

One dedicated database connection per process holds the worker's advisory lock (its proof of
life, see dalserver.uws.store) and LISTENs for job changes; a notification wakes idle workers and
any request blocked in a UWS WAIT, and tells a worker that its job was aborted. Polling every
``job_poll_seconds`` covers notifications lost while that connection was being re-opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from anyio import to_thread

from dalserver.dali.faults import DALIError, TransientFault
from dalserver.settings import Settings
from dalserver.uws.jobs import EXECUTING, Job, Result
from dalserver.uws.store import CHANNEL, JobStore, new_worker_key

log = logging.getLogger(__name__)


class JobAborted(Exception):
    """The job was aborted or deleted while its worker ran: nothing more to record."""


@dataclass
class JobContext:
    """What a worker gets: the job, its directory, and the means to make its work cancellable."""

    job: Job
    directory: Path
    _runner: JobRunner = field(repr=False)

    @contextlib.asynccontextmanager
    async def cancellable(self, cancel: Callable[[], None], backend_pid: int | None = None) -> AsyncIterator[None]:
        """While the block runs, an ABORT of the job calls ``cancel`` here and, from any other
        server process, cancels the database backend ``backend_pid`` (pg_cancel_backend, on the
        primary: a query on a standby gives none, and is cancelled through ``cancel`` alone).
        Raises ``JobAborted`` at once if the job was aborted before the block began."""
        runner, job_id = self._runner, self.job.job_id
        runner._cancels[job_id] = cancel
        recorded = False
        try:
            if backend_pid is not None:
                if not await runner.store.set_backend(job_id, backend_pid):
                    raise JobAborted()
                recorded = True
            elif not await runner.store.is_executing(job_id):
                raise JobAborted()
            yield
        finally:
            runner._cancels.pop(job_id, None)
            # Cleared before the backend's connection goes back to its pool, so that an ABORT
            # arriving from now on cannot cancel somebody else's query on the same backend.
            if recorded:
                await runner.store.clear_backend(job_id)


# Runs a job to its end: writes its result files into ``context.directory`` and returns them;
# raises a DALIError (the job ends in ERROR with its message) or JobAborted.
JobWorker = Callable[[JobContext], Awaitable[list[Result]]]


class JobRunner:
    def __init__(self, store: JobStore, database_url: str, settings: Settings, worker: JobWorker):
        self.store = store
        self.url = database_url
        self.settings = settings
        self.worker = worker
        self.key = new_worker_key()
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._running: set[str] = set()
        self._cancels: dict[str, Callable[[], None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._jobs: set[asyncio.Task[None]] = set()

    def job_dir(self, job_id: str) -> Path:
        return self.settings.jobs_root / job_id

    # --- life cycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        self.settings.jobs_root.mkdir(parents=True, exist_ok=True)
        self._tasks = [
            asyncio.create_task(self._listen(), name="uws-listen"),
            asyncio.create_task(self._claim_loop(), name="uws-claim"),
            asyncio.create_task(self._sweep_loop(), name="uws-sweep"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), 10)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for cancel in list(self._cancels.values()):
            cancel()
        jobs = list(self._jobs)
        for task in jobs:
            task.cancel()
        await asyncio.gather(*self._tasks, *jobs, return_exceptions=True)
        # A clean shutdown hands its unfinished jobs back to the queue at once, without counting
        # the interrupted run as an attempt; another process (or this one, restarted) runs them.
        with contextlib.suppress(Exception):
            for job_id in await self.store.requeue_own(self.key):
                log.info("job %s: handed back to the queue at shutdown", job_id)

    # --- notifications --------------------------------------------------------------------------
    async def _listen(self) -> None:
        interrupted = False
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.url, autocommit=True, connect_timeout=5, application_name="dalserver-uws-worker"
                ) as conn:
                    await conn.execute("SELECT pg_advisory_lock(%s)", (self.key,))
                    await conn.execute(f"LISTEN {CHANNEL}")
                    if interrupted:
                        await self._reclaim_lost()
                        log.warning("job notifications resumed")
                        interrupted = False
                    self._ready.set()
                    self._wake.set()
                    async for note in conn.notifies():
                        self._dispatch(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: keep trying, polling meanwhile
                self._ready.clear()
                if not interrupted:
                    log.warning("job notifications interrupted (%s); reconnecting", exc)
                interrupted = True
                await asyncio.sleep(1)

    async def _reclaim_lost(self) -> None:
        """Jobs the store says this worker runs but it does not (their outcome could not be
        recorded while the database was away) go back to the queue, unspent."""
        lost = [j for j in await self.store.executing_by(self.key) if j not in self._running]
        for job_id in lost:
            await self.store.requeue_own(self.key, job_id)
            log.warning("job %s: back to the queue (its run was interrupted by the database outage)", job_id)

    def _dispatch(self, job_id: str) -> None:
        self._wake.set()
        for event in self._waiters.get(job_id, ()):
            event.set()
        if job_id in self._running:
            task = asyncio.create_task(self._check_aborted(job_id))
            self._jobs.add(task)
            task.add_done_callback(self._jobs.discard)

    async def _check_aborted(self, job_id: str) -> None:
        job = await self.store.get(job_id)
        cancel = self._cancels.get(job_id)
        if cancel is not None and (job is None or job.phase != EXECUTING):
            await to_thread.run_sync(cancel)

    async def changes(self, job_id: str, timeout: float) -> AsyncIterator[None]:
        """Yields whenever the job may have changed, until ``timeout`` seconds have passed."""
        event = asyncio.Event()
        self._waiters.setdefault(job_id, set()).add(event)
        deadline = time.monotonic() + timeout
        try:
            while (left := deadline - time.monotonic()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), min(left, self.settings.job_poll_seconds))
                event.clear()
                yield
        finally:
            waiters = self._waiters.get(job_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[job_id]

    # --- claiming and running -------------------------------------------------------------------
    async def _claim_loop(self) -> None:
        slots = asyncio.Semaphore(self.settings.async_workers)
        while True:
            await self._ready.wait()
            await slots.acquire()
            self._wake.clear()
            try:
                job = await self.store.claim(self.key)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                slots.release()
                log.warning("cannot claim jobs: %s", exc)
                await asyncio.sleep(self.settings.job_poll_seconds)
                continue
            if job is None:
                slots.release()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.job_poll_seconds)
                continue
            task = asyncio.create_task(self._run(job), name=f"uws-job-{job.job_id}")
            self._jobs.add(task)
            task.add_done_callback(self._jobs.discard)
            task.add_done_callback(lambda _: slots.release())

    async def _run(self, job: Job) -> None:
        log.info("job %s: running (attempt %d)", job.job_id, job.attempts)
        self._running.add(job.job_id)
        directory = self.job_dir(job.job_id)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            results = await self.worker(JobContext(job, directory, self))
        except asyncio.CancelledError:
            raise
        except JobAborted:
            return  # ABORT or DELETE: the phase says so already
        except TransientFault as exc:
            if not exc.requeue_job:
                await self.store.fail(job.job_id, exc.message)
                return
            # The database went away under the job: not the job's fault. It goes back to the
            # queue, unspent, as soon as the store can be written again, and runs then.
            log.warning(
                "job %s: interrupted (%s); back to the queue when the database answers", job.job_id, exc.message
            )
            self._hand_back_later(job.job_id)
            return
        except DALIError as exc:
            await self.store.fail(job.job_id, exc.message)
            return
        except OSError as exc:  # the jobs directory: full, read-only, gone
            log.error("job %s: cannot write its files in %s: %s", job.job_id, directory, exc)
            message = f"the server could not write the job's result ({exc.strerror or exc}); the operator has been told"
            await self.store.fail(job.job_id, message)
            return
        except Exception:
            log.exception("job %s failed unexpectedly", job.job_id)
            await self.store.fail(job.job_id, "internal error in the service; the operator's log has the details")
            return
        finally:
            self._running.discard(job.job_id)
        if await self.store.complete(job.job_id, results):
            log.info("job %s: completed, %d bytes", job.job_id, sum(r.size for r in results))
        else:
            for result in results:  # aborted while the last bytes were written
                (directory / result.file).unlink(missing_ok=True)

    def _hand_back_later(self, job_id: str) -> None:
        async def hand_back() -> None:
            while True:
                try:
                    await self.store.requeue_own(self.key, job_id)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    await asyncio.sleep(self.settings.job_poll_seconds)

        task = asyncio.create_task(hand_back(), name=f"uws-requeue-{job_id}")
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)

    # --- housekeeping ---------------------------------------------------------------------------
    async def _sweep_loop(self) -> None:
        await self._ready.wait()
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("job sweep failed: %s", exc)
            await asyncio.sleep(self.settings.job_sweep_seconds)

    async def sweep(self) -> None:
        for job_id, phase in await self.store.recover_orphans(self.settings.job_max_attempts):
            log.warning("job %s: its server process died while running it; now %s", job_id, phase)
        for job_id in await self.store.expired():
            log.info("job %s: destroyed (past its destruction time)", job_id)
            await to_thread.run_sync(shutil.rmtree, self.job_dir(job_id), True)
        await self._remove_stray_directories()

    async def _remove_stray_directories(self) -> None:
        """Directories whose job row is gone (a crash between the two deletions), after an hour."""
        root = self.settings.jobs_root
        old = [p for p in root.iterdir() if p.is_dir() and time.time() - p.stat().st_mtime > 3600]
        if not old:
            return
        known = await self.store.existing([p.name for p in old])
        for path in old:
            if path.name not in known:
                await to_thread.run_sync(shutil.rmtree, path, True)

    async def remove_files(self, job_id: str) -> None:
        await to_thread.run_sync(shutil.rmtree, self.job_dir(job_id), True)
