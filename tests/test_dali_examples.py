"""/sia/examples, /datalink/examples and /soda/examples: DALI examples documents whose every
example, sent as written, returns data from this archive."""

from __future__ import annotations

import io

import httpx
import lxml.html
import pytest
from astropy.io import fits
from lxml import etree

from dalserver.dali.examples import examples_document
from dalserver.http.landing import landing_page
from dalserver.obscore.example_dataset import Sample
from dalserver.sia.examples import sia_examples
from tests.support.votable import query_status, rows

XHTML = "{http://www.w3.org/1999/xhtml}"
SERVICES = {
    "sia": ("query", "ivo://ivoa.net/std/SIA#query-2.0"),
    "datalink": ("links", "ivo://ivoa.net/std/DataLink#links-1.1"),
    "soda": ("sync", "ivo://ivoa.net/std/SODA#sync-1.0"),
}


def examples_of(server: str, service: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(id, capability, generic parameters) of every example, read through the RDFa properties."""
    response = httpx.get(f"{server}/{service}/examples", timeout=30)
    assert response.status_code == 200 and response.headers["content-type"] == "application/xhtml+xml"
    body = etree.fromstring(response.content).find(f"{XHTML}body")
    assert body.get("vocab") == "ivo://ivoa.net/std/DALI#examples"
    found = []
    for div in body.iter(f"{XHTML}div"):
        if div.get("typeof") != "example":
            continue
        assert div.get("resource") == f"#{div.get('id')}" and div.find(".//*[@property='name']").text
        params = [
            (pair.find("*[@property='key']").text, pair.find("*[@property='value']").text)
            for pair in div.iterfind(".//*[@property='generic-parameter']")
            if pair.get("typeof") == "keyval"
        ]
        found.append((div.get("id"), div.find(".//*[@property='capability']").text, params))
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_example_is_for_the_service_and_returns_data(server: str, service: str) -> None:
    resource, standard = SERVICES[service]
    examples = examples_of(server, service)
    assert len(examples) >= 2
    for example_id, capability, params in examples:
        assert capability == standard and params, example_id
        response = httpx.get(f"{server}/{service}/{resource}", params=tuple(params), timeout=60)
        assert response.status_code == 200, (example_id, response.text)
        if service == "soda":
            regions = sum(1 for key, _ in params if key != "ID")
            images = [hdu for hdu in fits.open(io.BytesIO(response.content)) if hdu.data is not None]
            assert len(images) == regions and all(hdu.data.size for hdu in images), example_id
        elif "RESPONSEFORMAT" in dict(params):
            assert response.headers["content-type"].startswith("text/csv") and response.text.count("\n") > 1
        else:
            assert query_status(response)[0] == "OK" and rows(response), example_id


@pytest.mark.parametrize("service", SERVICES)
def test_capabilities_point_to_the_examples(server: str, service: str) -> None:
    caps = etree.fromstring(httpx.get(f"{server}/{service}/capabilities", timeout=30).content)
    (examples,) = [c for c in caps.iter("capability") if c.get("standardID") == "ivo://ivoa.net/std/DALI#examples"]
    assert examples.findtext("interface/accessURL") == f"{server}/{service}/examples"


def test_an_archive_without_images_gets_a_document_that_says_so() -> None:
    document = etree.fromstring(examples_document("Empty", [], "No image has been ingested yet."))
    assert not document.findall(f".//{XHTML}div") and "No image" in etree.tostring(document).decode()


def test_examples_leave_out_what_the_dataset_does_not_describe() -> None:
    bare = Sample("ivo://x/y?1", 359.99, 89.99, 0.1, None, None, None, None, None)
    ids = [e.id for e in sia_examples(bare)]
    assert "sia-band" not in ids and "sia-time" not in ids
    (box,) = [e for e in sia_examples(bare) if e.id == "sia-range"]
    ra_min, ra_max, dec_min, dec_max = (float(v) for v in dict(box.params)["POS"].split()[1:])
    assert ra_min > ra_max and dec_max == 90.0  # passes through RA 0; clamped at the pole


@pytest.mark.parametrize("service", ["tap", "sia"])
def test_landing_pages_link_the_examples(server: str, service: str) -> None:
    response = httpx.get(f"{server}/{service}", timeout=30)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    links = [a.get("href") for a in lxml.html.fromstring(response.text).iter("a")]
    assert f"{server}/{service}/examples" in links and f"{server}/{service}/capabilities" in links


def test_landing_page_escapes_what_the_operator_wrote() -> None:
    page = bytes(landing_page("Q&A <archive>", "TAP", "a < b", ("http://x/?a=1&b=2", "x"), ()).body).decode()
    assert "Q&amp;A &lt;archive&gt;" in page and "a &lt; b" in page and "?a=1&amp;b=2" in page
