"""What a remote service says it can do (VOSI capabilities, TAPRegExt): whether its ADQL has
``ivo_healpix_index`` (then one GROUP BY query is the census), its hard row limit, whether it
writes BINARY2 VOTables, the data models it declares.

Remote XML is untrusted: it is parsed by lxml with entities left unresolved, no network and no
huge-tree allowance, and a document that declares a DTD is refused outright.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

UDF_FEATURES = "ivo://ivoa.net/std/tapregext#features-udf"
BINARY2 = "ivo://ivoa.net/std/tapregext#output-votable-binary2"
BINARY2_MIME = "application/x-votable+xml;serialization=binary2"
TABLEDATA_MIME = "application/x-votable+xml;serialization=tabledata"


class RemoteXMLError(ValueError):
    """A document that is not the XML expected."""


def safe_xml(body: bytes, what: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise RemoteXMLError(f"{what} is not well-formed XML ({exc})") from None
    if root.getroottree().docinfo.doctype:
        raise RemoteXMLError(f"{what} declares a DTD (entities are not accepted)")
    return root


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


@dataclass(frozen=True)
class Capabilities:
    has_healpix_udf: bool = False
    maxrec_hard: int | None = None
    binary2: bool = False
    data_models: tuple[str, ...] = ()
    standards: tuple[str, ...] = field(default_factory=tuple)

    @property
    def response_format(self) -> str:
        return BINARY2_MIME if self.binary2 else TABLEDATA_MIME


def _int(text: str | None) -> int | None:
    try:
        return int((text or "").strip())
    except ValueError:
        return None


def read_capabilities(body: bytes) -> Capabilities:
    root = safe_xml(body, "the VOSI capabilities")
    if _local(root.tag) != "capabilities":
        raise RemoteXMLError(f"the VOSI capabilities document's root is <{_local(root.tag)}>, not <capabilities>")
    has_udf = binary2 = False
    hard: int | None = None
    models: list[str] = []
    standards: list[str] = []
    for capability in root.iter():
        if _local(capability.tag) != "capability":
            continue
        standards.append((capability.get("standardID") or "").lower())
        for element in capability.iter():
            name = _local(element.tag)
            if name == "languageFeatures" and (element.get("type") or "").lower() == UDF_FEATURES:
                for form in element.iter():
                    if _local(form.tag) == "form" and (form.text or "").strip().lower().startswith(
                        "ivo_healpix_index("
                    ):
                        has_udf = True
            elif name == "outputFormat" and (element.get("ivo-id") or "").lower() == BINARY2:
                binary2 = True
            elif name == "outputLimit":
                for limit in element:
                    if _local(limit.tag) == "hard" and (limit.get("unit") or "row") == "row":
                        hard = _int(limit.text)
            elif name == "maxRecords":  # SIA's
                hard = hard or _int(element.text)
            elif name == "dataModel" and element.get("ivo-id"):
                models.append(element.get("ivo-id", "").lower())
    return Capabilities(has_udf, hard, binary2, tuple(models), tuple(standards))
