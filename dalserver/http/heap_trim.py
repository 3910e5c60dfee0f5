"""Give the heap a worker has freed back to the system when no request is waiting on it.

glibc keeps the pages of freed chunks inside its heaps; it returns only a heap's top by itself.
After the mixed session of bench/load.py, 24-48 MB of a worker's 53-78 MB of heap was free and
still resident, and ``malloc_trim`` gave 19-36 MB of it back in 4-11 ms. Trimming after every
answer would put those milliseconds, and the page faults of reusing the pages, on every request;
so a task of the worker looks once a second, and trims (in a thread: the event loop keeps
serving) when some request ended since the last trim and either none has been in flight for a
second, or a large answer ended: downloads are what spread the heap, and a worker under steady
load is never idle. At most once every ``every`` seconds (the setting ``memory_trim_seconds``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from anyio import to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from dalserver.http.memory import release_freed_memory

IDLE_SECONDS = 1.0  # no request in flight this long: the worker is idle
# An answer this large has passed through Arrow buffers and bytes of a megabyte or more (a batch of
# fetch_batch_bytes), whose freed pages glibc keeps.
LARGE_ANSWER_BYTES = 1 << 20


class _Count:
    def __init__(self) -> None:
        self.value = 0


# Large answers written by this process, whichever app or job runner wrote them: the heap is the
# process's.
_large_answers = _Count()


def large_answer_ended() -> None:
    """An answer of LARGE_ANSWER_BYTES or more was written (a download, an async job's result)."""
    _large_answers.value += 1


class HeapTrim:
    """When to trim: told of requests by ``CountRequests`` and of large answers by
    ``large_answer_ended``; trims in ``run()``."""

    def __init__(
        self,
        every: float,
        release: Callable[[], None] = release_freed_memory,
        idle: float = IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.every = every
        self.idle = idle
        self.release = release
        self.clock = clock
        self.in_flight = 0
        self.trims = 0
        self._changed = clock()  # a request started or ended
        self._ended = False  # since the last trim
        self._large_seen = _large_answers.value
        self._trimmed = -every  # the first trim need not wait

    def started(self) -> None:
        self.in_flight += 1
        self._changed = self.clock()

    def ended(self) -> None:
        self.in_flight -= 1
        self._ended = True
        self._changed = self.clock()

    def due(self) -> bool:
        now = self.clock()
        large = _large_answers.value != self._large_seen
        if not (self._ended or large) or now - self._trimmed < self.every:
            return False
        return large or (self.in_flight == 0 and now - self._changed >= self.idle)

    async def trim(self) -> None:
        self._ended = False
        self._large_seen = _large_answers.value
        await to_thread.run_sync(self.release)
        self._trimmed = self.clock()
        self.trims += 1

    async def run(self) -> None:
        """The worker's task (its lifespan starts and cancels it)."""
        while True:
            await asyncio.sleep(self.idle)
            if self.due():
                await self.trim()


class CountRequests:
    """ASGI middleware: tells a ``HeapTrim`` when HTTP requests start and end (their answer sent)."""

    def __init__(self, app: ASGIApp, heap: HeapTrim):
        self.app = app
        self.heap = heap

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.heap.started()
        try:
            await self.app(scope, receive, send)
        finally:
            self.heap.ended()
