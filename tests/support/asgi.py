"""Pieces of ASGI for the tests' own apps (the crawler's stub services, the HTTP layer's test apps)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any


async def request_body(receive: Callable[[], Awaitable[dict[str, Any]]]) -> bytes:
    """A request's whole body, however many ``http.request`` messages it came in."""
    pieces: list[bytes] = []
    while True:
        message = await receive()
        pieces.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(pieces)
