"""A response's head leaves with its first body bytes, in one write (dalserver.http.head_with_body):
real uvicorn servers in this process, one with uvicorn's own protocol and one with ours, asked the
same things over real sockets."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from dalserver.http.serving import HTTP_PROTOCOL
from tests.support.asgi import request_body
from tests.support.threaded_server import serving_in_thread

Scope = dict[str, Any]
SMALL = b"<small answer/>" * 20
CHUNKS = [b"first chunk\n", b"second chunk\n" * 50, b"last\n"]
# Set by the client once it has read a streamed answer's head: the first chunk is made only then.
_head_seen = threading.Event()


async def app(scope: Scope, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    """Answers of every shape uvicorn writes: whole, streamed (chunked), empty, closing, HEAD."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if scope["method"] == "POST":
        await _whole(send, 200, (await request_body(receive))[::-1])
    elif path == "/small":
        await _whole(send, 200, SMALL)
    elif path == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/closing":
        await _whole(send, 200, SMALL, [(b"connection", b"close")])
    elif path == "/streamed":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        while not _head_seen.is_set():  # the head must reach the client before any chunk exists
            await asyncio.sleep(0.005)
        for chunk in CHUNKS:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    else:
        await _whole(send, 404, b"no such thing")


async def _whole(send: Callable[..., Any], status: int, body: bytes, headers: list[Any] | None = None) -> None:
    length = [(b"content-length", str(len(body)).encode()), (b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": status, "headers": length + (headers or [])})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def serving(http: str) -> Iterator[tuple[int, threading.Thread]]:
    """A uvicorn server of ``app`` with the ``http`` protocol, on a free port: the port and the
    thread its event loop runs in."""
    with serving_in_thread(app, lifespan="off", http=http) as served:
        yield served


def _exchange(port: int, requests: list[bytes], until_closed: bool = False) -> bytes:
    """Everything answered to ``requests`` sent one after the other on one connection (each
    answer read to its end: by its length, the chunked encoding's last chunk, or the close)."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for request in requests:
            sock.sendall(request)
            answer = b""
            while not _complete(answer, request, until_closed):
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
                if b"\r\n\r\n" in answer:
                    _head_seen.set()
            received += answer
    return received


def _complete(answer: bytes, request: bytes, until_closed: bool) -> bool:
    while re.match(rb"HTTP/1\.1 1\d\d ", answer) and b"\r\n\r\n" in answer:
        answer = answer.partition(b"\r\n\r\n")[2]  # an interim answer (100 Continue) goes first
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found or until_closed:
        return False
    length = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
    if request.startswith(b"HEAD") or head.startswith(b"HTTP/1.1 204"):
        return True
    if length is not None:
        return len(body) >= int(length[1])
    return body.endswith(b"0\r\n\r\n")


def _without_dates(answer: bytes) -> bytes:
    return re.sub(rb"date: [^\r]*\r\n", b"", answer)


def _get(path: str, method: str = "GET") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode()


CONVERSATIONS = {
    "whole answers, one after the other": [_get("/small"), _get("/nothing"), _get("/small")],
    "an empty answer": [_get("/empty"), _get("/small")],
    "HEAD": [_get("/small", "HEAD"), _get("/small")],
    "a POST waiting for 100-continue": [
        b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello"
    ],
}


@pytest.mark.parametrize("name", list(CONVERSATIONS))
def test_answers_are_the_bytes_uvicorns_own_protocol_sends(name: str) -> None:
    requests = CONVERSATIONS[name]
    with serving("auto") as (port, _):
        theirs = _exchange(port, requests)
    with serving(HTTP_PROTOCOL) as (port, _):
        ours = _exchange(port, requests)
    assert _without_dates(ours) == _without_dates(theirs)
    assert ours.count(b"HTTP/1.1 ") >= len(requests)


def test_an_answer_that_closes_the_connection_arrives_whole_before_the_close() -> None:
    with serving("auto") as (port, _):
        theirs = _exchange(port, [_get("/closing")], until_closed=True)
    with serving(HTTP_PROTOCOL) as (port, _):
        ours = _exchange(port, [_get("/closing")], until_closed=True)
    assert _without_dates(ours) == _without_dates(theirs)
    assert ours.endswith(SMALL)


def test_a_streamed_answers_head_goes_out_before_its_first_chunk_is_made() -> None:
    """The app makes no chunk until the client has the head: a head held for its body would
    never arrive (the read times out)."""
    _head_seen.clear()
    with serving("auto") as (port, _):
        theirs = _exchange(port, [_get("/streamed")])
    _head_seen.clear()
    with serving(HTTP_PROTOCOL) as (port, _):
        ours = _exchange(port, [_get("/streamed")])
    assert _without_dates(ours) == _without_dates(theirs)
    assert ours.endswith(b"0\r\n\r\n") and b"last\n" in ours


def _writes(thread: threading.Thread) -> int:
    """How many write system calls (write, writev, send...) ``thread`` has made."""
    io = Path(f"/proc/self/task/{thread.native_id}/io").read_text()
    found = re.search(r"syscw: (\d+)", io)
    assert found is not None
    return int(found[1])


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="per-thread system call counts are Linux's")
@pytest.mark.parametrize(("http", "writes"), [("auto", 2), (HTTP_PROTOCOL, 1)])
def test_a_small_answer_leaves_in_one_write_where_uvicorn_makes_two(http: str, writes: int) -> None:
    with serving(http) as (port, server_thread), socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        made = []
        for _ in range(20):
            before = _writes(server_thread)
            sock.sendall(_get("/small"))
            answer = b""
            while not _complete(answer, _get("/small"), False):
                answer += sock.recv(65536)
            time.sleep(0.01)  # the call scheduled at the end of the loop's turn has run
            made.append(_writes(server_thread) - before)
    assert min(made) == writes
