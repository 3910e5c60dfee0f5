"""OAI-PMH answers over hand-made records (no database): every verb and error valid against the
OAI-PMH, VOResource and Dublin Core schemas, paging by resumption tokens, from/until."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from archive_io.registry_state import REGISTRY
from dalserver.records.build import build_records
from dalserver.records.config import RegistryConfig
from dalserver.registry.oai import Repository, Responder
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


def _records_of(doc: etree._Element, verb: str = "ListIdentifiers") -> list[str]:
    return [h.findtext("o:identifier", namespaces=NS) for h in doc.iterfind(f"o:{verb}//o:header", NS)]


@pytest.mark.parametrize("verb", ["ListIdentifiers", "ListRecords"])
def test_a_from_ahead_of_the_servers_clock_without_until_matches_nothing(
    registry_xsd: etree.XMLSchema, verb: str
) -> None:
    # a harvester whose clock runs a minute ahead: a legal request with an empty list (OAI-PMH 3.6)
    doc = _ask(_responder(), verb=verb, metadataPrefix="ivo_vor", from_="2026-01-01T00:01:00Z")
    assert _error(doc) == "noRecordsMatch"
    assert schema_errors(registry_xsd, doc) == ""
    assert doc.find("o:request", NS).get("from") == "2026-01-01T00:01:00Z"  # the arguments are echoed


def test_from_and_until_are_inclusive_at_either_granularity() -> None:
    today = Responder(_responder().repository, _responder().records, 100, datetime(2025, 6, 7, 12, tzinfo=UTC))
    for dates in (
        {"from_": "2025-06-07T08:09:10Z", "until": "2025-06-07T08:09:10Z"},  # from == until, to the second
        {"from_": "2025-06-07", "until": "2025-06-07"},  # one day
        {"from_": "2025-06-07"},  # a day-granularity from of the server's today
        {"until": "2025-06-07"},  # today's last second is still ahead of the server's clock
    ):
        assert len(_records_of(_ask(today, verb="ListIdentifiers", metadataPrefix="ivo_vor", **dates))) == 7, dates
    assert _error(_ask(today, verb="ListIdentifiers", metadataPrefix="ivo_vor", from_="2025-06-08")) == "noRecordsMatch"


@pytest.mark.parametrize(
    "dates",
    [
        {"from_": "2025-6-7"},  # ISO 8601's complete form only
        {"from_": "2025-06-07T8:09:10Z"},
        {"from_": "2025-06-07T08:09:10.5Z"},  # finer than the registry's granularity
        {"from_": "2025-06-07T08:09:10"},  # no Z: not UTC
        {"until": "2025-02-30"},
        {"until": "2025-06-07T24:00:00Z"},
        {"from_": "2025-06-07", "until": "2025-06-08T00:00:00Z"},  # mixed granularities
        {"from_": "2025-06-07T08:09:11Z", "until": "2025-06-07T08:09:10Z"},  # from later than until
    ],
)
def test_malformed_or_inverted_dates_are_bad_arguments(registry_xsd: etree.XMLSchema, dates: dict[str, str]) -> None:
    doc = _ask(_responder(), verb="ListRecords", metadataPrefix="ivo_vor", **dates)
    assert _error(doc) == "badArgument"
    assert schema_errors(registry_xsd, doc) == ""


def _changed(responder: Responder, ivoids: set[str], when: datetime) -> Responder:
    """The same registry after the records ``ivoids`` changed at ``when`` (the clock then too)."""
    records = [replace(r, datestamp=when) if r.ivoid in ivoids else r for r in responder.records]
    return Responder(responder.repository, records, responder.page_size, when)


def test_a_record_changed_during_a_harvest_makes_no_unchanged_record_go_missing() -> None:
    # OAI-PMH 3.5.1: the pages must still hold every record unchanged since the first request
    first = _responder(page_size=3)
    doc = _ask(first, verb="ListIdentifiers", metadataPrefix="ivo_vor")
    page = _records_of(doc)
    later = _changed(first, {page[0]}, datetime(2026, 1, 1, 0, 5, tzinfo=UTC))  # moves out of the list
    seen = list(page)
    while (token := doc.find("o:ListIdentifiers/o:resumptionToken", NS)) is not None and token.text:
        doc = _ask(later, verb="ListIdentifiers", resumptionToken=token.text)
        seen += _records_of(doc)
    assert sorted(seen) == sorted(r.ivoid for r in first.records)


def test_a_token_whose_remaining_records_all_changed_answers_no_records_match(registry_xsd: etree.XMLSchema) -> None:
    first = _responder(page_size=5)
    doc = _ask(first, verb="ListRecords", metadataPrefix="ivo_vor")
    token = doc.find("o:ListRecords/o:resumptionToken", NS).text
    rest = {r.ivoid for r in first.records} - set(_records_of(doc, "ListRecords"))
    later = _changed(first, rest, datetime(2026, 1, 1, 0, 5, tzinfo=UTC))
    doc = _ask(later, verb="ListRecords", resumptionToken=token)
    assert _error(doc) == "noRecordsMatch"  # a list element must hold a record; they come next harvest
    assert schema_errors(registry_xsd, doc) == ""


def test_the_last_page_has_an_empty_token_with_the_cursor_and_size() -> None:
    responder = _responder(page_size=5)
    token = _ask(responder, verb="ListIdentifiers", metadataPrefix="ivo_vor").find(
        "o:ListIdentifiers/o:resumptionToken", NS
    )
    assert (token.get("cursor"), token.get("completeListSize")) == ("0", "7")
    last = _ask(responder, verb="ListIdentifiers", resumptionToken=token.text)
    end = last.find("o:ListIdentifiers/o:resumptionToken", NS)
    assert (end.text, end.get("cursor"), end.get("completeListSize")) == (None, "5", "7")
    assert len(_records_of(last)) == 2
