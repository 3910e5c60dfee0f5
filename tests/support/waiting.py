"""Waiting for something that happens in another process, with a limit."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(condition: Callable[[], bool], seconds: float = 10, every: float = 0.1) -> bool:
    """Whether ``condition()`` became true within ``seconds`` (checked every ``every`` seconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False
