"""The polite client against a small real HTTP server on loopback (no database): it says who it
is, honours Retry-After, gives up on a stalled answer after its retries, follows a redirect, and
makes an answer over the size limit an error for its cell, not a failure of the service."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from vo_crawl.config import CrawlConfig
from vo_crawl.polite import Gates, PoliteClient, RequestFailed
from vo_crawl.remote import CellError, Remote

USER_AGENT = "dalserver/9.9 (IVOA-copy https://operator.example/)"


class _Handler(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, float]] = []
    busy_left = 1

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        type(self).seen.append((self.path, self.headers.get("User-Agent", ""), time.monotonic()))
        if self.path.startswith("/busy"):
            if type(self).busy_left:
                type(self).busy_left -= 1
                return self._send(503, b"busy", Retry_After="1", Content_Type="text/plain")
            return self._send(200, b"ok", Content_Type="text/plain")
        if self.path.startswith("/stall"):
            time.sleep(1.0)
            return self._send(200, b"late", Content_Type="text/plain")
        if self.path.startswith("/moved"):
            return self._send(302, b"", Location="/busy")
        if self.path.startswith("/big/sync"):
            return self._send(200, b"<VOTABLE>" + b" " * 300_000 + b"</VOTABLE>", Content_Type="text/xml")
        return self._send(404, b"no", Content_Type="text/plain")


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.seen = []
    _Handler.busy_left = 1
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _client(**settings: Any) -> PoliteClient:
    config = CrawlConfig(USER_AGENT, min_gap_seconds=0.02, retries=1, retry_seconds=0.05, **settings)
    return PoliteClient(config, Gates(config.min_gap_seconds))


def test_retry_after_is_honoured_and_every_request_says_who_asks(server: str) -> None:
    with _client() as client:
        started = time.monotonic()
        reply = client.get(f"{server}/moved")
    assert reply.status == 200 and reply.body == b"ok"
    paths = [(p, ua) for p, ua, _ in _Handler.seen]
    # the retry starts again from the URL asked for, and waits out the Retry-After
    assert paths == [("/moved", USER_AGENT), ("/busy", USER_AGENT), ("/moved", USER_AGENT), ("/busy", USER_AGENT)]
    assert _Handler.seen[2][2] - _Handler.seen[1][2] >= 0.99 and time.monotonic() - started >= 1.0


def test_a_stalled_answer_fails_after_its_retries_and_can_be_tried_again_later(server: str) -> None:
    with _client(read_timeout_seconds=0.3) as client, pytest.raises(RequestFailed) as failed:
        client.get(f"{server}/stall")
    assert failed.value.reason == "timeout" and failed.value.transient
    assert [p for p, _, _ in _Handler.seen] == ["/stall", "/stall"]


def test_an_answer_over_the_size_limit_is_an_error_for_its_cell(server: str) -> None:
    with _client(max_body_bytes=100_000) as client, pytest.raises(CellError) as refused:
        Remote(client, f"{server}/big").tap("SELECT 1", 10, "votable", "fetch")
    assert refused.value.reason == "answer too large" and len(_Handler.seen) == 1, "not retried"
