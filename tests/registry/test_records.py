"""The archive's VOResource records, built from a hand-made state: valid against the IVOA
schemas, with the identifiers, capabilities, coverage and relationships clients look for."""

from __future__ import annotations

from lxml import etree

from dalserver.records.build import build_records, messengers
from dalserver.records.config import RegistryConfig
from dalserver.settings import Settings
from tests.support.registry import sample_state
from tests.support.schemas import schema_errors

SETTINGS = Settings(base_url="http://archive.example.org", ivoid_authority="example.org")


def test_every_record_is_valid_voresource(registry_xsd: etree.XMLSchema) -> None:
    records = build_records(sample_state(), SETTINGS, RegistryConfig())
    assert len(records) == 7
    for record in records:
        assert record.resource is not None
        assert schema_errors(registry_xsd, record.resource) == "", record.ivoid


def test_identifiers_are_under_the_authority() -> None:
    ivoids = [r.ivoid for r in build_records(sample_state(), SETTINGS, RegistryConfig())]
    assert ivoids == [
        "ivo://example.org",
        "ivo://example.org/registry",
        "ivo://example.org/tap",
        "ivo://example.org/sia",
        "ivo://example.org/obscore",
        "ivo://example.org/subaru-suprime-cam",
        "ivo://example.org/sxds/photometry",
    ]


def test_a_dropped_catalogue_is_a_deleted_record() -> None:
    records = build_records(sample_state(dropped=True), SETTINGS, RegistryConfig())
    dropped = [r for r in records if r.ivoid == "ivo://example.org/sxds/photometry"]
    assert len(dropped) == 1 and dropped[0].deleted and dropped[0].resource is None


def test_optical_wavelengths_are_the_optical_messenger() -> None:
    assert messengers(4e-7, 9e-7) == ["Optical"]
    assert messengers(4e-7, 1.05e-6) == ["Optical", "Infrared"]
