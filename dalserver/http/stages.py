"""Where the time of a request goes, stage by stage, for bench/small_queries.py: with
DALSERVER_STAGE_LOG naming a file, each request appends one JSON line to it, the microseconds
between the marks the hot paths set (parameters, identity, catalogue, ADQL, connection, database,
writing, sending). Without it ``mark`` is one global check and nothing is recorded.

A profiler would slow the hot path it measures; marks at stage boundaries cost a clock read each.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

LOG_VARIABLE = "DALSERVER_STAGE_LOG"
_LOG = os.environ.get(LOG_VARIABLE) or None
# The marks of the request being served: (stage that just ended, perf_counter_ns). A list shared
# by every task the request starts (contexts are copied, the list is not).
_MARKS: ContextVar[list[tuple[str, int]] | None] = ContextVar("stage_marks", default=None)


def enabled() -> bool:
    return _LOG is not None


def mark(stage: str) -> None:
    """``stage`` of the current request has just ended (nothing without DALSERVER_STAGE_LOG)."""
    if _LOG is None:
        return
    marks = _MARKS.get()
    if marks is not None:
        marks.append((stage, time.perf_counter_ns()))


def durations(marks: list[tuple[str, int]]) -> dict[str, float]:
    """Microseconds per stage: from the previous mark to the stage's own (a stage marked twice
    adds up)."""
    spent: dict[str, float] = {}
    for (_, before), (stage, at) in zip(marks, marks[1:], strict=False):
        spent[stage] = spent.get(stage, 0.0) + (at - before) / 1000
    return spent


class StageLog:
    """ASGI middleware, outermost, installed only with DALSERVER_STAGE_LOG: starts a request's
    marks when it arrives and writes them when its last byte has been handed to the server."""

    def __init__(self, app: Callable[..., Awaitable[None]], path: str):
        self.app = app
        self.path = path

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        marks: list[tuple[str, int]] = [("arrived", time.perf_counter_ns())]
        token = _MARKS.set(marks)

        async def timed_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                marks.append(("until headers", time.perf_counter_ns()))
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                marks.append(("sending", time.perf_counter_ns()))

        try:
            await self.app(scope, receive, timed_send)
        finally:
            _MARKS.reset(token)
            line = json.dumps({"path": scope["path"], "us": durations(marks)})
            with open(self.path, "a", encoding="utf-8") as out:
                out.write(line + "\n")


def stage_log_path() -> str | None:
    """The file stage marks go to, if any."""
    return _LOG
