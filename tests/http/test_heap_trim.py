"""When a worker gives its freed heap back (dalserver/http/heap_trim.py): once it is idle, or after
a large answer, at most once every ``memory_trim_seconds``; never while a request is being answered
(a streamed answer counts until its last byte), always off the event loop's thread; not at all
with ``memory_trim_seconds`` 0. What a trim is, is replaced by a recorder: its effect on the
resident size is measured by bench/load.py, not here."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from dalserver.app import create_app
from dalserver.http.heap_trim import CountRequests, HeapTrim, large_answer_ended
from dalserver.settings import Settings
from tests.support.threaded_server import serving_in_thread

NOWHERE = "postgresql://nobody@127.0.0.1:1/none"  # never connected to


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _heap(every: float = 5.0) -> tuple[HeapTrim, Clock, list[int]]:
    clock, released = Clock(), []
    return HeapTrim(every, lambda: released.append(threading.get_ident()), idle=1.0, clock=clock), clock, released


def _one_request(heap: HeapTrim) -> None:
    heap.started()
    heap.ended()


def test_a_worker_trims_once_no_request_has_been_in_flight_for_a_second() -> None:
    heap, clock, released = _heap()
    _one_request(heap)
    clock.now += 0.5
    assert not heap.due()
    clock.now += 0.5
    assert heap.due()
    asyncio.run(heap.trim())
    assert len(released) == 1
    clock.now += 60
    assert not heap.due()  # nothing answered since: nothing freed to give back


def test_a_worker_that_answered_nothing_never_trims() -> None:
    heap, clock, _ = _heap()
    clock.now += 60
    assert not heap.due()


def test_no_trim_while_a_request_is_in_flight() -> None:
    heap, clock, _ = _heap()
    _one_request(heap)
    heap.started()  # a second request, still being answered
    clock.now += 60
    assert not heap.due()
    heap.ended()
    clock.now += 1
    assert heap.due()


def test_a_large_answer_is_trimmed_after_even_while_other_requests_are_in_flight() -> None:
    heap, clock, _ = _heap()
    heap.started()
    clock.now += 0.1
    assert not heap.due()
    large_answer_ended()
    assert heap.due()


def test_trims_are_at_least_memory_trim_seconds_apart() -> None:
    heap, clock, released = _heap(every=5.0)
    _one_request(heap)
    clock.now += 1
    asyncio.run(heap.trim())
    _one_request(heap)
    large_answer_ended()
    clock.now += 4.9
    assert not heap.due()
    clock.now += 0.1
    assert heap.due()


def _streaming_app(heap: HeapTrim, go_on: threading.Event, loop_thread: list[int]) -> Starlette:
    async def answer(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"first part\n"
            while not go_on.is_set():  # the client has the first part; the answer is still going
                await asyncio.sleep(0.01)
            yield b"last part\n"

        return StreamingResponse(body(), media_type="text/plain")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        loop_thread.append(threading.get_ident())
        task = asyncio.create_task(heap.run())
        yield
        task.cancel()

    app = Starlette(routes=[Route("/answer", answer)], lifespan=lifespan)
    return CountRequests(app, heap)  # type: ignore[return-value]  # an ASGI app, as Starlette is


@contextmanager
def _serving(app: Starlette) -> Iterator[str]:
    with serving_in_thread(app) as (port, _):
        yield f"http://127.0.0.1:{port}"


def test_a_served_answer_is_in_flight_until_its_last_byte_and_the_trim_comes_after_it_off_the_loop() -> None:
    released: list[int] = []
    heap = HeapTrim(0.01, lambda: released.append(threading.get_ident()), idle=0.05)
    go_on, loop_thread = threading.Event(), list[int]()
    with _serving(_streaming_app(heap, go_on, loop_thread)) as base, httpx.Client(base_url=base, timeout=30) as client:
        with client.stream("GET", "/answer") as response:
            lines = response.iter_lines()
            first = next(lines)
            time.sleep(0.5)  # ten idle periods, had the answer not been in flight
            assert (first, heap.in_flight, released) == ("first part", 1, [])
            go_on.set()
            assert list(lines) == ["last part"]
        deadline = time.monotonic() + 30
        while not released and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(released) == 1 and released != loop_thread
    assert heap.in_flight == 0


def test_memory_trim_seconds_0_turns_the_trimming_off(tmp_path: Path) -> None:
    trimming = create_app(Settings(home=tmp_path), NOWHERE)
    off = create_app(Settings(home=tmp_path, memory_trim_seconds=0), NOWHERE)
    assert _middleware(trimming).count(CountRequests) == 1 and isinstance(trimming.state.heap_trim, HeapTrim)
    assert CountRequests not in _middleware(off) and not hasattr(off.state, "heap_trim")


def _middleware(app: FastAPI) -> list[object]:
    return [m.cls for m in app.user_middleware]
