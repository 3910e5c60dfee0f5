"""The ``properties`` file (HiPS 1.0 sec. 4.4.1) and the HiPS list (sec. 5.2): UTF-8 lines
``keyword = value``, ``#`` comments and blank lines ignored; a HiPS list is one properties block
per survey, separated by blank lines, each with ``hips_service_url``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

HIPS_VERSION = "1.4"  # the value HiPS 1.0 (REC 2017-05-19) gives for surveys made to it
REQUIRED = (
    "creator_did",
    "obs_title",
    "dataproduct_type",
    "hips_version",
    "hips_release_date",
    "hips_status",
    "hips_tile_format",
    "hips_order",
    "hips_frame",
)
HIPSLIST_REQUIRED = ("creator_did", "hips_release_date", "hips_service_url", "hips_status")


def hips_date(moment: datetime | None = None) -> str:
    """ISO 8601 as HiPS writes it: ``YYYY-mm-ddTHH:MMZ``."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def format_value(value: object) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a HiPS property cannot be {value}")
        return f"{value:.10g}"
    if isinstance(value, list | tuple):
        return " ".join(format_value(v) for v in value)
    text = str(value)
    if "\n" in text or "\r" in text:
        raise ValueError(f"a HiPS property value is one line: {text!r}")
    return text


def render(properties: Mapping[str, object]) -> str:
    """A properties block; keys in the order given, values on one line, ``None`` left out."""
    lines = []
    for key, value in properties.items():
        if value is None:
            continue
        if not key or "=" in key or any(c.isspace() for c in key):
            raise ValueError(f"not a HiPS property keyword: {key!r}")
        lines.append(f"{key:<20} = {format_value(value)}")
    return "\n".join(lines) + "\n"


def parse(text: str) -> dict[str, str]:
    """A properties file as a dict (a repeated keyword keeps its values space-separated)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        key, value = stripped.split("=", 1)
        key, value = key.strip(), value.strip()
        found[key] = f"{found[key]} {value}" if key in found else value
    return found


def hipslist(blocks: Iterable[Mapping[str, object]], node: str) -> str:
    """A HiPS list of ``blocks`` (each with ``hips_service_url``), headed by a comment naming the node."""
    parts = [f"# HiPS list of {node}\n"]
    for block in blocks:
        missing = [k for k in HIPSLIST_REQUIRED if not block.get(k)]
        if missing:
            raise ValueError(f"a HiPS list record needs {', '.join(missing)}")
        parts.append(render(block))
    return "\n".join(parts)
