"""The archive's VOResource records, built from a hand-made state: valid against the IVOA
schemas, with the identifiers, capabilities, coverage and relationships clients look for."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from dalserver.records.build import build_records, messengers
from dalserver.records.config import RegistryConfig
from dalserver.settings import Settings
from tests.support.registry import sample_settings, sample_state
from tests.support.schemas import schema_errors


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A home of the test's own: the records come from the hand-made state alone, not from the
    surveys of whatever archive the tests are run beside."""
    return sample_settings(tmp_path)


def test_every_record_is_valid_voresource(registry_xsd: etree.XMLSchema, settings: Settings) -> None:
    records = build_records(sample_state(), settings, RegistryConfig())
    assert len(records) == 7
    for record in records:
        assert record.resource is not None
        assert schema_errors(registry_xsd, record.resource) == "", record.ivoid


def test_identifiers_are_under_the_authority(settings: Settings) -> None:
    ivoids = [r.ivoid for r in build_records(sample_state(), settings, RegistryConfig())]
    assert ivoids == [
        "ivo://example.org",
        "ivo://example.org/registry",
        "ivo://example.org/tap",
        "ivo://example.org/sia",
        "ivo://example.org/obscore",
        "ivo://example.org/subaru-suprime-cam",
        "ivo://example.org/sxds/photometry",
    ]


def test_a_dropped_catalogue_is_a_deleted_record(settings: Settings) -> None:
    records = build_records(sample_state(dropped=True), settings, RegistryConfig())
    dropped = [r for r in records if r.ivoid == "ivo://example.org/sxds/photometry"]
    assert len(dropped) == 1 and dropped[0].deleted and dropped[0].resource is None


def test_optical_wavelengths_are_the_optical_messenger() -> None:
    assert messengers(4e-7, 9e-7) == ["Optical"]
    assert messengers(4e-7, 1.05e-6) == ["Optical", "Infrared"]


def test_the_operators_file_fills_publisher_contact_and_subjects(tmp_path: Path, settings: Settings) -> None:
    from dalserver.records.config import load_config

    path = tmp_path / "registry.yaml"
    path.write_text(
        "publisher: Example Observatory\n"
        "contact: {name: Archive desk, email: archive@example.org}\n"
        "subjects: [galaxies]\n"
        "catalogs:\n  sxds.photometry: {title: SXDS photometry, waveband: [Optical]}\n"
    )
    records = build_records(sample_state(), settings, load_config(path))
    tap = next(r for r in records if r.ivoid == "ivo://example.org/tap").resource
    assert tap is not None
    assert tap.findtext("curation/publisher") == "Example Observatory"
    assert tap.findtext("curation/contact/email") == "archive@example.org"
    assert [s.text for s in tap.iterfind("content/subject")] == ["galaxies"]
    catalog = next(r for r in records if r.ivoid == "ivo://example.org/sxds/photometry").resource
    assert catalog is not None and catalog.findtext("title") == "SXDS photometry"


def test_a_wrong_operators_file_is_refused_with_what_is_wrong(tmp_path: Path) -> None:
    import pytest

    from dalserver.records.config import RegistryConfigError, load_config

    path = tmp_path / "registry.yaml"
    path.write_text("publisher: X\ncontcat: {name: typo}\n")
    with pytest.raises(RegistryConfigError, match="unknown key.*contcat"):
        load_config(path)
    path.write_text("contact: {email: nobody@example.org}\n")
    with pytest.raises(RegistryConfigError, match="contact needs at least a name"):
        load_config(path)


def test_records_change_their_updated_date_with_the_state(settings: Settings) -> None:
    record = next(r for r in build_records(sample_state(), settings, RegistryConfig()) if r.ivoid.endswith("/tap"))
    assert record.resource is not None and record.resource.get("updated") == "2025-06-07T08:09:10Z"
    assert record.datestamp.isoformat() == "2025-06-07T08:09:10+00:00"


def test_a_collection_whose_images_were_all_retracted_is_a_deleted_record(settings: Settings) -> None:
    from dataclasses import replace

    from archive_io.registry_state import collection_state_key

    state = sample_state()
    key = collection_state_key("Subaru/Suprime-Cam")
    retracted = replace(
        state, collections={}, resources={**state.resources, key: replace(state.resources[key], deleted=True)}
    )
    records = {r.ivoid: r for r in build_records(retracted, settings, RegistryConfig())}
    gone = records["ivo://example.org/subaru-suprime-cam"]
    assert gone.deleted and gone.resource is None
    assert records["ivo://example.org/obscore"].resource is not None
