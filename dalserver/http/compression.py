"""gzip for clients that ask for it (``Accept-Encoding``): STILTS, browsers and pyvo (through
requests) do; a VOTable TABLEDATA result shrinks several times, which is what a WAN user waits
for. Only text-like answers are compressed (VOTable, CSV, TSV, JSON, XML, HTML, JavaScript):
FITS, Parquet and PNG are binary and gain little for the CPU.

Each chunk is compressed as it passes and flushed (``Z_SYNC_FLUSH``), so an answer streams as
before, with memory bounded by one chunk; nothing is buffered to the end. Large chunks are
compressed in a worker thread (zlib releases the GIL), so other requests are not held up. A
client that does not ask gets the bytes as they are, at no cost. The level is
``DALSERVER_GZIP_LEVEL``, chosen by ``bench/compression.py``.
"""

from __future__ import annotations

import asyncio
import os
import struct
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from anyio import to_thread
from starlette.datastructures import Headers, MutableHeaders

# Bases of media types worth compressing, besides text/* and any +xml or +json type.
_COMPRESSIBLE = frozenset({"application/json", "application/xml", "application/javascript"})
MIN_BYTES = 500  # a whole answer smaller than this goes as it is
_THREAD_BYTES = 128 << 10  # chunks at least this large are compressed off the event loop
_WINDOW = 1 << 15  # deflate's window: how far back a stream may refer
_LOOKAHEAD = 262  # zlib's MIN_LOOKAHEAD: a stream refers back at most its window less this
_PART_BYTES = 512 << 10  # a chunk is compressed in parts of at least this size, on every core
_PARTS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def compressible(content_type: str | None) -> bool:
    if not content_type:
        return False
    base = content_type.split(";", 1)[0].strip().lower()
    return base.startswith("text/") or base in _COMPRESSIBLE or base.endswith(("+xml", "+json"))


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding value allows gzip (explicitly, as x-gzip, or by ``*``), q > 0."""
    if not accept_encoding:
        return False
    allowed: dict[str, bool] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        allowed[coding.strip().lower()] = quality > 0
    for name in ("gzip", "x-gzip"):
        if name in allowed:
            return allowed[name]
    return allowed.get("*", False)


class _Gzip:
    """One gzip member made chunk by chunk, each chunk ending on a sync flush (so it can be sent
    as it is). A large chunk is cut into parts compressed at once in worker threads, as pigz does:
    each part by its own raw deflate stream primed with the 32 KiB of text before it (so it loses
    nothing of the level's ratio), the streams ending on a byte boundary one after the other; the
    header and the CRC-32/size trailer are written here. zlib at level 1 compresses some 100 MB/s
    on one core, slower than a result is written: on two cores a large answer is compressed in
    half the time."""

    def __init__(self, level: int):
        self.level = level
        self._z: Any = None  # the raw deflate stream of the chunks compressed in one piece
        self._window = b""  # the last 32 KiB of text: what the next stream may refer back to
        self._crc = 0
        self._size = 0
        self._started = False

    def _header(self) -> bytes:
        # As zlib writes it: no name or time; extra flags 2 (level 9) or 4 (level 1); OS Unix.
        flags = 2 if self.level == 9 else 4 if self.level == 1 else 0
        return b"\x1f\x8b\x08\x00\x00\x00\x00\x00" + bytes([flags, 3])

    def _deflater(self, window: bytes, wbits: int = zlib.MAX_WBITS) -> Any:
        if window:
            return zlib.compressobj(self.level, zlib.DEFLATED, -wbits, zdict=window)
        return zlib.compressobj(self.level, zlib.DEFLATED, -wbits)

    def _part(self, data: memoryview, window: bytes, last: bool, z: Any = None) -> bytes:
        z = z or self._deflater(window)
        part: bytes = z.compress(data) + z.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
        return part

    def _framed(self, data: bytes, deflated: list[bytes], last: bool) -> bytes:
        head = b"" if self._started else self._header()
        self._started = True
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self._window = (self._window + data[-_WINDOW:])[-_WINDOW:]
        tail = struct.pack("<II", self._crc, self._size & 0xFFFFFFFF) if last else b""
        return b"".join([head, *deflated, tail])

    def chunk(self, data: bytes, last: bool) -> bytes:
        """``data`` compressed in one piece, by the stream that compressed the chunks before."""
        if self._z is None:
            whole = last and not self._started
            self._z = self._deflater(self._window, _fitted_wbits(len(data)) if whole else zlib.MAX_WBITS)
        return self._framed(data, [self._part(memoryview(data), b"", last, self._z)], last)

    async def compress(self, data: bytes, last: bool) -> bytes:
        parts = min(_PARTS, len(data) // _PART_BYTES)
        if parts >= 2:
            return await self._in_parts(data, last, parts)
        if len(data) >= _THREAD_BYTES:
            return await to_thread.run_sync(self.chunk, data, last)
        return self.chunk(data, last)

    async def _in_parts(self, data: bytes, last: bool, parts: int) -> bytes:
        view = memoryview(data)
        edges = [len(data) * k // parts for k in range(parts + 1)]
        windows = [self._window] + [bytes(view[max(0, e - _WINDOW) : e]) for e in edges[1:-1]]
        deflated = await asyncio.gather(
            *(
                to_thread.run_sync(self._part, view[start:stop], window, last and stop == len(data))
                for start, stop, window in zip(edges, edges[1:], windows, strict=False)
            )
        )
        self._z = None  # the next chunk starts a stream of its own, primed with the window
        return await to_thread.run_sync(self._framed, data, deflated, last)


def _fitted_wbits(size: int) -> int:
    """The smallest deflate window within which zlib may refer back across a whole answer of
    ``size`` bytes (zlib reaches at most the window less 262 bytes back), so that the answer
    compresses to the same bytes as with the full 32 KiB; zlib sets up (allocates and clears) its
    window by its size, some 40 us of a small answer's 20-100 with the full one. Any inflater
    reads the stream (it needs at most the window it is read with)."""
    return max(9, min(zlib.MAX_WBITS, (size + _LOOKAHEAD - 1).bit_length()))


class Compress:
    """ASGI middleware: gzip compressible answers for requests that accept it."""

    def __init__(self, app: Callable[..., Awaitable[None]], level: int = 1):
        self.app = app
        self.level = level

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if (
            scope["type"] != "http"
            or self.level <= 0
            or scope.get("method") == "HEAD"
            or not accepts_gzip(Headers(scope=scope).get("accept-encoding"))
        ):
            await self.app(scope, receive, send)
            return
        extensions = scope.get("extensions") or {}
        if "http.response.pathsend" in extensions:  # a file sent by path would bypass the compressor
            scope = dict(scope, extensions={k: v for k, v in extensions.items() if k != "http.response.pathsend"})
        start: dict[str, Any] | None = None
        gzip: _Gzip | None = None
        passing = False  # the answer goes as it is

        async def compressing_send(message: dict[str, Any]) -> None:
            nonlocal start, gzip, passing
            kind = message["type"]
            if kind == "http.response.start":
                headers = Headers(raw=message["headers"])
                length = headers.get("content-length")
                passing = (
                    message["status"] in (204, 206, 304)
                    or message["status"] < 200
                    or "content-encoding" in headers
                    or not compressible(headers.get("content-type"))
                    or (length is not None and length.isdigit() and int(length) < MIN_BYTES)
                )
                if passing:
                    await send(message)
                else:
                    start = message  # held until the first body shows whether it is worth it
                return
            if kind != "http.response.body" or passing:
                await send(message)
                return
            body: bytes = message.get("body", b"")
            more = bool(message.get("more_body", False))
            if start is not None:
                held, start = start, None
                if not more and len(body) < MIN_BYTES:
                    passing = True
                    await send(held)
                    await send(message)
                    return
                headers = MutableHeaders(raw=list(held["headers"]))
                del headers["content-length"]
                headers["content-encoding"] = "gzip"
                headers.add_vary_header("Accept-Encoding")
                gzip = _Gzip(self.level)
                if not more:
                    # The whole answer in one message (a small query's): its compressed length is
                    # known, so it goes with a Content-Length, not chunked (one write fewer).
                    data = await gzip.compress(body, last=True)
                    headers["content-length"] = str(len(data))
                    await send({**held, "headers": headers.raw})
                    await send({"type": "http.response.body", "body": data, "more_body": False})
                    return
                await send({**held, "headers": headers.raw})
            assert gzip is not None
            data = await gzip.compress(body, last=not more)
            if data or not more:
                await send({"type": "http.response.body", "body": data, "more_body": more})

        await self.app(scope, receive, compressing_send)
