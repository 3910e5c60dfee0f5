"""A value read from the database and reused for a while: the published catalogue, the values SIA
lists in its self-description. Requests arriving while it is being (re)read wait for that one read
instead of each starting their own."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TimedValue(Generic[T]):
    """The result of ``load``, reused for ``ttl`` seconds (0: read on every call).

    With ``keep_equal``, a read that finds the value unchanged (equal) keeps the object read
    before: what is remembered for that object (translations made with a catalogue) stays
    good, and is left behind the moment the value changes."""

    def __init__(self, load: Callable[[], Awaitable[T]], ttl: float, keep_equal: bool = False):
        self._load = load
        self.ttl = ttl
        self.keep_equal = keep_equal
        self._value: T | None = None
        self._loaded = -math.inf
        self._lock = asyncio.Lock()

    def _stale(self) -> bool:
        return time.monotonic() - self._loaded >= self.ttl

    async def get(self) -> T:
        if self._stale():
            async with self._lock:
                if self._stale():
                    value = await self._load()
                    if not (self.keep_equal and self._value is not None and value == self._value):
                        self._value = value
                    self._loaded = time.monotonic()
        return self._value  # type: ignore[return-value]  # set by the first load
