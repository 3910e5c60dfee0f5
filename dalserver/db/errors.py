"""What a database error means for the client, decided in one table keyed on SQLSTATE (PostgreSQL
appendix A), never on message text.

Errors a query's content causes (a division by zero, a subquery used as a value that gives
several rows, a value pgsphere refuses, the translator's own refusals) are the client's: 400 with
PostgreSQL's own primary message. What a query's form causes (grouping, types, operators that do
not exist) the ADQL checker refuses before any SQL runs, so SQLSTATE class 42 means our bug. A
database that cannot be reached or is shutting down, and a standby's recovery conflict, are
transient: 503 with Retry-After. Anything else is the service's failure: 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dalserver.dali.faults import DALIError, FatalFault, Fault, TransientFault, UsageFault
from pgsql_text.private_schema import REFUSAL_SQLSTATE

QUERY_CANCELED = "57014"  # statement timeout and pg_cancel_backend alike
# serialization_failure: what a standby says when replaying the primary's changes (a VACUUM that
# removed rows) had to cancel a query still reading them; read-only queries meet it nowhere else.
RECOVERY_CONFLICT = "40001"
PGSPHERE_ERROR = "XX000"  # pgsphere reports bad values (radius > 90 deg, degenerate polygons) with elog(ERROR)
RETRY_AFTER_SECONDS = 5


class QueryTimeout(UsageFault):
    """The statement timeout ended the query."""


class QueryCancelled(DALIError):
    """The query was cancelled on request (a client that went away, an async job's ABORT)."""

    def __init__(self, message: str = "the query was cancelled"):
        super().__init__(Fault.USAGE, message)


class QueryFailed(UsageFault):
    """The database refused to run the query on grounds of what it asks (SQLSTATE kept)."""

    def __init__(self, message: str, sqlstate: str | None):
        super().__init__(message)
        self.sqlstate = sqlstate


class DatabaseUnavailable(TransientFault):
    """The database cannot be reached now (down, restarting, out of connections)."""

    def __init__(self, detail: str):
        super().__init__(
            f"the database is not available ({detail}); try again in a few seconds", retry_after=RETRY_AFTER_SECONDS
        )


class ShardUnavailable(TransientFault):
    """A shard server holding part of a sharded catalogue cannot be reached: the query needs its
    rows, so it fails rather than answer without them. An async job ends in ERROR with the same
    message rather than wait in the queue for a shard that may be away for long."""

    requeue_job = False

    def __init__(self, server: str):
        super().__init__(
            f"the shard server {server}, which holds part of the queried catalogue, cannot be reached: "
            "the query cannot be answered without its rows; try again later, or constrain the query to "
            "a region the other shards hold",
            retry_after=RETRY_AFTER_SECONDS,
        )
        self.server = server


class RecoveryConflict(TransientFault):
    """A standby cancelled the query to go on replaying the primary's changes: running it again
    works (an async job is run again on the primary, dalserver.tap.async_jobs)."""

    def __init__(self, detail: str):
        super().__init__(
            f"the query was cancelled by the database server ({detail}): a standby replaying the "
            "primary's changes had to remove rows the query was still reading; run it again",
            retry_after=RETRY_AFTER_SECONDS,
        )
        self.server: str | None = None  # the standby's name, where the caller knows it


class DatabaseFailure(FatalFault):
    """The database failed in a way the client cannot mend (disk full, corruption, a bug)."""


@dataclass(frozen=True)
class _Meaning:
    kind: type[DALIError]
    what: str  # how the message begins
    hint: str = ""  # what the client can do about it, after PostgreSQL's message


# SQLSTATE (exact, or its two-character class) -> meaning. Checked exact first, then by class.
_CLIENT = _Meaning(QueryFailed, "the database could not run the query")
_GONE = _Meaning(DatabaseUnavailable, "")
_BROKEN = _Meaning(DatabaseFailure, "the database failed while running the query")
_BY_SQLSTATE: dict[str, _Meaning] = {
    REFUSAL_SQLSTATE: _Meaning(QueryFailed, ""),  # the translator's own refusal: its message alone
    "22": _CLIENT,  # data exception: division by zero, invalid input syntax, numeric out of range
    # cardinality violation: a subquery used as a value gave more than one row for some row
    "21000": _Meaning(
        QueryFailed,
        "the database could not run the query",
        "; a subquery used as a value must give at most one row: add a condition, an aggregate "
        "(MAX, MIN, COUNT) or TOP 1 with ORDER BY to it, or compare with IN or EXISTS instead",
    ),
    "21": _CLIENT,
    # 42xxx (syntax, undefined function or table, privileges) cannot come from a query the ADQL
    # type checker let through unless the translator or the configuration is wrong: the service's fault.
    "42": _BROKEN,
    "25006": _CLIENT,  # read-only transaction: the query tried to write
    "54": _CLIENT,  # program limit exceeded: statement too complex
    PGSPHERE_ERROR: _CLIENT,
    RECOVERY_CONFLICT: _Meaning(RecoveryConflict, ""),
    "08": _GONE,  # connection exception
    "57P01": _GONE,  # admin_shutdown
    "57P02": _GONE,  # crash_shutdown
    "57P03": _GONE,  # cannot_connect_now (starting up, recovery)
    "53300": _GONE,  # too_many_connections
    "53": _BROKEN,  # insufficient resources: disk full, out of memory
    "58": _BROKEN,  # system error (I/O)
    "XX": _BROKEN,  # internal error, data corrupted
}
_PRIMARY = re.compile(r"ERROR:\s+(.*?)\s*(?:\n|$)")
# postgres_fdw's words when it cannot reach a foreign server (archive_io.shards names them).
_SHARD_UNREACHABLE = re.compile(r'could not connect to server "(dalserver_shard_[a-z0-9_]+)"')


def unreachable_shard(exc: BaseException) -> str | None:
    """The shard server a query failed to reach, if that is why it failed: the coordinator itself is fine."""
    found = _SHARD_UNREACHABLE.search(str(exc))
    return found.group(1) if found else None


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE psycopg or ADBC attached to an error, if the server sent one."""
    state = getattr(exc, "sqlstate", None)
    return str(state) if state else None


def is_connection_lost(exc: BaseException) -> bool:
    """The connection itself failed (no SQLSTATE: the server closed it or never answered)."""
    import psycopg

    if unreachable_shard(exc) is not None:
        return False
    if sqlstate_of(exc) is not None:
        return (sqlstate_of(exc) or "")[:2] == "08" or sqlstate_of(exc) in ("57P01", "57P02", "57P03")
    if isinstance(exc, psycopg.OperationalError):
        return True
    status = getattr(exc, "status_code", None)
    return status is not None and getattr(status, "name", "") == "IO"


def primary_message(exc: BaseException) -> str:
    """PostgreSQL's primary message without the driver's wrapping."""
    text = str(exc)
    found = _PRIMARY.search(text)
    if found:
        return found.group(1)
    lines = text.strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def database_fault(exc: BaseException, cancelled: bool = False, timed_out: bool = False) -> DALIError:
    """The client-facing fault for an error raised while running a user's query.

    ``cancelled``: the service itself cancelled the query; ``timed_out``: it ran at least as long as
    its statement timeout. PostgreSQL gives both, and a cancel from another process, SQLSTATE 57014.
    """
    if isinstance(exc, DALIError):
        return exc
    if (shard := unreachable_shard(exc)) is not None:
        return ShardUnavailable(shard)
    state = sqlstate_of(exc)
    if state == QUERY_CANCELED:
        if timed_out and not cancelled:
            return QueryTimeout(
                "the query ran longer than the service's time limit and was cancelled; "
                "narrow it down, or use the asynchronous endpoint"
            )
        return QueryCancelled()
    if state is None:
        if is_connection_lost(exc):
            return DatabaseUnavailable("the connection to it was lost")
        return DatabaseFailure(f"the database failed while running the query: {primary_message(exc)}")
    meaning = _BY_SQLSTATE.get(state) or _BY_SQLSTATE.get(state[:2]) or _BROKEN
    if meaning.kind is DatabaseUnavailable:
        return DatabaseUnavailable(primary_message(exc))
    if meaning.kind is RecoveryConflict:
        return RecoveryConflict(primary_message(exc))
    if meaning.kind is QueryFailed:
        prefix = f"{meaning.what}: " if meaning.what else ""
        return QueryFailed(f"{prefix}{primary_message(exc)}{meaning.hint}", state)
    return DatabaseFailure(f"{meaning.what}: {primary_message(exc)} (SQLSTATE {state})")
