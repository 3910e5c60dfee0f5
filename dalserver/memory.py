"""Keep a server worker's resident memory flat over many large answers.

Every answer passes through Arrow buffers and Python bytes of a few megabytes, allocated in worker
threads. Two allocator habits make the resident size grow far beyond what is in use: glibc gives
each thread its own malloc arena (up to eight per core), and pyarrow's default mimalloc pool keeps
freed pages. Measured on 1-million-row downloads (bench/stream.py): with both, the peak was 60-100 MB
above the idle worker; with two arenas and Arrow on the system allocator, 20-30 MB.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util

import pyarrow as pa

_M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


def use_frugal_allocators() -> None:
    """At most two malloc arenas, and Arrow's buffers from the system allocator."""
    name = ctypes.util.find_library("c")
    if name:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(name).mallopt(_M_ARENA_MAX, 2)  # not glibc: nothing to do
    pa.set_memory_pool(pa.system_memory_pool())
