"""Where the archive's home is: ``DALSERVER_HOME`` when set, else the nearest ``.dalserver``
directory in the working directory or one of its parents, as git finds ``.git``.

So every command run anywhere inside an archive's directory tree works on that archive, and a
command run elsewhere finds none (and says so) instead of starting a second one where it stands.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

HOME_VARIABLE = "DALSERVER_HOME"
HOME_DIR_NAME = ".dalserver"


class HomeSource(Enum):
    VARIABLE = "variable"  # named by DALSERVER_HOME
    FOUND = "found"  # a .dalserver in the working directory or above it
    NEW = "new"  # none found: where a creating command (demo, serve, db init) puts one


@dataclass(frozen=True)
class HomeLocation:
    path: Path  # absolute
    source: HomeSource
    searched_from: Path  # the working directory the search started in

    @property
    def exists(self) -> bool:
        return self.path.is_dir()

    def how_found(self) -> str:
        """Half a sentence saying where the home comes from, for the archive line and messages."""
        if self.source is HomeSource.VARIABLE:
            return f"from {HOME_VARIABLE}"
        if self.source is HomeSource.FOUND:
            if self.path.parent == self.searched_from:
                return "in the working directory"
            return f"found above the working directory {self.searched_from}"
        return f"new: no {HOME_DIR_NAME} in {self.searched_from} or above it"


def absolute_home(value: str | Path, cwd: Path | None = None) -> Path:
    """A home as written (``~`` expanded, relative to ``cwd``) made absolute, without resolving
    symbolic links: the path the operator wrote is the one reported back."""
    base = Path.cwd() if cwd is None else cwd
    return Path(os.path.normpath(base / Path(value).expanduser()))


def nearest_home(start: Path) -> Path | None:
    """The first ``.dalserver`` directory in ``start`` or its parents."""
    for directory in (start, *start.parents):
        candidate = directory / HOME_DIR_NAME
        if candidate.is_dir():
            return candidate
    return None


def locate_home(cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> HomeLocation:
    """The archive's home for a command started in ``cwd`` with ``environ``."""
    start = absolute_home(".", cwd)
    env = os.environ if environ is None else environ
    named = env.get(HOME_VARIABLE)
    if named:
        return HomeLocation(absolute_home(named, start), HomeSource.VARIABLE, start)
    found = nearest_home(start)
    if found is not None:
        return HomeLocation(found, HomeSource.FOUND, start)
    return HomeLocation(start / HOME_DIR_NAME, HomeSource.NEW, start)
