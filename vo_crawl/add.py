"""``dalserver crawl add URL``: a service that no harvested registry lists, described from what
it says of itself so that it can go into the local RegTAP like any harvested record.

The service's VOSI capabilities are read (TAP, SIA 2.0; for SIA 1.0, which has none, the kind is
given) and copied into a VOResource record: a ``vs:CatalogService`` with those capabilities and,
for TAP, the ObsCore table found in its TAP_SCHEMA (by the ObsCore table utype) or declared by
its data model. The record's identifier is the operator's (``--ivoid``), or one made from the
URL (``ivo://<host>/<path>``). Only capability elements are copied; nothing else of the
remote document reaches the record.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from urllib.parse import urlsplit

from lxml import etree

from vo_crawl.capabilities import RemoteXMLError, safe_xml
from vo_crawl.polite import PoliteClient
from vo_crawl.remote import CellError, Remote

RI = "http://www.ivoa.net/xml/RegistryInterface/v1.0"
VS = "http://www.ivoa.net/xml/VODataService/v1.1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
VR = "http://www.ivoa.net/xml/VOResource/v1.0"
TAP_STANDARD = "ivo://ivoa.net/std/tap"
SIA1_STANDARD = "ivo://ivoa.net/std/SIA"
OBSCORE_UTYPE = "ivo://ivoa.net/std/obscore#table-1.1"


class AddError(ValueError):
    """The URL does not lead to a service the crawler can use; the message says why."""


def default_ivoid(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "unknown").lower()
    path = parts.path.strip("/") or "service"
    if parts.port:
        path = f"port{parts.port}/{path}"
    return f"ivo://{host}/{path}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _capabilities(remote: Remote, url: str) -> list[etree._Element]:
    """The capability elements of the service's VOSI capabilities ([] when it has none)."""
    candidates = [f"{url}/capabilities"]
    if "/" in urlsplit(url).path.strip("/"):
        candidates.append(url.rsplit("/", 1)[0] + "/capabilities")  # an SIA query URL's service
    for where in candidates:
        reply = remote.client.get(where)
        if reply.status != 200:
            continue
        try:
            root = safe_xml(reply.body, "the VOSI capabilities")
        except RemoteXMLError:
            continue
        found = [c for c in root if etree.QName(c).localname == "capability"]
        if found:
            return found
    return []


def _obscore_table(remote: Remote) -> str | None:
    """The table TAP_SCHEMA marks with the ObsCore table utype, if any."""
    try:
        answer = remote.tap("SELECT table_name, utype FROM TAP_SCHEMA.tables", 10000, "votable", "metadata")
    except CellError:
        return None
    for name, utype in answer.rows:
        if str(utype or "").lower().startswith("ivo://ivoa.net/std/obscore#table-"):
            return str(name)
    return None


def describe(
    client: PoliteClient, url: str, ivoid: str | None = None, title: str | None = None, sia1: bool = False
) -> etree._Element:
    """A VOResource record (ri:Resource) for the service at ``url``."""
    url = url.strip().rstrip("?").rstrip("/")
    remote = Remote(client, url)
    if sia1:
        capabilities = []
    else:
        capabilities = _capabilities(remote, url)
        if not capabilities:
            raise AddError(
                f"{url} has no VOSI capabilities: give the base URL of a TAP or SIA 2.0 service "
                "(or --sia1 for an SIA 1.0 service)"
            )
    standards = {(c.get("standardID") or "").lower() for c in capabilities}
    table: str | None = None
    if TAP_STANDARD in standards:
        declared = any(
            (m.get("ivo-id") or "").lower().startswith("ivo://ivoa.net/std/obscore")
            for c in capabilities
            for m in c.iter()
            if etree.QName(m).localname == "dataModel"
        )
        table = _obscore_table(remote) or ("ivoa.obscore" if declared else None)
        if table is None:
            raise AddError(f"{url} is a TAP service without an ObsCore table: nothing to crawl there")
    elif not sia1 and not any(s.startswith("ivo://ivoa.net/std/sia#query-2.") for s in standards):
        raise AddError(f"{url} is neither a TAP service with ObsCore nor an SIA service")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    host = urlsplit(url).hostname or url
    root = etree.Element(f"{{{RI}}}Resource", nsmap={"ri": RI, "vr": VR, "vs": VS, "xsi": XSI})
    root.set(f"{{{XSI}}}type", "vs:CatalogService")
    root.set("created", now)
    root.set("updated", now)
    root.set("status", "active")
    _sub(root, "title", title or f"{host}: {'TAP' if table else 'SIA'} service added by hand")
    _sub(root, "identifier", ivoid or default_ivoid(url))
    curation = _sub(root, "curation")
    _sub(curation, "publisher", host)
    contact = _sub(curation, "contact")
    _sub(contact, "name", f"the operators of {host}")
    content = _sub(root, "content")
    _sub(content, "subject", "virtual-observatories")
    _sub(content, "description", f"The service at {url}, added to this archive's registry by dalserver crawl add.")
    _sub(content, "referenceURL", url)
    if sia1:
        cap = _sub(root, "capability", standardID=SIA1_STANDARD)
        interface = _sub(cap, "interface", role="std")
        interface.set(f"{{{XSI}}}type", "vs:ParamHTTP")
        _sub(interface, "accessURL", url + "?", use="base")
    for capability in capabilities:
        root.append(copy.deepcopy(capability))
    if table:
        schema_name, _, _ = table.rpartition(".")
        tableset = _sub(root, "tableset")
        schema = _sub(tableset, "schema")
        _sub(schema, "name", schema_name or "default")
        element = _sub(schema, "table")
        _sub(element, "name", table)
        _sub(element, "utype", OBSCORE_UTYPE)
    return root
