"""The builder's name for ``hips_builder``: the installed dalserver and its version."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version


@cache
def builder_name() -> str:
    try:
        return f"dalserver {version('dalserver')}"
    except PackageNotFoundError:  # a source tree that was never installed
        return "dalserver (source tree)"
