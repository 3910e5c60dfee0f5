"""A keep-alive HTTP/1.1 client that costs almost nothing per request, for throughput benchmarks.

httpx spends about a millisecond of CPU per request in the client; when the clients share the
server's two cores that is more than a trivial request costs the server, so a benchmark with
httpx clients measures httpx. This client sends requests encoded once and reads the answer with
h11 (uvicorn's own HTTP parser), checking its status and discarding its body.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode, urlsplit

import h11


def get(base: str, path: str) -> bytes:
    host = urlsplit(base).netloc
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def post_form(base: str, path: str, form: dict[str, str]) -> bytes:
    host = urlsplit(base).netloc
    body = urlencode(form).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Connection:
    """One keep-alive connection; ``send`` returns the status of the answer once it is all read."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.parser = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(cls, base: str) -> Connection:
        parts = urlsplit(base)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> int:
        # The request bytes go out as they are; h11 is told a request of that shape was sent.
        self.parser.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
        self.parser.send(h11.EndOfMessage())
        self.writer.write(request)
        status = 0
        while True:
            event = self.parser.next_event()
            if event is h11.NEED_DATA:
                data = await self.reader.read(1 << 16)
                if not data:
                    raise ConnectionError("the server closed the connection")
                self.parser.receive_data(data)
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.EndOfMessage):
                self.parser.start_next_cycle()
                return status

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()
