"""A UWS job as the service sees it: its row in uws.job, typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ExecutionPhase(StrEnum):
    """UWS 1.1's execution phases (sec. 2.2.1.1), spelt as the job documents and uws.job store them."""

    PENDING = "PENDING"
    QUEUED = "QUEUED"
    EXECUTING = "EXECUTING"
    COMPLETED = "COMPLETED"
    ERROR = "ERROR"
    ABORTED = "ABORTED"
    UNKNOWN = "UNKNOWN"
    HELD = "HELD"
    SUSPENDED = "SUSPENDED"
    ARCHIVED = "ARCHIVED"


# The members the job code tests most, under their bare names.
PENDING, QUEUED, EXECUTING = ExecutionPhase.PENDING, ExecutionPhase.QUEUED, ExecutionPhase.EXECUTING
COMPLETED, ERROR, ABORTED, ARCHIVED = (
    ExecutionPhase.COMPLETED,
    ExecutionPhase.ERROR,
    ExecutionPhase.ABORTED,
    ExecutionPhase.ARCHIVED,
)
PHASES = tuple(ExecutionPhase)
# UWS 1.1, 2.2.1.1: a blocking GET waits only while the job may still change by itself.
ACTIVE = (PENDING, QUEUED, EXECUTING, ExecutionPhase.HELD, ExecutionPhase.SUSPENDED)
FINAL = (COMPLETED, ERROR, ABORTED, ARCHIVED)


@dataclass(frozen=True)
class Result:
    id: str
    file: str  # name in the job's directory
    mime: str
    size: int

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "file": self.file, "mime": self.mime, "size": self.size}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        return cls(str(data["id"]), str(data["file"]), str(data["mime"]), int(data["size"]))


@dataclass(frozen=True)
class Job:
    job_id: str
    phase: ExecutionPhase
    creation_time: datetime
    execution_duration: int
    destruction: datetime
    parameters: list[tuple[str, str]]
    run_id: str | None = None
    owner_id: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    uploads: dict[str, str] = field(default_factory=dict)
    results: list[Result] = field(default_factory=list)
    error_message: str | None = None
    error_type: str | None = None
    attempts: int = 0
    backend_pid: int | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        return cls(
            job_id=row["job_id"],
            phase=ExecutionPhase(row["phase"]),
            creation_time=row["creation_time"],
            execution_duration=row["execution_duration"],
            destruction=row["destruction"],
            parameters=[(str(n), str(v)) for n, v in row["parameters"]],
            run_id=row["run_id"],
            owner_id=row["owner_id"],
            start_time=row["start_time"],
            end_time=row["end_time"],
            uploads=dict(row["uploads"]),
            results=[Result.from_json(r) for r in row["results"]],
            error_message=row["error_message"],
            error_type=row["error_type"],
            attempts=row["attempts"],
            backend_pid=row["backend_pid"],
        )

    def parameter(self, name: str) -> str | None:
        values = [v for n, v in self.parameters if n == name.upper()]
        return values[-1] if values else None
