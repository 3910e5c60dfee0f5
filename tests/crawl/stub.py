"""Two loopback sources in front of one real dalserver, in a process of their own (uvicorn), each
request written to an access log (JSON lines: port, path, ADQL, User-Agent, start and end time,
status, what the answer was):

* ``plain``: relays everything to the dalserver unchanged. The dalserver's public URL is this
  port, so its records and access URLs lead here and every request of a crawl is logged.
* ``awkward``: misbehaves on purpose, keeping ADQL real (the queries run on the dalserver).
  Its ObsCore table is the dalserver's catalogue ``awk.obscore10`` (ObsCore 1.0 columns only,
  one malformed footprint, three rows without a position), shown as ``ivoa.obscore``; its
  capabilities lose ``ivo_healpix_index`` (and a query using it is refused) and declare a hard
  MAXREC of 200, while every query gets at most 100 rows (with OVERFLOW beyond): the crawler's
  census splits cells over 200 and its fetches split the cells that then overflow; every ``every``-th request is
  answered 503 with ``Retry-After: 1``; the ``stall``-th data query stalls until the client
  gives up. ``/oai`` serves its registry records: the TAP service (old-style ObsCore data-model
  declaration) and an SIA 1.0 twin that ``IsServedBy`` it, at ``/sia1``.
* ``unruly``: live services for the federated search, one per path: ``/fresh/sia/query`` answers
  an SIA 2.0 query with the dalserver's own answer to it plus a copy of each row under a new
  access URL (``?fresh``), twice (rows the cache does not hold, repeated); ``/html/sia/query``
  is an HTML error page; ``/truncated/sia/query`` a VOTable cut short; ``/stall/...`` stalls
  until the client gives up.

Run as ``python -m tests.crawl.stub CONFIG.json``; it writes CONFIG's ``ready`` file once both
ports listen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import uvicorn
from lxml import etree

from tests.support.asgi import request_body

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

AWKWARD_AUTHORITY = "awkward.demo"
TAP_IVOID = f"ivo://{AWKWARD_AUTHORITY}/tap"
SIA1_IVOID = f"ivo://{AWKWARD_AUTHORITY}/sia1"
HARD_MAXREC = 100  # what every query gets at most
DECLARED_MAXREC = 200  # what its capabilities claim: a fetch sized by it overflows
_RELAYED_HEADERS = ("content-type", "retry-after", "location")


class Log:
    def __init__(self, path: Path):
        self.file = path.open("a")

    def write(self, entry: dict[str, Any]) -> None:
        self.file.write(json.dumps(entry) + "\n")
        self.file.flush()


def logged(app: Callable[[Scope, Receive, Send], Awaitable[None]], name: str, log: Log) -> Any:
    """The app, with one log line per request, written when its answer has been sent (or the
    client went away)."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        params = dict(parse_qsl(scope["query_string"].decode()))
        entry: dict[str, Any] = {
            "source": name,
            "path": scope["path"],
            "query": params.get("QUERY"),
            "params": {k: v for k, v in params.items() if k != "QUERY"},
            "ua": headers.get("user-agent", ""),
            "start": time.time(),
            "status": None,
        }
        scope["log"] = entry

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        try:
            await app(scope, receive, sending)
        finally:
            entry["end"] = time.time()
            log.write(entry)

    return wrapper


async def _respond(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode(), v.encode()) for k, v in {**headers, "content-length": str(len(body))}.items()],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class Relay:
    def __init__(self, backend: str):
        self.backend = backend.rstrip("/")
        self.client = httpx.AsyncClient(timeout=60)

    async def get(self, path: str, params: list[tuple[str, str]]) -> httpx.Response:
        url = f"{self.backend}{path}" + (f"?{urlencode(params)}" if params else "")
        return await self.client.get(url)

    async def forward(
        self, scope: Scope, send: Send, params: list[tuple[str, str]] | None = None, receive: Receive | None = None
    ) -> bytes:
        if scope["method"] == "POST" and receive is not None:  # pyvo posts its queries
            body = await request_body(receive)
            kind = {k.decode().lower(): v.decode() for k, v in scope["headers"]}.get("content-type", "")
            answer = await self.client.post(
                f"{self.backend}{scope['path']}", content=body, headers={"content-type": kind} if kind else {}
            )
        else:
            query = params if params is not None else parse_qsl(scope["query_string"].decode())
            answer = await self.get(scope["path"], query)
        headers = {k: answer.headers[k] for k in _RELAYED_HEADERS if k in answer.headers}
        await _respond(send, answer.status_code, answer.content, headers)
        return answer.content


def plain_app(relay: Relay) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await relay.forward(scope, send, receive=receive)
        scope["log"]["overflow"] = b'value="OVERFLOW"' in body

    return app


def _error_votable(message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
        f'<RESOURCE type="results"><INFO name="QUERY_STATUS" value="ERROR">{message}</INFO></RESOURCE></VOTABLE>'
    ).encode()


_EMPTY_SIA1 = (
    b'<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE type="results">'
    b'<INFO name="QUERY_STATUS" value="OK"/><TABLE><FIELD name="ra" datatype="double" ucd="POS_EQ_RA_MAIN"/>'
    b"<DATA><TABLEDATA/></DATA></TABLE></RESOURCE></VOTABLE>"
)


class Awkward:
    def __init__(self, relay: Relay, url: str, table: str, every: int, stall: int):
        self.relay = relay
        self.url = url.rstrip("/")
        self.table = table
        self.every = every
        self.stall_at = stall
        self.requests = 0
        self.data_queries = 0
        self.capabilities: bytes | None = None

    async def tap_capabilities(self) -> bytes:
        """The dalserver's capabilities as this service's: no ivo_healpix_index, ObsCore 1.0,
        a hard limit of DECLARED_MAXREC rows, its own URLs."""
        if self.capabilities is None:
            answer = await self.relay.get("/tap/capabilities", [])
            root = etree.fromstring(answer.content)
            for form in root.iter("form"):
                if (form.text or "").lower().startswith("ivo_healpix_index("):
                    feature = form.getparent()
                    feature.getparent().remove(feature)
            for model in root.iter("dataModel"):
                model.set("ivo-id", "ivo://ivoa.net/std/ObsCore/v1.0")
                model.text = "ObsCore-1.0"
            for hard in root.iter("hard"):
                if hard.getparent().tag == "outputLimit":
                    hard.text = str(DECLARED_MAXREC)
            for default in root.iter("default"):
                if default.getparent().tag == "outputLimit":
                    default.text = str(DECLARED_MAXREC)
            for url in root.iter("accessURL"):
                url.text = re.sub(r"^http://[^/]+", self.url, url.text or "")
            self.capabilities = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        return self.capabilities

    async def oai(self) -> bytes:
        return oai_records(self.url, etree.fromstring(await self.tap_capabilities()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, entry = scope["path"], scope["log"]
        params = parse_qsl(scope["query_string"].decode())
        if path == "/oai":
            return await _respond(send, 200, await self.oai(), {"content-type": "text/xml"})
        if path.startswith("/sia1"):
            return await _respond(send, 200, _EMPTY_SIA1, {"content-type": "application/x-votable+xml"})
        self.requests += 1
        if self.requests % self.every == 0:
            entry["kind"] = "busy"
            return await _respond(
                send, 503, b"busy, come back later", {"content-type": "text/plain", "retry-after": "1"}
            )
        if path == "/tap/capabilities":
            return await _respond(send, 200, await self.tap_capabilities(), {"content-type": "text/xml"})
        if path != "/tap/sync":
            return await _respond(send, 404, b"not here", {"content-type": "text/plain"})
        query = dict(params).get("QUERY", "")
        if "ivo_healpix_index" in query.lower():
            entry["kind"] = "refused"
            return await _respond(
                send, 400, _error_votable("ivo_healpix_index is not a function here"), {"content-type": "text/xml"}
            )
        lowered = query.lower()
        entry["kind"] = "census" if "count(" in lowered else "metadata" if "tap_schema" in lowered else "data"
        if entry["kind"] == "data":
            self.data_queries += 1
            if self.data_queries == self.stall_at:
                entry["kind"] = "stalled"
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_until_disconnect(receive), timeout=30)
                return
        rewritten = []
        for key, value in params:
            if key.upper() == "QUERY":
                value = re.sub(r"ivoa\.obscore", self.table, value, flags=re.IGNORECASE)
            elif key.upper() == "MAXREC":
                value = str(min(int(value), HARD_MAXREC))
            rewritten.append((key, value))
        if not any(k.upper() == "MAXREC" for k, _ in params):
            rewritten.append(("MAXREC", str(HARD_MAXREC)))
        body = await self.relay.forward(scope, send, rewritten)
        entry["overflow"] = b'value="OVERFLOW"' in body


def oai_records(base: str, capabilities: etree._Element) -> bytes:
    """ListRecords with the awkward archive's TAP service and its SIA 1.0 twin."""
    oai = "http://www.openarchives.org/OAI/2.0/"
    ri = "http://www.ivoa.net/xml/RegistryInterface/v1.0"
    xsi = "http://www.w3.org/2001/XMLSchema-instance"
    nsmap = {
        "ri": ri,
        "vr": "http://www.ivoa.net/xml/VOResource/v1.0",
        "vs": "http://www.ivoa.net/xml/VODataService/v1.1",
        "tr": "http://www.ivoa.net/xml/TAPRegExt/v1.0",
        "sia": "http://www.ivoa.net/xml/SIA/v1.1",
        "xsi": xsi,
    }
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    root = etree.Element(f"{{{oai}}}OAI-PMH", nsmap={"oai": oai})
    etree.SubElement(root, f"{{{oai}}}responseDate").text = now
    etree.SubElement(root, f"{{{oai}}}request", verb="ListRecords").text = f"{base}/oai"
    listing = etree.SubElement(root, f"{{{oai}}}ListRecords")

    def record(ivoid: str, title: str) -> etree._Element:
        rec = etree.SubElement(listing, f"{{{oai}}}record")
        header = etree.SubElement(rec, f"{{{oai}}}header")
        etree.SubElement(header, f"{{{oai}}}identifier").text = ivoid
        etree.SubElement(header, f"{{{oai}}}datestamp").text = "2026-01-01T00:00:00Z"
        metadata = etree.SubElement(rec, f"{{{oai}}}metadata")
        res = etree.SubElement(metadata, f"{{{ri}}}Resource", nsmap=nsmap)
        res.set(f"{{{xsi}}}type", "vs:CatalogService")
        res.set("created", "2026-01-01T00:00:00Z")
        res.set("updated", "2026-01-01T00:00:00Z")
        res.set("status", "active")
        etree.SubElement(res, "title").text = title
        etree.SubElement(res, "identifier").text = ivoid
        curation = etree.SubElement(res, "curation")
        etree.SubElement(curation, "publisher").text = "The Awkward Archive"
        contact = etree.SubElement(curation, "contact")
        etree.SubElement(contact, "name").text = "Awkward operators"
        content = etree.SubElement(res, "content")
        etree.SubElement(content, "subject").text = "surveys"
        etree.SubElement(content, "description").text = f"{title}: a source that misbehaves on purpose."
        etree.SubElement(content, "referenceURL").text = f"{base}/tap"
        return res

    tap = record(TAP_IVOID, "Awkward archive TAP service")
    for capability in capabilities:
        if (
            etree.QName(capability).localname == "capability"
            and capability.get("standardID") == "ivo://ivoa.net/std/TAP"
        ):
            tap.append(capability)
    sia = record(SIA1_IVOID, "Awkward archive images (SIA 1.0)")
    content = sia.find("content")
    relationship = etree.SubElement(content, "relationship")
    etree.SubElement(relationship, "relationshipType").text = "IsServedBy"
    etree.SubElement(relationship, "relatedResource", {"ivo-id": TAP_IVOID}).text = "Awkward archive TAP service"
    cap = etree.SubElement(sia, "capability", standardID="ivo://ivoa.net/std/SIA")
    cap.set(f"{{{xsi}}}type", "sia:SimpleImageAccess")
    interface = etree.SubElement(cap, "interface", role="std")
    interface.set(f"{{{xsi}}}type", "vs:ParamHTTP")
    etree.SubElement(interface, "accessURL", use="base").text = f"{base}/sia1?"
    etree.SubElement(cap, "imageServiceType").text = "Pointed"
    region = etree.SubElement(cap, "maxQueryRegionSize")
    etree.SubElement(region, "long").text = "10"
    etree.SubElement(region, "lat").text = "10"
    extent = etree.SubElement(cap, "maxImageExtent")
    etree.SubElement(extent, "long").text = "2"
    etree.SubElement(extent, "lat").text = "2"
    size = etree.SubElement(cap, "maxImageSize")
    size.text = "4096"
    etree.SubElement(cap, "maxFileSize").text = "100000000"
    etree.SubElement(cap, "maxRecords").text = "1000"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


_HTML_ERROR = b"<!DOCTYPE html><html><body><h1>500 Internal Server Error</h1><p>try later</p></body></html>"


def fresh_copies(votable: bytes) -> bytes:
    """The SIA answer ``votable`` with every row followed, at the end, by two copies of it under a
    new publisher DID and access URL: rows no cache holds, each sent twice."""
    import io

    from astropy.io.votable import from_table, parse_single_table
    from astropy.table import vstack

    table = parse_single_table(io.BytesIO(votable)).to_table()
    for name in ("obs_publisher_did", "access_url"):  # text columns all alike, for vstack
        table[name] = [str(value) for value in table[name]]
    copy = table.copy()
    copy["obs_publisher_did"] = [f"{did}-fresh" for did in table["obs_publisher_did"]]
    copy["access_url"] = [f"{url}?fresh" for url in table["access_url"]]
    out = io.BytesIO()
    from_table(vstack([table, copy, copy]) if len(table) else table).to_xml(out, tabledata_format="tabledata")
    return out.getvalue()


class Unruly:
    def __init__(self, relay: Relay):
        self.relay = relay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, entry = scope["path"], scope["log"]
        params = parse_qsl(scope["query_string"].decode())
        entry["kind"] = path.split("/")[1]
        if path == "/fresh/sia/query":
            answer = await self.relay.get("/sia/query", [*params, ("RESPONSEFORMAT", "votable")])
            body = fresh_copies(answer.content)
            return await _respond(send, 200, body, {"content-type": "application/x-votable+xml"})
        if path == "/html/sia/query":
            return await _respond(send, 500, _HTML_ERROR, {"content-type": "text/html"})
        if path == "/truncated/sia/query":
            answer = await self.relay.get("/sia/query", params)
            return await _respond(send, 200, answer.content[: len(answer.content) // 2], {"content-type": "text/xml"})
        if path.startswith("/stall/"):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_until_disconnect(receive), timeout=30)
            return
        return await _respond(send, 404, b"not here", {"content-type": "text/plain"})


async def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    log = Log(Path(config["log"]))
    relay = Relay(config["backend"])
    awkward = Awkward(relay, config["awkward_url"], config["table"], config["every"], config["stall"])
    servers = [
        uvicorn.Server(
            uvicorn.Config(logged(app, name, log), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        for app, name, port in (
            (plain_app(relay), "plain", config["plain_port"]),
            (awkward, "awkward", config["awkward_port"]),
            (Unruly(relay), "unruly", config["unruly_port"]),
        )
    ]
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            for t in tasks:
                t.result()
        await asyncio.sleep(0.05)
    Path(config["ready"]).write_text("ready")
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
