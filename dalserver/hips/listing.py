"""The HiPS list (/hips/hipslist) made once per state of the HiPS directory, not per request.

A build publishes a survey by replacing its link in the HiPS directory (archive_io.hips_store),
so the list can only change when a link, its target or a properties file changes. What the
directory holds now is read with one ``scandir``, a ``readlink`` per survey and a ``stat`` of each
properties file; the list is made again when any of it differs. Every worker (and every server
reading the same directory) sees a rebuild at its next request: no message to miss.
"""

from __future__ import annotations

import os
from pathlib import Path

from archive_io import hips_properties as props
from archive_io.hips_store import HipsStore

# (name, link target, properties' inode, size and modification time) per survey, sorted.
DirectoryState = tuple[tuple[str, str, int, int, int], ...]


def directory_state(root: Path) -> DirectoryState:
    """What the HiPS list of ``root`` depends on, as cheaply as the file system tells it."""
    found = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return ()
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_symlink():
            continue
        try:
            target = os.readlink(entry.path)
            stat = os.stat(os.path.join(entry.path, "properties"))
        except OSError:
            continue  # a link without a complete survey behind it: not listed
        found.append((entry.name, target, stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))


class HipsListCache:
    """The text of the HiPS list of a directory, as of its state at the last request."""

    def __init__(self) -> None:
        self._made: tuple[tuple[Path, DirectoryState, str, str], str] | None = None

    def text(self, root: Path, public_url: str, title: str) -> str:
        key = (root, directory_state(root), public_url, title)
        if self._made is not None and self._made[0] == key:
            return self._made[1]
        records = [s.hipslist_record(public_url) for s in HipsStore(root).published()]
        text = props.hipslist(records, f"{public_url}/hips ({title})")
        self._made = (key, text)
        return text
