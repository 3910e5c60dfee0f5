"""Repeated failed logins are slowed down: after a few failures for one account (or from one
client address) within a quarter of an hour, each further attempt waits before it is answered,
twice as long each time up to a limit. Per server process; the wait holds no worker thread."""

from __future__ import annotations

import asyncio
import time
from collections import deque

WINDOW_SECONDS = 900.0
FREE_FAILURES = 5
MAX_DELAY_SECONDS = 16.0


class FailedLogins:
    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > WINDOW_SECONDS:
            times.popleft()
        return times

    def delay(self, *keys: str) -> float:
        """Seconds an attempt for these keys (account, client address) waits now."""
        now = time.monotonic()
        count = max((len(self._recent(k, now)) for k in keys), default=0)
        if count < FREE_FAILURES:
            return 0.0
        return min(MAX_DELAY_SECONDS, 2.0 ** (count - FREE_FAILURES))

    async def wait(self, *keys: str) -> None:
        seconds = self.delay(*keys)
        if seconds:
            await asyncio.sleep(seconds)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        if len(self._failures) > 100_000:  # a flood of names: forget, rather than grow without end
            self._failures.clear()
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
