"""An ASGI app served by uvicorn in a thread of the test's own process, on a free local port: for
tests of the HTTP layer itself (a protocol, a middleware, dependency wiring) that need real
sockets but no archive."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tests.support.servers import free_port


@contextmanager
def serving_in_thread(app: Any, **config: Any) -> Iterator[tuple[int, threading.Thread]]:
    """``app`` served for the block, with uvicorn's ``config`` options: the port and the thread
    its event loop runs in."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        yield port, thread
    finally:
        server.should_exit = True
        thread.join(timeout=30)
