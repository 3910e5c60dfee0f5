"""OAI-PMH answers over hand-made records (no database): every verb and error valid against the
OAI-PMH, VOResource and Dublin Core schemas, paging by resumption tokens, from/until."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from dalserver.records.build import build_records
from dalserver.records.config import RegistryConfig
from dalserver.registry.oai import Repository, Responder
from data_ingest.registry_state import REGISTRY
from tests.support.registry import sample_settings, sample_state
from tests.support.schemas import schema_errors

NS = {"o": "http://www.openarchives.org/OAI/2.0/", "ri": "http://www.ivoa.net/xml/RegistryInterface/v1.0"}
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _home_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The records come from the hand-made state alone, not from the surveys of whatever archive
    the tests run beside: each test has an empty home of its own."""
    monkeypatch.setenv("DALSERVER_HOME", str(tmp_path))


def _responder(page_size: int = 100, dropped: bool = True) -> Responder:
    records = build_records(sample_state(dropped=dropped), sample_settings(), RegistryConfig())
    registry = next(r for r in records if r.key == REGISTRY)
    repo = Repository("test registry", "http://archive.example.org/oai", "vo-support@example.org", registry)
    return Responder(repo, records, page_size, NOW)


def _ask(responder: Responder, **args: str) -> etree._Element:
    return etree.fromstring(responder.respond({k.rstrip("_"): [v] for k, v in args.items()}))


def _error(document: etree._Element) -> str | None:
    error = document.find("o:error", NS)
    return None if error is None else error.get("code")


@pytest.mark.parametrize(
    "args",
    [
        {"verb": "Identify"},
        {"verb": "ListMetadataFormats"},
        {"verb": "ListMetadataFormats", "identifier": "ivo://example.org/tap"},
        {"verb": "ListSets"},
        {"verb": "ListIdentifiers", "metadataPrefix": "ivo_vor"},
        {"verb": "ListRecords", "metadataPrefix": "ivo_vor"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
        {"verb": "ListRecords", "metadataPrefix": "ivo_vor", "set": "ivo_managed", "from_": "2025-01-01"},
        {"verb": "GetRecord", "metadataPrefix": "ivo_vor", "identifier": "ivo://example.org/sia"},
        {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "ivo://example.org/tap"},
        {"verb": "Frobnicate"},
        {"verb": "ListRecords"},
        {"verb": "ListRecords", "metadataPrefix": "marc"},
        {"verb": "GetRecord", "metadataPrefix": "ivo_vor", "identifier": "ivo://nowhere/x"},
    ],
)
def test_every_answer_is_valid_oai_pmh(registry_xsd: etree.XMLSchema, args: dict[str, str]) -> None:
    assert schema_errors(registry_xsd, _ask(_responder(), **args)) == ""


def test_identify_carries_the_registry_record_and_second_granularity() -> None:
    doc = _ask(_responder(), verb="Identify")
    assert doc.findtext("o:Identify/o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert doc.findtext("o:Identify/o:deletedRecord", namespaces=NS) == "persistent"
    resource = doc.find("o:Identify/o:description/ri:Resource", NS)
    assert resource is not None and resource.findtext("identifier") == "ivo://example.org/registry"
    assert resource.findtext("managedAuthority") == "example.org"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({}, "badVerb"),
        ({"verb": "Frobnicate"}, "badVerb"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "Identify", "metadataPrefix": "ivo_vor"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "ivo_vor", "from_": "yesterday"}, "badArgument"),
        (
            {
                "verb": "ListRecords",
                "metadataPrefix": "ivo_vor",
                "from_": "2025-01-01",
                "until": "2025-01-01T00:00:00Z",
            },
            "badArgument",
        ),
        (
            {"verb": "ListRecords", "metadataPrefix": "ivo_vor", "from_": "2025-02-01", "until": "2025-01-01"},
            "badArgument",
        ),
        ({"verb": "ListRecords", "metadataPrefix": "marc"}, "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "metadataPrefix": "ivo_vor", "identifier": "ivo://nowhere/x"}, "idDoesNotExist"),
        ({"verb": "ListRecords", "metadataPrefix": "ivo_vor", "until": "2024-01-01"}, "noRecordsMatch"),
        ({"verb": "ListRecords", "metadataPrefix": "ivo_vor", "set": "other"}, "noRecordsMatch"),
        ({"verb": "ListRecords", "resumptionToken": "garbage!"}, "badResumptionToken"),
        ({"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "ivo_vor"}, "badArgument"),
    ],
)
def test_bad_requests_get_the_protocols_error_codes(args: dict[str, str], code: str) -> None:
    assert _error(_ask(_responder(), **args)) == code


def test_a_repeated_argument_is_a_bad_argument() -> None:
    doc = etree.fromstring(_responder().respond({"verb": ["ListRecords"], "metadataPrefix": ["ivo_vor", "oai_dc"]}))
    assert _error(doc) == "badArgument"


def test_resumption_tokens_page_through_every_record_once() -> None:
    responder = _responder(page_size=3)
    seen: list[str] = []
    doc = _ask(responder, verb="ListIdentifiers", metadataPrefix="ivo_vor")
    while True:
        seen += [h.findtext("o:identifier", namespaces=NS) for h in doc.iterfind("o:ListIdentifiers/o:header", NS)]
        token = doc.find("o:ListIdentifiers/o:resumptionToken", NS)
        if token is None or not token.text:
            break
        assert token.get("completeListSize") == "7"
        doc = _ask(responder, verb="ListIdentifiers", resumptionToken=token.text)
    assert sorted(seen) == sorted(r.ivoid for r in responder.records) and len(seen) == 7


def test_a_dropped_catalogue_is_a_deleted_header_without_metadata() -> None:
    doc = _ask(_responder(), verb="ListRecords", metadataPrefix="ivo_vor")
    deleted = [
        r for r in doc.iterfind("o:ListRecords/o:record", NS) if r.find("o:header", NS).get("status") == "deleted"
    ]
    assert [r.findtext("o:header/o:identifier", namespaces=NS) for r in deleted] == [
        "ivo://example.org/sxds/photometry"
    ]
    assert deleted[0].find("o:metadata", NS) is None


def test_from_after_the_last_change_matches_nothing() -> None:
    assert (
        _error(_ask(_responder(), verb="ListIdentifiers", metadataPrefix="ivo_vor", from_="2025-06-07T08:09:11Z"))
        == "noRecordsMatch"
    )
    doc = _ask(_responder(), verb="ListIdentifiers", metadataPrefix="ivo_vor", from_="2025-06-07T08:09:10Z")
    assert len(doc.findall("o:ListIdentifiers/o:header", NS)) == 7
