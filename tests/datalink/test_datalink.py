"""DataLink {links} per DataLink 1.1, reached the way clients reach it: pyvo's getdatalink() on
SIA and TAP results, and plain requests with several IDs."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import httpx
import numpy as np
import psycopg
import pytest
import pyvo
from lxml import etree
from PIL import Image
from prov.model import ProvAgent, ProvDerivation, ProvDocument, ProvEntity

from tests.support.archive import Archive
from tests.support.servers import another_server
from tests.support.votable import NS, fields, query_status, rows, votlint_messages


@pytest.fixture(scope="module")
def dids(archive: Archive) -> list[str]:
    with psycopg.connect(archive.url) as conn:
        return [r[0] for r in conn.execute("SELECT obs_publisher_did FROM ivoa.obscore ORDER BY obs_id LIMIT 3")]


def links(server: str, *ids: str, **params: str) -> httpx.Response:
    return httpx.get(
        f"{server}/datalink/links", params=tuple([("ID", i) for i in ids] + list(params.items())), timeout=60
    )


def table(response: httpx.Response) -> list[dict[str, str | None]]:
    names = [f["name"] for f in fields(response)]
    return [dict(zip(names, row, strict=True)) for row in rows(response)]


def test_links_of_a_dataset_are_this_provenance_preview_and_a_cutout_service(server: str, dids: list[str]) -> None:
    response = links(server, dids[0])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-votable+xml;content=datalink"
    found = {row["semantics"]: row for row in table(response)}
    assert set(found) == {"#this", "#auxiliary", "#preview", "#cutout"}
    this = found["#this"]
    assert this["ID"] == dids[0] and this["content_type"] == "image/fits" and this["access_url"].endswith(".fits")
    assert int(this["content_length"]) == len(httpx.get(this["access_url"], timeout=30).content)
    assert found["#preview"]["content_type"] == "image/png"
    assert found["#cutout"]["access_url"] is None and found["#cutout"]["service_def"]
    doc = etree.fromstring(response.content)
    assert doc.find(".//v:INFO[@name='standardID']", NS).get("value") == "ivo://ivoa.net/std/DataLink#links-1.1"
    soda = doc.find(f"v:RESOURCE[@ID='{found['#cutout']['service_def']}']", NS)
    assert soda.get("utype") == "adhoc:service"
    assert soda.find("v:PARAM[@name='standardID']", NS).get("value") == "ivo://ivoa.net/std/SODA#sync-1.0"
    assert soda.find(".//v:PARAM[@name='ID']", NS).get("value") == dids[0]
    circle_max = soda.find(".//v:PARAM[@name='CIRCLE']/v:VALUES/v:MAX", NS).get("value").split()
    assert len(circle_max) == 3 and 0 < float(circle_max[2]) < 0.2


def test_several_ids_are_answered_in_order_with_an_error_row_for_an_unknown_one(server: str, dids: list[str]) -> None:
    unknown = "ivo://dalserver.demo/nothing?here"
    response = links(server, dids[0], unknown, dids[1])
    assert query_status(response)[0] == "OK"
    ids = [row["ID"] for row in table(response)]
    # Each ID's links are consecutive (DataLink sec. 3.2), in the order asked.
    assert ids == [dids[0]] * 4 + [unknown] + [dids[1]] * 4
    error = next(row for row in table(response) if row["ID"] == unknown)
    assert error["semantics"] == "#this" and error["access_url"] is None
    assert error["error_message"].startswith("NotFoundFault: ")
    # Every row has exactly one of access_url, service_def, error_message.
    for row in table(response):
        assert sum(row[k] is not None for k in ("access_url", "service_def", "error_message")) == 1


def test_no_id_gives_an_empty_table_with_the_self_description(server: str) -> None:
    response = links(server)
    assert response.status_code == 200 and rows(response) == []
    doc = etree.fromstring(response.content)
    assert doc.find("v:RESOURCE[@utype='adhoc:this']", NS) is not None


def test_ids_are_matched_case_insensitively_as_ivoids(server: str, dids: list[str]) -> None:
    response = links(server, dids[0].upper())
    assert {row["ID"] for row in table(response)} == {dids[0].upper()}
    assert all(row["error_message"] is None for row in table(response))


def test_pyvo_getdatalink_works_on_sia_records_and_tap_rows(server: str) -> None:
    record = pyvo.dal.SIA2Service(f"{server}/sia").search(pos=(34.5, -5.0, 0.02), maxrec=1)[0]
    sia_links = record.getdatalink()
    assert {row.semantics for row in sia_links} == {"#this", "#auxiliary", "#preview", "#cutout"}
    tap = pyvo.dal.TAPService(f"{server}/tap")
    result = tap.run_sync("SELECT TOP 2 obs_id, obs_publisher_did FROM ivoa.obscore ORDER BY obs_id")
    tap_links = result[0].getdatalink()
    assert next(tap_links.bysemantics("#this", include_narrower=False)).access_url.endswith(".fits")
    assert sum(1 for _ in result.iter_datalinks()) == 2


def test_preview_is_a_png_of_the_image_and_is_cached(server: str, archive: Archive, dids: list[str]) -> None:
    row = next(r for r in table(links(server, dids[0])) if r["semantics"] == "#preview")
    first = httpx.get(row["access_url"], timeout=30)
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(first.content))
    assert image.mode == "L" and image.size == (110, 110)  # the sample stacks are 110 x 110 pixels
    pixels = np.asarray(image)
    assert pixels.min() < 64 and pixels.max() > 192  # stretched over the grey range, not flat
    cached = list((archive.settings.cache_root / "previews").rglob("*.png"))
    assert cached
    inodes = {p: p.stat().st_ino for p in cached}
    assert httpx.get(row["access_url"], timeout=30).content == first.content
    # Served from the cache, not redrawn (a new rendering is renamed into place: a new inode).
    assert {p: p.stat().st_ino for p in (archive.settings.cache_root / "previews").rglob("*.png")} == inodes


def test_provenance_names_the_source_file_its_checksum_and_the_header_values(
    server: str, archive: Archive, dids: list[str]
) -> None:
    row = next(r for r in table(links(server, dids[0])) if r["semantics"] == "#auxiliary")
    response = httpx.get(row["access_url"], timeout=30)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    # Read back with the W3C reference library: every identifier is a declared qualified name.
    document = ProvDocument.deserialize(content=response.text, format="json")
    entities = {e.identifier.uri: e for e in document.get_records(ProvEntity)}
    (source_uri,) = [uri for uri in entities if uri.startswith(f"{server}/data/")]  # the archive file, as a URL
    attributes = {str(k): v for k, v in entities[source_uri].attributes}
    path = archive.settings.archive_root / attributes["prov:label"]
    assert attributes["dalserver:sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert int(attributes["dalserver:bytes"].value) == path.stat().st_size
    assert attributes["fits:INSTRUME"] == "Suprime-Cam" and "fits:MJD-OBS" in attributes
    (derived,) = document.get_records(ProvDerivation)
    assert [v.uri for _, v in derived.formal_attributes[:2]] == [dids[0], source_uri]  # the DID itself
    (agent,) = document.get_records(ProvAgent)
    assert agent.label.startswith("dalserver")
    # DALI: parameter names, and here the format names, are case-insensitive.
    provn = httpx.get(f"{server}/datalink/provenance", params={"id": dids[0], "responseformat": "prov-n"}, timeout=30)
    assert provn.headers["content-type"].startswith("text/provenance-notation")
    assert provn.text.startswith("document") and "wasDerivedFrom(" in provn.text
    missing = httpx.get(f"{server}/datalink/provenance", params={"ID": "ivo://x/y"}, timeout=30)
    assert missing.status_code == 404 and query_status(missing)[1].startswith("NotFoundFault: ")
    unknown = httpx.get(f"{server}/datalink/provenance", params={"ID": dids[0], "RESPONSEFORMAT": "rdf"}, timeout=30)
    assert unknown.status_code == 400 and "PROV-JSON, PROV-N, PROV-XML" in query_status(unknown)[1]


def test_preview_of_an_unknown_id_is_a_not_found_error_document(server: str) -> None:
    response = httpx.get(f"{server}/datalink/preview", params={"ID": "ivo://x/y"}, timeout=30)
    assert response.status_code == 404
    assert query_status(response) == ("ERROR", "NotFoundFault: ivo://x/y is not an image of this archive")


def test_unknown_response_format_is_a_usage_fault(server: str, dids: list[str]) -> None:
    response = links(server, dids[0], RESPONSEFORMAT="image/gif")
    assert response.status_code == 400 and query_status(response)[1].startswith("UsageFault: ")


def test_votlint_is_silent_on_a_links_document(server: str, dids: list[str], tmp_path: Path) -> None:
    assert votlint_messages(links(server, dids[0], "ivo://x/unknown").content, tmp_path) == ""


def test_stilts_datalinklint_finds_no_error_or_warning(server: str, dids: list[str]) -> None:
    stilts = shutil.which("stilts")
    assert stilts, "stilts is not installed: ./dev test installs Debian's stilts package"
    url = f"{server}/datalink/links?" + urlencode([("ID", dids[0]), ("ID", dids[1]), ("ID", "ivo://x/unknown")])
    result = subprocess.run([stilts, "datalinklint", f"votable={url}"], capture_output=True, text=True, timeout=120)
    report = result.stdout + result.stderr
    assert "Totals: Errors: 0; Warnings: 0;" in report, report


def test_more_ids_than_the_limit_are_cut_with_an_overflow(archive: Archive, dids: list[str], tmp_path: Path) -> None:
    with another_server(archive.env, tmp_path / "server.log", {"DALSERVER_DATALINK_MAX_IDS": "2"}) as other:
        response = links(other.base, *dids[:3])
    assert query_status(response)[0] == "OVERFLOW"
    assert {row["ID"] for row in table(response)} == set(dids[:2])


def test_datalink_vosi_resources(server: str) -> None:
    caps = etree.fromstring(httpx.get(f"{server}/datalink/capabilities", timeout=10).content)
    assert "ivo://ivoa.net/std/DataLink#links-1.1" in {c.get("standardID") for c in caps.findall("capability")}
    assert httpx.get(f"{server}/datalink/availability", timeout=10).status_code == 200
