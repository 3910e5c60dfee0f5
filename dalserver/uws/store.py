"""The durable job store: uws.job rows, shared by every server process on the same database.

Every phase change is one statement (or one transaction) with a ``pg_notify`` on the channel
below, so processes blocked in a UWS WAIT, and idle workers, hear of it at once. A job is claimed
with ``FOR UPDATE SKIP LOCKED``: exactly one worker gets it. A worker process holds a session
advisory lock under its ``worker_key`` for as long as it lives; a job in EXECUTING whose worker's
lock is free was left behind by a process that died, and is re-queued or failed.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from dalserver.uws.jobs import ACTIVE, ERROR, EXECUTING, PENDING, QUEUED, Job, Result
from pgsql_text.quoting import quote_string

CHANNEL = "dalserver_uws"
# Who stops a job, as its error summary says (there is no authentication yet to name a user).
ABORTED_BY_CLIENT = "a client, by PHASE=ABORT"
ABORTED_BY_DELETE = "a client, by deleting the job"
_NOTIFY = f"SELECT pg_notify({quote_string(CHANNEL)}, %s)"
# pg_locks spells a bigint advisory key as classid (high 32 bits) and objid (low 32 bits).
_WORKER_ALIVE = (
    "EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
    "AND ((l.classid::bigint << 32) | l.objid::bigint) = j.worker_key)"
)


def new_job_id() -> str:
    return secrets.token_hex(10)


def new_worker_key() -> int:
    return secrets.randbits(62)


class JobStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def _one(self, sql: str, args: Sequence[Any], notify: bool = False) -> dict[str, Any] | None:
        """Run one statement; with ``notify``, announce the job it returned (RETURNING job_id)."""
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(sql, args)
            row = await cur.fetchone()
            if notify and row is not None:
                await conn.execute(_NOTIFY, (row["job_id"],))
            return row

    # --- creation and reading -------------------------------------------------------------------
    async def create(
        self,
        job_id: str,
        parameters: list[tuple[str, str]],
        uploads: dict[str, str],
        run_id: str | None,
        execution_duration: int,
        destruction: datetime,
        queue: bool,
        owner: str | None = None,
    ) -> Job:
        row = await self._one(
            "INSERT INTO uws.job (job_id, run_id, owner_id, phase, creation_time, queued_at, execution_duration, "
            "destruction, parameters, uploads, results, attempts) "
            "VALUES (%s, %s, %s, %s, now(), CASE WHEN %s THEN now() END, %s, %s, %s, %s, '[]', 0) RETURNING *",
            (
                job_id,
                run_id,
                owner,
                QUEUED if queue else PENDING,
                queue,
                execution_duration,
                destruction,
                Jsonb([list(p) for p in parameters]),
                Jsonb(uploads),
            ),
            notify=True,
        )
        assert row is not None
        return Job.from_row(row)

    async def get(self, job_id: str) -> Job | None:
        row = await self._one("SELECT * FROM uws.job WHERE job_id = %s", (job_id,))
        return Job.from_row(row) if row else None

    async def find(
        self, phases: list[str], after: datetime | None, last: int | None, owner: str | None = None
    ) -> list[Job]:
        """The jobs of ``owner`` (None: those created anonymously) in the phases given."""
        where: list[str] = ["owner_id IS NOT DISTINCT FROM %s"]
        args: list[Any] = [owner]
        if phases:
            where.append("phase = ANY(%s)")
            args.append(phases)
        else:
            where.append("phase <> 'ARCHIVED'")  # UWS 1.1: archived jobs only when asked for
        if after is not None:
            where.append("creation_time > %s")
            args.append(after)
        sql = "SELECT * FROM uws.job WHERE " + " AND ".join(where)
        if last is not None:
            # UWS 1.1: LAST gives the most recently created jobs, newest first.
            sql += " ORDER BY creation_time DESC, job_id LIMIT %s"
            args.append(last)
        else:
            sql += " ORDER BY creation_time, job_id"
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(sql, args)
            return [Job.from_row(r) for r in await cur.fetchall()]

    # --- changes a client asks for --------------------------------------------------------------
    async def set_parameters(self, job_id: str, parameters: list[tuple[str, str]]) -> bool:
        """Replace the job's parameters (PENDING only); False if the job is past PENDING."""
        row = await self._one(
            "UPDATE uws.job SET parameters = %s WHERE job_id = %s AND phase = 'PENDING' RETURNING job_id",
            (Jsonb([list(p) for p in parameters]), job_id),
            notify=True,
        )
        return row is not None

    async def set_uploads(self, job_id: str, uploads: dict[str, str]) -> None:
        await self._one("UPDATE uws.job SET uploads = %s WHERE job_id = %s RETURNING job_id", (Jsonb(uploads), job_id))

    async def set_execution_duration(self, job_id: str, seconds: int) -> bool:
        row = await self._one(
            "UPDATE uws.job SET execution_duration = %s WHERE job_id = %s AND phase = 'PENDING' RETURNING job_id",
            (seconds, job_id),
            notify=True,
        )
        return row is not None

    async def set_destruction(self, job_id: str, when: datetime) -> None:
        await self._one(
            "UPDATE uws.job SET destruction = %s WHERE job_id = %s RETURNING job_id", (when, job_id), notify=True
        )

    async def queue(self, job_id: str) -> bool:
        """PENDING -> QUEUED; False if the job was not PENDING (RUN is then a no-op)."""
        row = await self._one(
            "UPDATE uws.job SET phase = 'QUEUED', queued_at = now() WHERE job_id = %s AND phase = 'PENDING' "
            "RETURNING job_id",
            (job_id,),
            notify=True,
        )
        return row is not None

    async def abort(self, job_id: str, by: str = ABORTED_BY_CLIENT) -> bool:
        """Any unfinished phase -> ABORTED, cancelling the job's query wherever it runs. The
        job's error summary says ``by`` whom and when (UWS 1.1 allows one in ABORTED), so a
        client is not left with an ABORTED job and no reason."""
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "UPDATE uws.job SET phase = 'ABORTED', end_time = now(), error_type = 'transient', "
                "error_message = 'aborted by ' || %s || ' at ' || "
                "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                "WHERE job_id = %s AND phase = ANY(%s) RETURNING backend_pid",
                (by, job_id, list(ACTIVE)),
            )
            row = await cur.fetchone()
            if row is None:
                return False
            # The worker clears backend_pid (which waits for this row lock) before it lets the
            # connection go, so the backend cancelled here is still running this job's query.
            if row["backend_pid"] is not None:
                await conn.execute("SELECT pg_cancel_backend(%s)", (row["backend_pid"],))
            await conn.execute(_NOTIFY, (job_id,))
            return True

    async def delete(self, job_id: str) -> bool:
        await self.abort(job_id, ABORTED_BY_DELETE)
        row = await self._one("DELETE FROM uws.job WHERE job_id = %s RETURNING job_id", (job_id,), notify=True)
        return row is not None

    # --- the worker's side ----------------------------------------------------------------------
    async def claim(self, worker_key: int) -> Job | None:
        row = await self._one(
            "UPDATE uws.job SET phase = 'EXECUTING', start_time = now(), end_time = NULL, "
            "attempts = attempts + 1, worker_key = %s, backend_pid = NULL "
            "WHERE job_id = (SELECT job_id FROM uws.job WHERE phase = 'QUEUED' "
            "ORDER BY queued_at, creation_time FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING *",
            (worker_key,),
            notify=True,
        )
        return Job.from_row(row) if row else None

    async def set_backend(self, job_id: str, pid: int) -> bool:
        """Record the backend about to run the job's query; False if the job was aborted meanwhile."""
        row = await self._one(
            "UPDATE uws.job SET backend_pid = %s WHERE job_id = %s AND phase = 'EXECUTING' RETURNING job_id",
            (pid, job_id),
        )
        return row is not None

    async def is_executing(self, job_id: str) -> bool:
        """Whether the job is still EXECUTING (not aborted or deleted meanwhile)."""
        row = await self._one("SELECT job_id FROM uws.job WHERE job_id = %s AND phase = 'EXECUTING'", (job_id,))
        return row is not None

    async def clear_backend(self, job_id: str) -> None:
        """From now on no ABORT can cancel that backend (its connection is about to be reused)."""
        await self._one("UPDATE uws.job SET backend_pid = NULL WHERE job_id = %s RETURNING job_id", (job_id,))

    async def complete(self, job_id: str, results: list[Result]) -> bool:
        row = await self._one(
            "UPDATE uws.job SET phase = 'COMPLETED', end_time = now(), results = %s, backend_pid = NULL "
            "WHERE job_id = %s AND phase = 'EXECUTING' RETURNING job_id",
            (Jsonb([r.as_json() for r in results]), job_id),
            notify=True,
        )
        return row is not None

    async def fail(self, job_id: str, message: str, error_type: str = "fatal") -> bool:
        row = await self._one(
            "UPDATE uws.job SET phase = 'ERROR', end_time = now(), error_message = %s, error_type = %s, "
            "backend_pid = NULL WHERE job_id = %s AND phase = 'EXECUTING' RETURNING job_id",
            (message, error_type, job_id),
            notify=True,
        )
        return row is not None

    async def requeue_own(self, worker_key: int, job_id: str | None = None) -> list[str]:
        """This worker's running jobs (or the one ``job_id``) back to QUEUED, the interrupted run
        not counted as an attempt: a clean shutdown, or a database that went away under it."""
        only = "" if job_id is None else " AND job_id = %s"
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE uws.job SET phase = 'QUEUED', queued_at = now(), start_time = NULL, worker_key = NULL, "
                "backend_pid = NULL, attempts = greatest(attempts - 1, 0) "
                f"WHERE phase = 'EXECUTING' AND worker_key = %s{only} RETURNING job_id",
                (worker_key,) if job_id is None else (worker_key, job_id),
            )
            ids = [r[0] for r in await cur.fetchall()]
            for job_id in ids:
                await conn.execute(_NOTIFY, (job_id,))
            return ids

    async def recover_orphans(self, max_attempts: int, grace_seconds: float = 30.0) -> list[tuple[str, str]]:
        """Jobs left in EXECUTING by a worker process that is gone: re-queued while they have
        attempts left, otherwise failed with a message saying why. Returns (job_id, new phase).

        Not within ``grace_seconds`` of a database start: a restart drops every worker's lock, and
        the living workers need a moment to take theirs again (and hand their jobs back unspent).
        """
        changed: list[tuple[str, str]] = []
        async with self.pool.connection() as conn:
            started = await conn.execute(
                "SELECT now() - pg_postmaster_start_time() < make_interval(secs => %s)", (grace_seconds,)
            )
            restarted = await started.fetchone()
            if restarted is not None and restarted[0]:
                await conn.rollback()
                return changed
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT job_id, attempts FROM uws.job j WHERE phase = %s AND NOT {_WORKER_ALIVE} "
                "FOR UPDATE SKIP LOCKED",
                (EXECUTING,),
            )
            for row in await cur.fetchall():
                if row["attempts"] < max_attempts:
                    await conn.execute(
                        "UPDATE uws.job SET phase = 'QUEUED', queued_at = now(), start_time = NULL, "
                        "worker_key = NULL, backend_pid = NULL WHERE job_id = %s",
                        (row["job_id"],),
                    )
                    changed.append((row["job_id"], QUEUED))
                else:
                    message = (
                        f"the server process running this job stopped before it finished, {row['attempts']} "
                        "time(s); it is not retried again. If the query is very heavy, narrow it down."
                    )
                    await conn.execute(
                        "UPDATE uws.job SET phase = 'ERROR', end_time = now(), error_message = %s, "
                        "error_type = 'transient', worker_key = NULL, backend_pid = NULL WHERE job_id = %s",
                        (message, row["job_id"]),
                    )
                    changed.append((row["job_id"], ERROR))
                await conn.execute(_NOTIFY, (row["job_id"],))
        return changed

    async def expired(self) -> list[str]:
        """Remove the rows of jobs past their destruction time (cancelling any still running)."""
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT job_id, backend_pid FROM uws.job WHERE destruction < now() FOR UPDATE SKIP LOCKED"
            )
            rows = await cur.fetchall()
            for row in rows:
                if row["backend_pid"] is not None:
                    await conn.execute("SELECT pg_cancel_backend(%s)", (row["backend_pid"],))
                await conn.execute("DELETE FROM uws.job WHERE job_id = %s", (row["job_id"],))
                await conn.execute(_NOTIFY, (row["job_id"],))
        return [r["job_id"] for r in rows]

    async def executing_by(self, worker_key: int) -> list[str]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT job_id FROM uws.job WHERE phase = 'EXECUTING' AND worker_key = %s", (worker_key,)
            )
            return [r[0] for r in await cur.fetchall()]

    async def existing(self, job_ids: list[str]) -> set[str]:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT job_id FROM uws.job WHERE job_id = ANY(%s)", (job_ids,))
            return {r[0] for r in await cur.fetchall()}
