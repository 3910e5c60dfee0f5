"""Reading VOTable answers in tests (lxml, so that the document itself is what is checked)."""

from __future__ import annotations

import httpx
from lxml import etree

NS = {"v": "http://www.ivoa.net/xml/VOTable/v1.3"}


def query_status(response: httpx.Response) -> tuple[str, str]:
    """(value, text) of the last QUERY_STATUS INFO in a VOTable response."""
    doc = etree.fromstring(response.content)
    infos = doc.findall(".//v:INFO[@name='QUERY_STATUS']", NS)
    assert infos, response.text
    return infos[-1].get("value"), (infos[-1].text or "")


def rows(response: httpx.Response) -> list[list[str | None]]:
    doc = etree.fromstring(response.content)
    return [[td.text for td in tr.findall("v:TD", NS)] for tr in doc.findall(".//v:TR", NS)]


def fields(response: httpx.Response) -> list[dict[str, str]]:
    doc = etree.fromstring(response.content)
    return [dict(f.attrib) for f in doc.findall(".//v:FIELD", NS)]


def sync(tap_url: str, query: str, **params: str) -> httpx.Response:
    return httpx.get(f"{tap_url}/sync", params={"LANG": "ADQL", "QUERY": query, **params}, timeout=60)
