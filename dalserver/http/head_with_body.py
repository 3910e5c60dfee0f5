"""A response's head and its first body bytes leave in one write, not two.

uvicorn writes a response's status line and headers to the socket as soon as the application
sends ``http.response.start``, and the body at the next message: two system calls per response,
and two segments the client wakes up for, where a small answer (a cone, a trivial request) fits
in one. Here the head is held back until the next write, which takes it along (``writelines``:
one vectored system call, nothing copied). A head not followed by a write within the same turn
of the event loop (a streamed answer whose first chunk is still being made) goes out by itself
at the end of that turn, so nothing waits for its body; and it goes before the connection is
closed. The bytes sent are the same, in the same order.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

_HEAD_END = b"\r\n\r\n"


class _HeadHoldingTransport:
    """The connection's transport as the HTTP protocol sees it: a write that is a whole response
    head (``HTTP/1.1 ...`` up to its blank line) is held until the next write or the end of the
    event loop's turn; everything else is the transport's own."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        head, self._head = self._head, None
        if head is not None:
            self._transport.writelines((head, data))
        elif data.startswith(b"HTTP/1.1 ") and data.endswith(_HEAD_END) and not self._transport.is_closing():
            self._head = data
            self._loop.call_soon(self._flush)
        else:
            self._transport.write(data)

    def writelines(self, chunks: Any) -> None:
        self._flush()
        self._transport.writelines(chunks)

    def _flush(self) -> None:
        head, self._head = self._head, None
        if head is not None:
            self._transport.write(head)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        held = len(self._head) if self._head is not None else 0
        return held + self._transport.get_write_buffer_size()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HeadWithBodyProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]  # a variable to mypy: uvicorn picks httptools or h11 at import
    """uvicorn's HTTP protocol (httptools', or h11's without it), writing through a
    ``_HeadHoldingTransport``."""

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(_HeadHoldingTransport(transport, asyncio.get_running_loop()))
