"""Have the workers read their compiled libraries through page faults, not from the large
page-cache blocks an installer left behind.

A package installer writes a library (pyarrow's libarrow is 37 MB) in large chunks, and the kernel
keeps what it wrote in large page-cache blocks ("folios", up to 2 MB). A process that touches one
page of such a block has all of it mapped (Linux 6.18 maps a whole folio on a fault), so a worker's
resident size counts tens of megabytes of library code it never runs: measured on a fresh install,
an idle worker's libarrow was 28 MB resident, and 12 MB with the same library read back from disk
by page faults (which fill the cache in small blocks). Dropping the libraries' cached pages before
the workers start makes them be read that way; pages some running process has mapped are left
alone by the kernel, so nothing in use is touched. The cost is reading the libraries from disk
once, at the start.
"""

from __future__ import annotations

import os
import site
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path


def _shared_objects(roots: Iterable[Path]) -> Iterator[Path]:
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                if name.endswith(".so") or ".so." in name:
                    yield Path(folder, name)


def library_roots() -> list[Path]:
    """The installed packages' folders (the virtual environment's site-packages)."""
    folders = {Path(p) for p in (*site.getsitepackages(), site.getusersitepackages()) if Path(p).is_dir()}
    return sorted(p for p in folders if Path(sys.prefix) in p.parents)


def drop_cached_libraries(roots: Iterable[Path] | None = None) -> int:
    """Ask the kernel to drop the cached pages of the shared objects under ``roots`` (default: the
    installed packages) that no process has mapped; how many files were asked about."""
    if not hasattr(os, "posix_fadvise"):
        return 0  # not Linux: nothing to do
    count = 0
    for path in _shared_objects(library_roots() if roots is None else roots):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            count += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    return count
