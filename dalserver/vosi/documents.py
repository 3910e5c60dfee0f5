"""VOSI documents (availability, capabilities with TAPRegExt, tableset with VODataService), built
with lxml so that every value is escaped and namespaces are declared once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from adql.features import LANGUAGE_FEATURES
from dalserver.formats.registry import OutputFormat
from ivoa.vocabulary import Namespace, StandardID
from schemas.tableset import Tableset, TapColumn, TapSchema, TapTable

XSI = Namespace.XSI
VOSI_AVAILABILITY = Namespace.VOSI_AVAILABILITY
VOSI_CAPABILITIES = Namespace.VOSI_CAPABILITIES
VOSI_TABLES = Namespace.VOSI_TABLES
VR = Namespace.VR
VS = Namespace.VS
TR = Namespace.TR
# A service's VOSI endpoints as its capabilities list them: (standardID, path under the service).
VOSI_ENDPOINTS = (
    (StandardID.VOSI_CAPABILITIES, "capabilities"),
    (StandardID.VOSI_AVAILABILITY, "availability"),
    (StandardID.VOSI_TABLES, "tables"),
)
# ESA's TAP+ extension: astroquery's TapPlus (load_tables, load_table) reads a column's
# esatapplus:flags attribute and fails without it. VODataService admits attributes of other
# namespaces on a column (BaseParam's anyAttribute) only with their schema, which taplint does not
# fetch (E-TMV-BENV): the attributes go only to TapPlus (tap/vosi.py says how it is told apart).
ESATAPPLUS = "http://esa.int/xml/EsaTapPlus"
_TAPPLUS_FLAGS = (("pos.eq.ra", 1), ("pos.eq.dec", 2), ("phot.flux", 4), ("phot.mag", 8))
_TAPPLUS_INDEXED = 32
ESATAPPLUS_XSD = Path(__file__).parent / "xsd" / "esatapplus.xsd"  # served at /tap/esatapplus.xsd
XML_MEDIA_TYPE = "text/xml"


def _xsi_type(element: etree._Element, value: str) -> None:
    element.set(f"{{{XSI}}}type", value)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str | None) -> etree._Element:
    element = etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def availability(available: bool, notes: str | list[str], up_since: datetime) -> bytes:
    root = etree.Element(f"{{{VOSI_AVAILABILITY}}}availability", nsmap={"vosi": VOSI_AVAILABILITY})
    _sub(root, f"{{{VOSI_AVAILABILITY}}}available", "true" if available else "false")
    _sub(root, f"{{{VOSI_AVAILABILITY}}}upSince", up_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    for note in [notes] if isinstance(notes, str) else notes:
        _sub(root, f"{{{VOSI_AVAILABILITY}}}note", note)
    return _serialise(root)


def vosi_capabilities(root: etree._Element, service_url: str, tables: bool = False, secured: bool = False) -> None:
    """The capabilities of the VOSI endpoints under ``service_url`` (``tables`` too if it has one),
    as /capabilities and the registry records list them. ``secured``: the tables, which show a
    group's tables to its members, list the security methods (capabilities and availability are
    anybody's)."""
    for standard, path in VOSI_ENDPOINTS:
        if path == "tables" and not tables:
            continue
        cap = _sub(root, "capability", standardID=standard)
        iface = _sub(cap, "interface")
        _xsi_type(iface, "vs:ParamHTTP")
        _sub(iface, "accessURL", f"{service_url}/{path}", use="full")
        if secured and path == "tables":
            security_methods(iface)


@dataclass(frozen=True)
class Capability:
    """One standard capability with a ParamHTTP interface."""

    standard_id: str
    access_url: str
    version: str | None = None
    use: str = "full"


def security_methods(iface: etree._Element) -> None:
    """How an interface may be used once the archive has accounts (SSO 2.0 sec. 2.1): anonymously
    (the empty element, which pyvo needs beside the others, TAP 1.1 sec. 2.4), with HTTP Basic,
    or with the session cookie of ``/login``. All on the one URL."""
    _sub(iface, "securityMethod")
    _sub(iface, "securityMethod", standardID=StandardID.SSO_BASIC)
    _sub(iface, "securityMethod", standardID=StandardID.SSO_COOKIE)


def service_capabilities(
    service_url: str, capabilities: list[Capability], examples: bool = False, secured: bool = False
) -> bytes:
    """VOSI capabilities of a DALI service at ``service_url``: its own, then VOSI's, then its DALI
    examples at ``<service_url>/examples`` if it has them. ``secured``: its interfaces list their
    security methods."""
    root = etree.Element(
        f"{{{VOSI_CAPABILITIES}}}capabilities", nsmap={"vosi": VOSI_CAPABILITIES, "xsi": XSI, "vr": VR, "vs": VS}
    )
    for capability in capabilities:
        cap = _sub(root, "capability", standardID=capability.standard_id)
        iface = _sub(cap, "interface", role="std", version=capability.version)
        _xsi_type(iface, "vs:ParamHTTP")
        _sub(iface, "accessURL", capability.access_url, use=capability.use)
        if secured:
            security_methods(iface)
    vosi_capabilities(root, service_url)
    if examples:
        _examples_capability(root, f"{service_url}/examples")
    return _serialise(root)


@dataclass(frozen=True)
class TapLimits:
    maxrec_default: int
    maxrec_hard: int
    execution_default: int  # seconds an async job may run unless it asks otherwise
    execution_hard: int
    retention_default: int  # seconds from a job's creation to its destruction
    retention_hard: int
    upload_bytes: int
    upload_url: bool  # UPLOAD from http(s) URLs allowed


def tap_capabilities(
    base_url: str, output_formats: Sequence[OutputFormat], limits: TapLimits, secured: bool = False
) -> bytes:
    """TAP's capabilities (TAPRegExt): each output format with its MIME type, TAPRegExt ivo-id and
    short name (its first alias), then VOSI's and the DALI examples. ``secured``: the interface
    lists its security methods."""
    root = etree.Element(
        f"{{{VOSI_CAPABILITIES}}}capabilities",
        nsmap={"vosi": VOSI_CAPABILITIES, "xsi": XSI, "vr": VR, "vs": VS, "tr": TR},
    )
    tap = _sub(root, "capability", standardID=StandardID.TAP)
    _xsi_type(tap, "tr:TableAccess")
    iface = _sub(tap, "interface", role="std", version="1.1")
    _xsi_type(iface, "vs:ParamHTTP")
    _sub(iface, "accessURL", f"{base_url}/tap", use="base")
    if secured:
        security_methods(iface)
    _sub(tap, "dataModel", "ObsCore-1.1", **{"ivo-id": StandardID.OBSCORE_1_1})
    lang = _sub(tap, "language")
    _sub(lang, "name", "ADQL")
    _sub(lang, "version", "2.1", **{"ivo-id": StandardID.ADQL_2_1})
    _sub(lang, "version", "2.0", **{"ivo-id": StandardID.ADQL_2_0})
    _sub(lang, "description", "ADQL, translated to PostgreSQL with pgsphere for geometry.")
    for feature_type, features in LANGUAGE_FEATURES.items():
        group = _sub(lang, "languageFeatures", type=feature_type)
        for form, description in features:
            feature = _sub(group, "feature")
            _sub(feature, "form", form)
            if description:
                _sub(feature, "description", description)
    for fmt in output_formats:
        out = _sub(tap, "outputFormat", **({"ivo-id": fmt.ivo_id} if fmt.ivo_id else {}))
        _sub(out, "mime", fmt.mime)
        _sub(out, "alias", fmt.aliases[0])
    _sub(tap, "uploadMethod", **{"ivo-id": StandardID.TAPREGEXT + "upload-inline"})
    if limits.upload_url:
        _sub(tap, "uploadMethod", **{"ivo-id": StandardID.TAPREGEXT + "upload-http"})
        _sub(tap, "uploadMethod", **{"ivo-id": StandardID.TAPREGEXT + "upload-https"})
    retention = _sub(tap, "retentionPeriod")
    _sub(retention, "default", str(limits.retention_default))
    _sub(retention, "hard", str(limits.retention_hard))
    duration = _sub(tap, "executionDuration")
    _sub(duration, "default", str(limits.execution_default))
    _sub(duration, "hard", str(limits.execution_hard))
    limit = _sub(tap, "outputLimit")
    _sub(limit, "default", str(limits.maxrec_default), unit="row")
    _sub(limit, "hard", str(limits.maxrec_hard), unit="row")
    upload = _sub(tap, "uploadLimit")
    _sub(upload, "hard", str(limits.upload_bytes), unit="byte")
    vosi_capabilities(root, f"{base_url}/tap", tables=True, secured=secured)
    _examples_capability(root, f"{base_url}/tap/examples")
    return _serialise(root)


def _examples_capability(root: etree._Element, url: str) -> None:
    # DALI examples are read in a browser (TOPCAT too): a WebBrowser interface.
    examples = _sub(root, "capability", standardID=StandardID.DALI_EXAMPLES)
    iface = _sub(examples, "interface")
    _xsi_type(iface, "vr:WebBrowser")
    _sub(iface, "accessURL", url, use="full")


_TABLES_NSMAP = {"vosi": VOSI_TABLES, "xsi": XSI, "vs": VS}
_TAPPLUS_NSMAP = {**_TABLES_NSMAP, "esatapplus": ESATAPPLUS}


def tapplus_flags(column: TapColumn) -> int:
    """ESA TAP+'s column flags, from the UCD's first word: 1 RA, 2 Dec, 4 flux, 8 magnitude; +32 indexed."""
    primary = (column.ucd or "").lower().split(";")[0].strip()
    flags = next((bit for word, bit in _TAPPLUS_FLAGS if primary == word or primary.startswith(word + ".")), 0)
    return flags | (_TAPPLUS_INDEXED if column.indexed else 0)


def _tables_root(tag: str, esatapplus_xsd: str | None) -> etree._Element:
    if esatapplus_xsd is None:
        return etree.Element(f"{{{VOSI_TABLES}}}{tag}", nsmap=_TABLES_NSMAP)
    root = etree.Element(f"{{{VOSI_TABLES}}}{tag}", nsmap=_TAPPLUS_NSMAP)
    root.set(f"{{{XSI}}}schemaLocation", f"{ESATAPPLUS} {esatapplus_xsd}")
    return root


def tableset(tables: Tableset, detail_min: bool = False, esatapplus_xsd: str | None = None) -> bytes:
    """VODataService tableset from TAP_SCHEMA: schemas with tables with columns and keys.
    With ``esatapplus_xsd`` (where the schema of ESA TAP+'s column attributes is served), every
    column carries its TAP+ flags, for astroquery's TapPlus."""
    root = _tables_root("tableset", esatapplus_xsd)
    for schema in tables.schemas:
        s_el = append_schema(root, schema)
        for table in schema.tables:
            append_table(s_el, table, detail_min, tapplus=esatapplus_xsd is not None)
    return _serialise(root)


def append_schema(parent: etree._Element, schema: TapSchema) -> etree._Element:
    """A tableset's ``schema`` element with the schema's name, description and utype (no tables yet)."""
    s_el = _sub(parent, "schema")
    _sub(s_el, "name", schema.name)
    if schema.description:
        _sub(s_el, "description", schema.description)
    if schema.utype:
        _sub(s_el, "utype", schema.utype)
    return s_el


def single_table(table: TapTable, esatapplus_xsd: str | None = None) -> bytes:
    root = _tables_root("table", esatapplus_xsd)
    _fill_table(root, table, detail_min=False, tapplus=esatapplus_xsd is not None)
    return _serialise(root)


def append_table(parent: etree._Element, table: TapTable, detail_min: bool, tapplus: bool = False) -> None:
    _fill_table(_sub(parent, "table"), table, detail_min, tapplus)


def _fill_table(t_el: etree._Element, table: TapTable, detail_min: bool, tapplus: bool = False) -> None:
    t_el.set("type", table.table_type or "table")
    _sub(t_el, "name", table.name)
    if table.description:
        _sub(t_el, "description", table.description)
    if table.utype:
        _sub(t_el, "utype", table.utype)
    if detail_min:
        return
    for column in table.columns:
        c_el = _sub(t_el, "column")
        if tapplus:
            c_el.set(f"{{{ESATAPPLUS}}}flags", str(tapplus_flags(column)))
        _sub(c_el, "name", column.name)
        for key, value in (
            ("description", column.description),
            ("unit", column.unit),
            ("ucd", column.ucd),
            ("utype", column.utype),
        ):
            if value:
                _sub(c_el, key, value)
        dtype = _sub(c_el, "dataType", column.datatype)
        _xsi_type(dtype, "vs:VOTableType")
        if column.arraysize:
            dtype.set("arraysize", column.arraysize)
        if column.xtype:
            # VODataService 1.1 carries the xtype as extendedType; pyvo rejects a 1.2 <xtype> element.
            dtype.set("extendedType", column.xtype)
        for flag, set_ in (("indexed", column.indexed), ("principal", column.principal), ("std", column.std)):
            if set_:
                _sub(c_el, "flag", flag)
    for foreign in table.foreign_keys:
        k_el = _sub(t_el, "foreignKey")
        _sub(k_el, "targetTable", foreign.target_table)
        for from_column, target_column in foreign.columns:
            fk = _sub(k_el, "fkColumn")
            _sub(fk, "fromColumn", from_column)
            _sub(fk, "targetColumn", target_column)
        if foreign.description:
            _sub(k_el, "description", foreign.description)
