"""Bytes on their way to a reader slower than the database: kept in memory up to a limit, then in
a temporary file, so the query runs at its own pace and gives its connection back whatever the
reader does. A reader that keeps up never touches the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path

from anyio import to_thread

log = logging.getLogger(__name__)


# How long a full memory waits for the reader before the next chunk goes to the file. A reader
# that keeps up takes a chunk within moments; only one that lags this long costs disk writes.
SPILL_AFTER_SECONDS = 0.5


class Spool:
    """A queue of byte chunks: memory first, a temporary file for what does not fit.

    Memory holds up to ``memory_bytes``, or one chunk of any size when it holds nothing else (the
    chunk is in memory already; a TABLEDATA chunk of a 1 MiB batch is some 5 MB). When memory is
    full, the next chunk waits for the reader up to ``spill_after`` seconds, then goes to the file.
    """

    def __init__(
        self,
        memory_bytes: int,
        max_bytes: int,
        directory: Path | None = None,
        spill_after: float = SPILL_AFTER_SECONDS,
    ):
        self.memory_bytes = memory_bytes
        self.max_bytes = max_bytes
        self.directory = directory
        self.spill_after = spill_after
        self._memory: deque[bytes] = deque()
        self._held = 0  # bytes in memory
        self._fd: int | None = None
        self._file_chunks: deque[tuple[int, int]] = deque()  # (offset, length) in the file, in order
        self._file_end = 0
        self._on_disk = 0  # bytes in the file not yet read
        # One event a direction, each cleared only by the side that waits on it. With one event for
        # both, a reader that took a chunk and came back for the next (sending did not suspend)
        # cleared the writer's wake-up before the writer's wait had begun (``asyncio.wait_for``
        # starts it in a task of its own): the writer slept its full ``spill_after``
        # before it saw the room: 0.5 s lost each time a batch came in two chunks.
        self._readable = asyncio.Event()  # set when a chunk or the end arrives
        self._room = asyncio.Event()  # set when a chunk leaves
        self._ended = False
        self._error: BaseException | None = None

    @property
    def backlog(self) -> int:
        return self._held + self._on_disk

    async def put(self, chunk: bytes) -> None:
        """Add a chunk; waits only when even the disk allowance is used up."""
        while self.backlog + len(chunk) > self.max_bytes and self.backlog > 0:
            self._room.clear()
            await self._room.wait()  # the reader is that far behind: let the query wait
        if await self._room_in_memory(len(chunk)):
            self._memory.append(chunk)
            self._held += len(chunk)
        else:
            await self._to_disk(chunk)
        self._readable.set()

    def _fits_in_memory(self, size: int) -> bool:
        return self._held == 0 or self._held + size <= self.memory_bytes

    async def _room_in_memory(self, size: int) -> bool:
        """Whether the chunk can stay in memory, after waiting a moment for the reader if need be.
        Once anything is in the file, chunks follow it there: the order is the file's first."""
        deadline = asyncio.get_running_loop().time() + self.spill_after
        while not self._file_chunks:
            if self._fits_in_memory(size):
                return True
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return False
            self._room.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._room.wait(), remaining)
        return False

    async def _to_disk(self, chunk: bytes) -> None:
        if self._fd is None:
            self._fd, name = tempfile.mkstemp(prefix="dalserver-spool-", dir=self.directory)
            os.unlink(name)  # the file lives as long as the descriptor
        offset = self._file_end
        self._file_end += len(chunk)
        await to_thread.run_sync(os.pwrite, self._fd, chunk, offset)
        self._file_chunks.append((offset, len(chunk)))
        self._on_disk += len(chunk)

    def end(self, error: BaseException | None = None) -> None:
        self._ended, self._error = True, error
        self._readable.set()

    async def get(self) -> bytes | None:
        """The next chunk, or None at the end."""
        while True:
            if self._memory:
                chunk = self._memory.popleft()
                self._held -= len(chunk)
                self._room.set()
                return chunk
            if self._file_chunks:
                offset, length = self._file_chunks.popleft()
                assert self._fd is not None
                chunk = await to_thread.run_sync(os.pread, self._fd, length, offset)
                self._on_disk -= length
                self._room.set()
                return chunk
            if self._ended:
                if self._error is not None:
                    raise self._error
                return None
            self._readable.clear()
            await self._readable.wait()

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


async def spooled(
    source: AsyncIterator[bytes], memory_bytes: int, max_bytes: int, directory: Path | None = None
) -> AsyncIterator[bytes]:
    """``source``'s chunks, read from it as fast as it gives them, whatever the pace of whoever
    iterates this. Closing this closes ``source`` (a client gone stops the query)."""
    spool = Spool(memory_bytes, max_bytes, directory)

    async def fill() -> None:
        try:
            async for chunk in source:
                await spool.put(chunk)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            spool.end(exc)
            return
        finally:
            closing = getattr(source, "aclose", None)  # an async generator's; a plain iterator has none
            if closing is not None:
                with contextlib.suppress(Exception):
                    await closing()
        spool.end()

    producer = asyncio.ensure_future(fill())
    try:
        while (chunk := await spool.get()) is not None:
            yield chunk
    finally:
        if not producer.done():
            producer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await producer
        spool.close()
