"""The job runner every server process starts: claims queued jobs, runs them, writes their results,
and keeps the store tidy (orphaned runs recovered, expired jobs removed with their files).

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
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
from anyio import to_thread

from dalserver.datalink.discovery import result_extras
from dalserver.db.query import QueryCancelled, QueryStream, QueryTimeout
from dalserver.errors import DALIError
from dalserver.params import DALIParams
from dalserver.services import Services
from dalserver.tap.request import prepare_query, read_uploads
from dalserver.uws.jobs import EXECUTING, Job, Result
from dalserver.uws.store import CHANNEL, JobStore, new_worker_key

log = logging.getLogger(__name__)
RESULT_ID = "result"  # TAP 1.1: the result of an async query is at results/result


class JobRunner:
    def __init__(self, svc: Services, store: JobStore, database_url: str):
        self.svc = svc
        self.store = store
        self.url = database_url
        self.key = new_worker_key()
        self.settings = svc.settings
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._running: dict[str, QueryStream | None] = {}
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
        for stream in list(self._running.values()):
            if stream is not None:
                stream.cancel()
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
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await conn.execute("SET application_name = 'dalserver-uws-worker'")
                    await conn.execute("SELECT pg_advisory_lock(%s)", (self.key,))
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    self._wake.set()
                    async for note in conn.notifies():
                        self._dispatch(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: keep trying, polling meanwhile
                self._ready.clear()
                log.warning("job notifications interrupted (%s); reconnecting", exc)
                await asyncio.sleep(1)

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
        stream = self._running.get(job_id)
        if stream is not None and (job is None or job.phase != EXECUTING):
            await to_thread.run_sync(stream.cancel)

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
        self._running[job.job_id] = None
        try:
            await self._execute(job)
        except asyncio.CancelledError:
            raise
        except DALIError as exc:
            await self.store.fail(job.job_id, exc.message)
        except Exception:
            log.exception("job %s failed unexpectedly", job.job_id)
            await self.store.fail(job.job_id, "internal error in the service; the operator's log has the details")
        finally:
            self._running.pop(job.job_id, None)

    async def _execute(self, job: Job) -> None:
        directory = self.job_dir(job.job_id)
        directory.mkdir(parents=True, exist_ok=True)
        params = DALIParams(job.parameters)
        files = {part: directory / name for part, name in job.uploads.items()}
        uploads = await read_uploads(params, files, directory, self.settings)
        prepared = prepare_query(params, await self.svc.catalog.get(), self.settings, uploads)
        seconds = job.execution_duration or self.settings.async_execution_max_seconds
        stream = QueryStream(self.svc.queries, prepared.sql, seconds, self.settings.fetch_batch_bytes, uploads)
        self._running[job.job_id] = stream
        partial = directory / f"{RESULT_ID}.part"
        target = directory / f"{RESULT_ID}.{prepared.fmt.extension}"
        pid_recorded = False
        try:
            pid = await stream.connect()
            if not await self.store.set_backend(job.job_id, pid):
                return  # aborted (or deleted) before the query started
            pid_recorded = True
            await stream.open()
            extras = result_extras(prepared.columns, self.settings.public_url)
            with partial.open("wb") as out:
                async for chunk in prepared.fmt.stream(prepared.columns, stream.batches(), prepared.maxrec, extras):
                    await to_thread.run_sync(out.write, chunk)
        except QueryTimeout:
            raise DALIError(
                f"the job ran longer than its execution duration ({seconds} s) and its query was cancelled; "
                "narrow the query down, or ask for a longer EXECUTIONDURATION "
                f"(at most {self.settings.async_execution_max_seconds} s)"
            ) from None
        except QueryCancelled:
            return  # ABORT or DELETE: the phase says so already
        finally:
            # Cleared before the connection goes back to the pool, so that an ABORT arriving
            # from now on cannot cancel somebody else's query on the same backend.
            if pid_recorded:
                await self.store.clear_backend(job.job_id)
            await stream.close()
        try:
            partial.replace(target)
        except FileNotFoundError:
            return  # deleted while it ran: its directory went with it
        result = Result(RESULT_ID, target.name, prepared.fmt.mime, target.stat().st_size)
        if await self.store.complete(job.job_id, [result]):
            log.info("job %s: completed, %d bytes", job.job_id, result.size)
        else:
            target.unlink(missing_ok=True)  # aborted while the last bytes were written

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
