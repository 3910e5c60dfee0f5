"""The registry records as ``dalserver registry refresh`` built them (at every start and after every
ingest, drop, HiPS build and release), kept in the archive's cache directory so that a worker
serves /oai without building them: building reads the HiPS surveys' coverage with mocpy and astropy,
about 35 MB a worker would keep for the rest of its life.

The stored records carry a fingerprint of everything they were built from: the archive's state
(the time it was read aside), the registry file, each HiPS survey's properties and MOC, and the
value of every setting the build read. A worker serves them only when the fingerprint of what it
reads now is the same, so they are never stale; otherwise a child process builds them
(``dalserver.records.build_apart``).
Records whose content depends on when they were built (a resource with no state row yet dates from
"now") are not stored at all."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from lxml import etree

from archive_io.hips_store import published_surveys
from dalserver.records.build import Record, build_records, record_xml
from dalserver.records.config import RegistryConfig
from dalserver.records.state import ArchiveState
from dalserver.settings import Settings

_FORMAT = 1
# A parser for our own records: nothing fetched, entities never resolved.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def stored_path(settings: Settings) -> Path:
    return settings.cache_root / "registry-records.json"


class _ReadSettings:
    """The settings, noting which of them the build reads: the fingerprint holds their values."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self.read: dict[str, str] = {}

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._settings, name)
        self.read[name] = repr(value)
        return value


def _digest(text: str | bytes) -> str:
    return hashlib.sha256(text if isinstance(text, bytes) else text.encode()).hexdigest()


def _state_digest(state: ArchiveState) -> str:
    # read_at only dates resources that have no state row; records that use it are not stored
    return _digest(repr(dataclasses.replace(state, read_at=datetime(1970, 1, 1, tzinfo=UTC))))


def _surveys_digest(hips_root: Path) -> str:
    parts = []
    for survey in published_surveys(hips_root):
        moc = survey.moc
        parts.append(repr((survey.name, str(survey.directory), sorted(survey.properties.items()))))
        parts.append(_digest(moc.read_bytes()) if moc is not None else "-")
    return _digest("\n".join(parts))


def _inputs(
    state: ArchiveState, config: RegistryConfig, settings_read: dict[str, str], hips_root: Path
) -> dict[str, object]:
    return {
        "format": _FORMAT,
        "state": _state_digest(state),
        "config": _digest(repr(config)),
        "settings": settings_read,
        "surveys": _surveys_digest(hips_root),
    }


def serialised(records: list[Record]) -> list[dict[str, Any]]:
    return [
        {
            "key": r.key,
            "ivoid": r.ivoid,
            "datestamp": r.datestamp.isoformat(),
            "deleted": r.deleted,
            "xml": None if r.resource is None else record_xml(r).decode(),
        }
        for r in records
    ]


def build_and_store(state: ArchiveState, settings: Settings, config: RegistryConfig) -> list[Record]:
    """The records of ``state``, built, and stored for the workers when they do not depend on the
    time of the build (built a second time as if a day later: the same records, or none stored)."""
    reading = _ReadSettings(settings)
    records = build_records(state, cast(Settings, reading), config)
    later = dataclasses.replace(state, read_at=state.read_at + timedelta(days=1))
    path = stored_path(settings)
    if serialised(build_records(later, settings, config)) != (written := serialised(records)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # whatever was stored describes an older state
        return records
    document = {"inputs": _inputs(state, config, reading.read, settings.hips_root), "records": written}
    path.parent.mkdir(parents=True, exist_ok=True)
    # written whole and renamed: a worker reads the old records or the new ones, never half
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".registry-records.", delete=False) as out:
        json.dump(document, out)
    os.chmod(out.name, 0o644)  # mkstemp makes it private; the workers may run as another user
    os.replace(out.name, path)
    return records


def load_stored(state: ArchiveState, settings: Settings, config: RegistryConfig) -> list[Record] | None:
    """The stored records when they were built from exactly what ``state``, ``settings``, the
    registry file and the HiPS surveys say now; None otherwise (none stored, or out of date)."""
    try:
        document = json.loads(stored_path(settings).read_bytes())
        inputs = document["inputs"]
        settings_now = {name: repr(getattr(settings, name)) for name in inputs["settings"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if inputs != _inputs(state, config, settings_now, settings.hips_root):
        return None
    return deserialised(document["records"])


def deserialised(records: list[dict[str, Any]]) -> list[Record]:
    """The records ``serialised`` wrote."""
    return [
        Record(
            r["key"],
            r["ivoid"],
            datetime.fromisoformat(r["datestamp"]),
            r["deleted"],
            None if r["xml"] is None else etree.fromstring(r["xml"].encode(), _PARSER),
        )
        for r in records
    ]
