"""Reading VOTable answers in tests (lxml, so that the document itself is what is checked), and
what STILTS votlint says about a VOTable."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
from lxml import etree

NS = {"v": "http://www.ivoa.net/xml/VOTable/v1.3"}


def query_status(response: httpx.Response) -> tuple[str, str]:
    """(value, text) of the last QUERY_STATUS INFO in a VOTable response."""
    doc = etree.fromstring(response.content)
    infos = doc.findall(".//v:INFO[@name='QUERY_STATUS']", NS)
    assert infos, response.text
    value = infos[-1].get("value")
    assert value is not None, response.text  # QUERY_STATUS without a value is invalid VOTable
    return value, (infos[-1].text or "")


def rows(response: httpx.Response) -> list[list[str | None]]:
    doc = etree.fromstring(response.content)
    return [[td.text for td in tr.findall("v:TD", NS)] for tr in doc.findall(".//v:TR", NS)]


def fields(response: httpx.Response) -> list[dict[str, str]]:
    doc = etree.fromstring(response.content)
    return [dict(f.attrib) for f in doc.findall(".//v:FIELD", NS)]


def votlint_messages(document: bytes, tmp: Path) -> str:
    """What STILTS votlint (schema validation plus VOTable semantics) says about ``document``."""
    stilts = shutil.which("stilts")
    assert stilts, "stilts is not installed: ./dev test installs Debian's stilts package"
    path = tmp / "document.vot"
    path.write_bytes(document)
    result = subprocess.run(
        [stilts, "votlint", f"votable={path}", "validate=true", "version=1.4"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return (result.stdout + result.stderr).strip()
