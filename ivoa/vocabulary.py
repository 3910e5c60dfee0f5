"""Standard identifiers, XML namespaces and schema locations of the IVOA (and of OAI-PMH, whose
documents the registry writes), each written once for VOSI, UWS, the VOResource records, OAI-PMH,
the harvester, RegTAP, the service descriptors and TAPRegExt's features and formats.

When IVOA versions a standard (DataLink 1.1 to 1.2, say), the new identifier is written here and
``/capabilities``, the registry record and the descriptors change together. Plain strings (lxml
and psycopg take them as they are); the classes only group them.
"""

from __future__ import annotations

from typing import Final


class StandardID:
    """``capability/@standardID`` and the other ``ivo://ivoa.net/std/`` identifiers."""

    TAP: Final = "ivo://ivoa.net/std/TAP"
    TAP_AUX: Final = "ivo://ivoa.net/std/TAP#aux"  # a table reachable through a TAP service
    SIA2: Final = "ivo://ivoa.net/std/SIA#query-2.0"
    SIA2_AUX: Final = "ivo://ivoa.net/std/SIA#query-aux-2.0"
    SCS: Final = "ivo://ivoa.net/std/ConeSearch"
    DATALINK: Final = "ivo://ivoa.net/std/DataLink#links-1.1"
    SODA_SYNC: Final = "ivo://ivoa.net/std/SODA#sync-1.0"
    OAI_PMH: Final = "ivo://ivoa.net/std/Registry"  # a publishing registry's OAI-PMH interface
    MOC: Final = "ivo://ivoa.net/std/moc"
    HIPS: Final = "ivo://ivoa.net/std/hips#hips-1.0"
    VOSI_CAPABILITIES: Final = "ivo://ivoa.net/std/VOSI#capabilities"
    VOSI_AVAILABILITY: Final = "ivo://ivoa.net/std/VOSI#availability"
    VOSI_TABLES: Final = "ivo://ivoa.net/std/VOSI#tables"
    DALI_EXAMPLES: Final = "ivo://ivoa.net/std/DALI#examples"  # also the examples' RDFa vocabulary
    OBSCORE_1_1: Final = "ivo://ivoa.net/std/ObsCore#core-1.1"
    ADQL_2_0: Final = "ivo://ivoa.net/std/ADQL#v2.0"
    ADQL_2_1: Final = "ivo://ivoa.net/std/ADQL#v2.1"
    # Single Sign-On 2.0 sec. 3.1: an interface's securityMethod; AuthVO's challenges name them too.
    SSO_BASIC: Final = "ivo://ivoa.net/sso#BasicAA"
    SSO_TLS_WITH_PASSWORD: Final = "ivo://ivoa.net/sso#tls-with-password"
    SSO_COOKIE: Final = "ivo://ivoa.net/sso#cookie"
    # TAPRegExt's terms (language features, output formats, upload methods) follow the '#'.
    TAPREGEXT: Final = "ivo://ivoa.net/std/TAPRegExt#"


class Namespace:
    """XML namespaces: the IVOA's, the W3C's (XML Schema, XLink, XHTML), OAI-PMH's and Dublin Core's."""

    XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
    XSD: Final = "http://www.w3.org/2001/XMLSchema"
    XML: Final = "http://www.w3.org/XML/1998/namespace"  # xml:lang
    XLINK: Final = "http://www.w3.org/1999/xlink"
    XHTML: Final = "http://www.w3.org/1999/xhtml"
    VR: Final = "http://www.ivoa.net/xml/VOResource/v1.0"  # VOResource 1.1 keeps the 1.0 namespace
    VS: Final = "http://www.ivoa.net/xml/VODataService/v1.1"  # VODataService 1.2 too
    VS_1_0: Final = "http://www.ivoa.net/xml/VODataService/v1.0"
    TR: Final = "http://www.ivoa.net/xml/TAPRegExt/v1.0"
    RI: Final = "http://www.ivoa.net/xml/RegistryInterface/v1.0"
    VG: Final = "http://www.ivoa.net/xml/VORegistry/v1.0"
    SIA: Final = "http://www.ivoa.net/xml/SIA/v1.1"  # SimpleDALRegExt 1.1's SIA capability
    SIA_1_0: Final = "http://www.ivoa.net/xml/SIA/v1.0"
    CS: Final = "http://www.ivoa.net/xml/ConeSearch/v1.0"
    SSA: Final = "http://www.ivoa.net/xml/SSA/v1.1"
    SSA_1_0: Final = "http://www.ivoa.net/xml/SSA/v1.0"
    SLAP: Final = "http://www.ivoa.net/xml/SLAP/v1.0"
    VSTD: Final = "http://www.ivoa.net/xml/StandardsRegExt/v1.0"
    DOC: Final = "http://www.ivoa.net/xml/DocRegExt/v1.0"
    STC: Final = "http://www.ivoa.net/xml/STC/stc-v1.30.xsd"
    VOSI_AVAILABILITY: Final = "http://www.ivoa.net/xml/VOSIAvailability/v1.0"
    VOSI_CAPABILITIES: Final = "http://www.ivoa.net/xml/VOSICapabilities/v1.0"
    VOSI_TABLES: Final = "http://www.ivoa.net/xml/VOSITables/v1.0"
    UWS: Final = "http://www.ivoa.net/xml/UWS/v1.0"  # UWS 1.1 keeps the 1.0 namespace
    VOTABLE: Final = "http://www.ivoa.net/xml/VOTable/v1.3"  # VOTable 1.4 keeps the 1.3 namespace
    OAI: Final = "http://www.openarchives.org/OAI/2.0/"
    OAI_DC: Final = "http://www.openarchives.org/OAI/2.0/oai_dc/"
    DC: Final = "http://purl.org/dc/elements/1.1/"


class SchemaLocation:
    """Where the schemas of the documents that name theirs (``xsi:schemaLocation``) are."""

    OAI_PMH: Final = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
    OAI_DC: Final = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
    RI: Final = "http://www.ivoa.net/xml/RegistryInterface/RegistryInterface-v1.0.xsd"
    VOTABLE: Final = Namespace.VOTABLE  # the VOTable schema is published under its namespace


XSI_TYPE: Final = f"{{{Namespace.XSI}}}type"  # xsi:type in lxml's {namespace}name spelling

# RegTAP 1.1 sec. 5: xsi:type values and the like are stored with these canonical prefixes,
# whatever prefixes the record itself declares.
CANONICAL_PREFIXES: Final[dict[str, str]] = {
    Namespace.CS: "cs",
    Namespace.DC: "dc",
    Namespace.OAI: "oai",
    Namespace.RI: "ri",
    Namespace.SIA_1_0: "sia",
    Namespace.SIA: "sia",
    Namespace.SLAP: "slap",
    Namespace.SSA_1_0: "ssap",
    Namespace.SSA: "ssap",
    Namespace.TR: "tr",
    Namespace.VG: "vg",
    Namespace.VR: "vr",
    Namespace.VS_1_0: "vs",
    Namespace.VS: "vs",
    Namespace.VSTD: "vstd",
    Namespace.XSI: "xsi",
    Namespace.DOC: "doc",
}
