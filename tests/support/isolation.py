"""Keeping the test session away from real archives: an empty home of the session's own in
DALSERVER_HOME, the developer's DALSERVER_* settings left out, and any read of the checkout's own
archive (``./.dalserver``) failing the test that makes it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from dalserver.home import HOME_DIR_NAME, HOME_VARIABLE, absolute_home, nearest_home

# What the suite still takes from the developer's environment: the PostgreSQL to test against
# (docs/tests.md) and where PostgreSQL's binaries are.
KEPT_VARIABLES = frozenset({"DALSERVER_DATABASE_URL", "DALSERVER_PG_BINDIR"})
# The audit events of reading a file or listing a directory (os.open and io.open raise "open").
_READ_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "glob.glob"})


def real_homes(cwd: Path, environ: MutableMapping[str, str]) -> list[Path]:
    """The archive homes a test could reach by mistake: the working directory's ``.dalserver``,
    the one a command would find above it, and the developer's DALSERVER_HOME."""
    homes = [cwd / HOME_DIR_NAME]
    found = nearest_home(cwd)
    if found is not None:
        homes.append(found)
    if environ.get(HOME_VARIABLE):
        homes.append(absolute_home(environ[HOME_VARIABLE], cwd))
    return list(dict.fromkeys(homes))


def isolate_environment(environ: MutableMapping[str, str], session_home: Path) -> None:
    """DALSERVER_HOME names ``session_home``, and no other DALSERVER_* setting of the developer's
    (a HIPS_DIR, a REGISTRY_FILE...) reaches the tests or the commands they start."""
    for variable in [v for v in environ if v.startswith("DALSERVER_") and v not in KEPT_VARIABLES]:
        del environ[variable]
    environ[HOME_VARIABLE] = str(session_home)


def forbid_reading(homes: Iterable[Path]) -> None:
    """From now on, in this process, opening or listing anything in ``homes`` fails the test."""
    guarded = tuple(str(h) for h in homes)

    def guard(event: str, args: tuple[Any, ...]) -> None:
        if event not in _READ_EVENTS or not args or not isinstance(args[0], str | bytes | os.PathLike):
            return
        name = os.fsdecode(args[0])
        if event == "open" and os.sep not in name:
            return  # a bare name may be relative to a directory descriptor (os.open(dir_fd=), rmtree)
        path = os.path.abspath(name)
        for home in guarded:
            if path == home or path.startswith(home + os.sep):
                pytest.fail(
                    f"a test read {path}, in the archive {home} beside the tests: a test works on a home of "
                    f"its own (tmp_path, or the session's empty {HOME_VARIABLE}), never on a real archive",
                    pytrace=True,
                )

    sys.addaudithook(guard)  # audit hooks cannot be removed: this one lasts as long as the session
