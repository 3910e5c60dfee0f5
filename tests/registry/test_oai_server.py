"""The archive's OAI-PMH interface on the running server: schema-valid answers, records that
change when an ingest or a drop changes what they describe, a dropped catalogue as a deleted
record, and ``dalserver registry show``."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from lxml import etree

from tests.support.archive import Archive
from tests.support.registry import drop_catalog, write_sxds_catalog
from tests.support.schemas import schema_errors

NS = {"o": "http://www.openarchives.org/OAI/2.0/", "ri": "http://www.ivoa.net/xml/RegistryInterface/v1.0"}


def dalserver(archive: Archive, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "dalserver", *args], env=archive.env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done


def oai(server: str, **args: str) -> etree._Element:
    response = httpx.get(f"{server}/oai", params={k.rstrip("_"): v for k, v in args.items()}, timeout=30)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    return etree.fromstring(response.content)


def headers(server: str, **args: str) -> dict[str, etree._Element]:
    doc = oai(server, verb="ListIdentifiers", metadataPrefix="ivo_vor", **args)
    return {h.findtext("o:identifier", namespaces=NS): h for h in doc.iterfind("o:ListIdentifiers/o:header", NS)}


@pytest.fixture(scope="module")
def sxds(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """sxds.sources published through the command line; dropped at the end."""
    data, meta = write_sxds_catalog(tmp_path_factory.mktemp("sxds"))
    dalserver(archive, "ingest", "catalog", str(data), "--table", "sxds.sources", "--meta", str(meta), "--quiet")
    yield "sxds.sources"
    drop_catalog(archive.env, "sxds.sources")


@pytest.mark.parametrize(
    "args",
    [
        {"verb": "Identify"},
        {"verb": "ListMetadataFormats"},
        {"verb": "ListSets"},
        {"verb": "ListIdentifiers", "metadataPrefix": "ivo_vor"},
        {"verb": "ListRecords", "metadataPrefix": "ivo_vor"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
        {"verb": "GetRecord", "metadataPrefix": "ivo_vor", "identifier": "ivo://dalserver.demo/tap"},
        {"verb": "GetRecord", "metadataPrefix": "ivo_vor", "identifier": "ivo://dalserver.demo/sxds/sources"},
        {"verb": "nonsense"},
        {"verb": "ListRecords", "metadataPrefix": "ivo_vor", "from_": "not a date"},
    ],
)
def test_the_servers_answers_are_valid(
    server: str, sxds: str, registry_xsd: etree.XMLSchema, args: dict[str, str]
) -> None:
    assert schema_errors(registry_xsd, oai(server, **args)) == ""


def test_the_feed_holds_the_services_the_collection_and_the_catalogue(server: str, sxds: str) -> None:
    ids = set(headers(server))
    assert {
        "ivo://dalserver.demo",
        "ivo://dalserver.demo/registry",
        "ivo://dalserver.demo/tap",
        "ivo://dalserver.demo/sia",
        "ivo://dalserver.demo/obscore",
        "ivo://dalserver.demo/subaru-suprime-cam",
        "ivo://dalserver.demo/sxds/sources",
    } <= ids


def test_post_is_answered_like_get(server: str) -> None:
    response = httpx.post(f"{server}/oai", data={"verb": "Identify"}, timeout=30)
    doc = etree.fromstring(response.content)
    assert doc.find("o:Identify/o:description/ri:Resource", NS) is not None


def test_bad_arguments_get_the_error_element_never_a_500(server: str) -> None:
    for params, code in (
        ({}, "badVerb"),
        ({"verb": "GetRecord", "metadataPrefix": "ivo_vor", "identifier": "ivo://other/x"}, "idDoesNotExist"),
        ({"verb": "ListRecords", "resumptionToken": "%%%"}, "badResumptionToken"),
        ({"verb": "ListRecords", "metadataPrefix": "ivo_vor", "until": "1990-01-01"}, "noRecordsMatch"),
    ):
        response = httpx.get(f"{server}/oai", params=params, timeout=30)
        assert response.status_code == 200
        assert etree.fromstring(response.content).find("o:error", NS).get("code") == code


@pytest.mark.parametrize("verb", ["ListIdentifiers", "ListRecords"])
def test_a_harvester_clock_a_minute_ahead_gets_no_records_match(
    server: str, registry_xsd: etree.XMLSchema, verb: str
) -> None:
    ahead = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = oai(server, verb=verb, metadataPrefix="ivo_vor", from_=ahead)
    assert doc.find("o:error", NS).get("code") == "noRecordsMatch"
    assert schema_errors(registry_xsd, doc) == ""


def test_ingest_and_drop_change_the_records_they_describe(archive: Archive, server: str, tmp_path: Path) -> None:
    data, meta = write_sxds_catalog(tmp_path, sources=50, seed=9)
    before = headers(server)
    time.sleep(1.1)  # datestamps have second granularity
    dalserver(archive, "ingest", "catalog", str(data), "--table", "sxds.dropme", "--meta", str(meta), "--quiet")
    published = headers(server)
    record = published["ivo://dalserver.demo/sxds/dropme"]
    assert record.get("status") is None
    stamp = record.findtext("o:datestamp", namespaces=NS)
    assert published["ivo://dalserver.demo/tap"].findtext("o:datestamp", namespaces=NS) == stamp
    # what the catalogue does not touch keeps its datestamp
    collection = "ivo://dalserver.demo/subaru-suprime-cam"
    assert published[collection].findtext("o:datestamp", namespaces=NS) == before[collection].findtext(
        "o:datestamp", namespaces=NS
    )
    # an incremental harvest from that moment sees exactly what changed
    changed = headers(server, from_=stamp)
    assert {"ivo://dalserver.demo/sxds/dropme", "ivo://dalserver.demo/tap"} <= set(changed)
    assert collection not in changed
    time.sleep(1.1)
    dalserver(archive, "drop", "catalog", "sxds.dropme")
    dropped = headers(server)["ivo://dalserver.demo/sxds/dropme"]
    assert dropped.get("status") == "deleted"
    assert dropped.findtext("o:datestamp", namespaces=NS) > stamp


def test_registry_show_lists_the_records(archive: Archive, sxds: str) -> None:
    out = dalserver(archive, "registry", "show").stdout
    assert "ivo://dalserver.demo/tap\tvs:CatalogService" in out
    assert "ivo://dalserver.demo/sxds/sources\tvs:CatalogResource" in out
    xml = dalserver(archive, "registry", "show", "--xml").stdout
    assert xml.count("<ri:Resource") >= 7
