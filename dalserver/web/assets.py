"""The portal's built files (``static/``, written by ``web/build.mjs``): only the files its
manifest lists can be served, each with its media type and an ETag from its recorded hash."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

STATIC = Path(__file__).parent / "static"
MANIFEST = STATIC / "build.json"
# Aladin Lite as npm ships it, served at /portal/<this>: the portal's sky view, and the page of
# every HiPS survey (/hips/<survey>/index.html reaches it as ../../portal/<this>).
ALADIN_LITE = "vendor/aladin-lite/aladin.js"

_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
}


@dataclass(frozen=True)
class Asset:
    path: Path
    sha256: str
    media_type: str

    @property
    def etag(self) -> str:
        return f'"{self.sha256[:32]}"'


def media_type(name: str) -> str:
    if name.rsplit("/", 1)[-1] in ("LICENSE", "COPYING", "COPYING.LESSER"):
        return "text/plain; charset=utf-8"
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    return _MEDIA_TYPES.get(suffix.lower(), "application/octet-stream")


@cache
def assets() -> dict[str, Asset]:
    """Every built file by its path under ``static/`` (read once per process)."""
    outputs: dict[str, str] = json.loads(MANIFEST.read_text())["outputs"]
    return {name: Asset(STATIC / name, digest, media_type(name)) for name, digest in outputs.items()}


def asset(name: str) -> Asset | None:
    return assets().get(name)


def version(name: str) -> str:
    """The short hash the index page puts in the asset's URL (``?v=``)."""
    found = asset(name)
    return found.sha256[:16] if found else ""
