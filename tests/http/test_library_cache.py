"""Before the workers start, the installed libraries' cached pages that no process maps are dropped
(so the workers read them through page faults, in small page-cache blocks): read from the kernel's
own account of which pages of a file are in memory (mincore)."""

from __future__ import annotations

import ctypes
import mmap
import os
from pathlib import Path

from dalserver.http.library_cache import drop_cached_libraries, library_roots

_libc = ctypes.CDLL(None, use_errno=True)


def _cached_pages(path: Path) -> int:
    """How many of ``path``'s pages are in the page cache (mincore on a mapping that touches none)."""
    size = path.stat().st_size
    pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    vector = (ctypes.c_ubyte * pages)()
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), size, access=mmap.ACCESS_COPY) as mapped:
        first = ctypes.c_char.from_buffer(mapped)  # the mapping's address; no page is touched
        try:
            done = _libc.mincore(ctypes.c_void_p(ctypes.addressof(first)), ctypes.c_size_t(size), vector)
        finally:
            del first  # the buffer must be released before the mapping closes
    assert done == 0, os.strerror(ctypes.get_errno())
    return sum(v & 1 for v in vector)


def _written(path: Path, size: int = 4 << 20) -> Path:
    with path.open("wb") as out:
        out.write(os.urandom(size))
        out.flush()
        os.fsync(out.fileno())  # written back: clean pages, which the kernel may drop
    return path


def test_shared_objects_leave_the_page_cache_and_other_files_stay(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    library = _written(tmp_path / "libexample.so.12")
    module = _written(tmp_path / "pkg" / "ext.cpython-311-x86_64-linux-gnu.so")
    data = _written(tmp_path / "table.parquet")
    assert _cached_pages(library) > 0 and _cached_pages(data) > 0
    assert drop_cached_libraries([tmp_path]) == 2
    assert _cached_pages(library) == 0 and _cached_pages(module) == 0
    assert _cached_pages(data) > 0


def test_the_libraries_are_the_installed_packages_of_this_environment() -> None:
    roots = library_roots()
    assert roots and all(root.name == "site-packages" for root in roots)
    assert any((root / "pyarrow").is_dir() for root in roots)
