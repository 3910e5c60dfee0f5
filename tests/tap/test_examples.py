"""/tap/examples: a DALI examples document whose every query runs on this service."""

from __future__ import annotations

import httpx
import pytest
from lxml import etree

from dalserver.dali.examples import Example
from dalserver.tap.examples import EXAMPLES
from tests.support.tap import sync
from tests.support.votable import query_status, rows

XHTML = "{http://www.w3.org/1999/xhtml}"


def test_examples_document_carries_name_and_query_in_rdfa(tap_url: str) -> None:
    response = httpx.get(f"{tap_url}/examples")
    assert response.status_code == 200 and "xhtml" in response.headers["content-type"]
    doc = etree.fromstring(response.content)
    assert doc.find(f"{XHTML}body").get("vocab") == "ivo://ivoa.net/std/DALI#examples"  # DALI 1.1
    found = doc.findall(f".//{XHTML}div[@typeof='example']")
    assert len(found) >= 8
    for div in found:
        assert div.get("resource") == "#" + div.get("id")
        assert div.find(".//*[@property='name']").text
        assert div.find(".//*[@property='query']").text.startswith(("SELECT", "WITH"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_every_example_query_returns_rows(tap_url: str, example: Example) -> None:
    response = sync(tap_url, example.query)
    assert query_status(response)[0] == "OK", response.text
    assert len(rows(response)) > 0


def test_capabilities_point_to_the_examples(tap_url: str) -> None:
    assert "ivo://ivoa.net/std/DALI#examples" in httpx.get(f"{tap_url}/capabilities").text
