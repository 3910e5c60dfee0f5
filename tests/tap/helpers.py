"""Reading VOTable answers in tests (lxml, so that the document itself is what is checked)."""

from __future__ import annotations

import glob
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

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


# The IVOA schemas STILTS ships for taplint, by namespace; each import among them is pointed at
# the local copy so that validating needs no network.
_STILTS_SCHEMAS = {
    "http://www.w3.org/XML/1998/namespace": "xmlnamespace.xsd",
    "http://www.w3.org/1999/xlink": "xlink.xsd",
    "http://www.ivoa.net/xml/VOResource/v1.0": "VOResource-v1.1.xsd",
    "http://www.ivoa.net/xml/STC/stc-v1.30.xsd": "stc-v1.30.xsd",
    "http://www.ivoa.net/xml/VODataService/v1.1": "VODataService-v1.2.xsd",
    "http://www.ivoa.net/xml/TAPRegExt/v1.0": "TAPRegExt-v1.0-Erratum1.xsd",
    "http://www.ivoa.net/xml/VOSICapabilities/v1.0": "VOSICapabilities-v1.0.xsd",
    "http://www.ivoa.net/xml/VOSIAvailability/v1.0": "VOSIAvailability-v1.0.xsd",
    "http://www.ivoa.net/xml/VOSITables/v1.0": "VOSITables-v1.1.xsd",
    "http://www.ivoa.net/xml/UWS/v1.0": "UWS-v1.1.xsd",
}
_XSD = "http://www.w3.org/2001/XMLSchema"


def stilts_schemas(tmp: Path) -> etree.XMLSchema:
    """One schema for every IVOA document STILTS has the schema of (UWS, VOSI capabilities,
    availability and tables, VOResource, VODataService, TAPRegExt), read from the installed STILTS:
    taplint validates with the same files."""
    jars = sorted(glob.glob("/usr/share/java/starlink-ttools*.jar"))
    assert jars, "Debian's stilts package (starlink-ttools) is not installed"
    with zipfile.ZipFile(jars[0]) as jar:
        for name in _STILTS_SCHEMAS.values():
            tree = etree.fromstring(jar.read(f"uk/ac/starlink/ttools/taplint/{name}"))
            for imported in tree.iter(f"{{{_XSD}}}import"):
                imported.set("schemaLocation", _STILTS_SCHEMAS[imported.get("namespace")])
            (tmp / name).write_bytes(etree.tostring(tree))
    imports = "".join(
        f'<xs:import namespace="{namespace}" schemaLocation="{name}"/>' for namespace, name in _STILTS_SCHEMAS.items()
    )
    (tmp / "all.xsd").write_text(f'<xs:schema xmlns:xs="{_XSD}">{imports}</xs:schema>')
    return etree.XMLSchema(etree.parse(str(tmp / "all.xsd")))


def submit(tap_url: str, query: str, run: bool = True, **params: str) -> str:
    """Create an async job (and start it); its URL."""
    data = {"LANG": "ADQL", "QUERY": query, **params}
    if run:
        data["PHASE"] = "RUN"
    response = httpx.post(f"{tap_url}/async", data=data, follow_redirects=False, timeout=30)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def job_phase(job_url: str) -> str:
    return httpx.get(f"{job_url}/phase", timeout=30).text


def wait_for_phase(job_url: str, phases: tuple[str, ...], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while (phase := job_phase(job_url)) not in phases:
        assert time.monotonic() < deadline, f"job stayed {phase}, expected one of {phases}"
        time.sleep(0.1)
    return phase


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
