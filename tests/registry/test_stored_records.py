"""The registry records ``dalserver registry refresh`` stores for the workers: the same bytes as
records built in the worker, read without mocpy or astropy, and never served once anything they
were built from has changed."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive_io import registry_state as keys
from dalserver.records.build import Record, build_records, record_xml
from dalserver.records.build_apart import build_in_child
from dalserver.records.config import RegistryConfig, load_config
from dalserver.records.stored import build_and_store, load_stored, stored_path
from dalserver.registry.oai import Repository, Responder
from dalserver.settings import Settings
from tests.support.registry import sample_settings, sample_state

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return sample_settings(tmp_path)


def _oai(records: list[Record], verb: str) -> bytes:
    registry = next(r for r in records if r.key == keys.REGISTRY)
    repository = Repository("Example: publishing registry", "http://archive.example.org/oai", "a@example.org", registry)
    return Responder(repository, records, 100, now=NOW).respond({"verb": [verb], "metadataPrefix": ["ivo_vor"]})


def test_the_stored_records_answer_oai_byte_for_byte_as_the_records_built_in_the_worker(settings: Settings) -> None:
    built = build_and_store(sample_state(), settings, RegistryConfig())
    stored = load_stored(sample_state(), settings, RegistryConfig())
    assert stored is not None
    assert [(r.key, r.ivoid, r.datestamp, r.deleted) for r in stored] == [
        (r.key, r.ivoid, r.datestamp, r.deleted) for r in built
    ]
    assert [record_xml(r) for r in stored] == [record_xml(r) for r in built]
    for verb in ("ListRecords", "ListIdentifiers"):
        assert _oai(stored, verb) == _oai(build_records(sample_state(), settings, RegistryConfig()), verb)


def test_a_deleted_record_is_stored_deleted(settings: Settings) -> None:
    build_and_store(sample_state(dropped=True), settings, RegistryConfig())
    stored = load_stored(sample_state(dropped=True), settings, RegistryConfig())
    assert stored is not None
    dropped = [r for r in stored if r.ivoid == "ivo://example.org/sxds/photometry"]
    assert len(dropped) == 1 and dropped[0].deleted and dropped[0].resource is None


def test_reading_the_stored_records_loads_neither_mocpy_nor_astropy(settings: Settings) -> None:
    build_and_store(sample_state(), settings, RegistryConfig())
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from dalserver.records.config import RegistryConfig\n"
        "from dalserver.records.stored import load_stored\n"
        "from tests.support.registry import sample_settings, sample_state\n"
        "state = sample_state()\n"  # the hand-made state uses mocpy and astropy to make its MOC
        "for name in [m for m in sys.modules if m.split('.')[0] in ('mocpy', 'astropy', 'cdshealpix')]:\n"
        "    del sys.modules[name]\n"
        f"records = load_stored(state, sample_settings(Path({str(settings.home)!r})), RegistryConfig())\n"
        "assert records is not None and any(r.resource is not None for r in records)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'mocpy', 'astropy', 'cdshealpix'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_stored_records_are_not_served_once_the_archive_changed(settings: Settings) -> None:
    build_and_store(sample_state(), settings, RegistryConfig())
    assert load_stored(sample_state(dropped=True), settings, RegistryConfig()) is None
    later = dataclasses.replace(sample_state(), read_at=NOW)  # the same archive, read again: still good
    assert load_stored(later, settings, RegistryConfig()) is not None


def test_stored_records_are_not_served_once_a_setting_they_show_changed(tmp_path: Path, settings: Settings) -> None:
    build_and_store(sample_state(), settings, RegistryConfig())
    moved = Settings(home=tmp_path, base_url="http://elsewhere.example.org", ivoid_authority="example.org")
    assert load_stored(sample_state(), moved, RegistryConfig()) is None
    pool = settings.model_copy(update={"pool_max_size": settings.pool_max_size + 3})  # not in any record
    assert load_stored(sample_state(), pool, RegistryConfig()) is not None


def test_stored_records_are_not_served_once_the_registry_file_changed(tmp_path: Path, settings: Settings) -> None:
    build_and_store(sample_state(), settings, RegistryConfig())
    path = tmp_path / "registry.yaml"
    path.write_text("publisher: Example Observatory\n")
    assert load_stored(sample_state(), settings, load_config(path)) is None


def test_records_dated_by_the_time_of_their_build_are_not_stored(settings: Settings) -> None:
    build_and_store(sample_state(), settings, RegistryConfig())
    state = sample_state()
    unwritten = {k: v for k, v in state.resources.items() if k != keys.TAP}  # its date would be "now"
    state = dataclasses.replace(state, resources=unwritten)
    build_and_store(state, settings, RegistryConfig())
    assert not stored_path(settings).exists()  # and the older records are gone with it
    assert load_stored(state, settings, RegistryConfig()) is None


def test_records_built_in_a_child_process_are_the_records_built_in_the_worker(settings: Settings) -> None:
    state = sample_state(dropped=True)  # a deleted record too
    apart = build_in_child(state, settings, RegistryConfig())
    here = build_records(state, settings, RegistryConfig())
    assert [(r.key, r.ivoid, r.datestamp, r.deleted) for r in apart] == [
        (r.key, r.ivoid, r.datestamp, r.deleted) for r in here
    ]
    assert [record_xml(r) for r in apart if not r.deleted] == [record_xml(r) for r in here if not r.deleted]
    assert all(r.resource is None for r in apart if r.deleted)
    assert not stored_path(settings).exists()  # the child builds; storing is `dalserver registry refresh`'s
