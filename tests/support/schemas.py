"""The IVOA XML schemas STILTS ships, compiled with lxml for offline validation."""

from __future__ import annotations

import glob
import zipfile
from pathlib import Path

from lxml import etree

from dalserver.records.validation import DEFAULT_SCHEMA_DIR, SCHEMA_FILES
from dalserver.vosi.documents import ESATAPPLUS, ESATAPPLUS_XSD

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
                imported.set("schemaLocation", _STILTS_SCHEMAS[imported.get("namespace", "")])
            (tmp / name).write_bytes(etree.tostring(tree))
    # The schema the tables documents name (xsi:schemaLocation) for ESA TAP+'s column attributes,
    # which VODataService admits only when declared.
    (tmp / "esatapplus.xsd").write_bytes(ESATAPPLUS_XSD.read_bytes())
    located = {**_STILTS_SCHEMAS, ESATAPPLUS: "esatapplus.xsd"}
    imports = "".join(
        f'<xs:import namespace="{namespace}" schemaLocation="{name}"/>' for namespace, name in located.items()
    )
    (tmp / "all.xsd").write_text(f'<xs:schema xmlns:xs="{_XSD}">{imports}</xs:schema>')
    return etree.XMLSchema(etree.parse(str(tmp / "all.xsd")))


def votable_schema() -> etree.XMLSchema:
    """The VOTable 1.4 schema STILTS ships (in starlink-util), which needs no other file."""
    jars = sorted(glob.glob("/usr/share/java/starlink-util*.jar"))
    assert jars, "Debian's stilts package (starlink-util) is not installed"
    with zipfile.ZipFile(jars[0]) as jar:
        return etree.XMLSchema(etree.fromstring(jar.read("uk/ac/starlink/util/text/VOTable1.4.xsd")))


def schema_errors(schema: etree.XMLSchema, document: bytes | etree._Element) -> str:
    """What ``schema`` finds wrong with ``document``, one line per error ('' when valid)."""
    tree = etree.fromstring(document) if isinstance(document, bytes) else document
    if schema.validate(tree):
        return ""
    return "\n".join(f"{e.line}: {e.message}" for e in schema.error_log)


# The registry's schemas (OAI-PMH, Dublin Core, RegistryInterface, VORegistry, SimpleDALRegExt's
# SIA and ConeSearch, and VOResource/VODataService 1.2/TAPRegExt again) as Debian's python3-gavo
# (DaCHS) ships them; STILTS has no OAI-PMH or VORegistry schema.
DACHS_SCHEMATA = DEFAULT_SCHEMA_DIR
# The schemas harvested records are checked against (dalserver.records.validation), and OAI-PMH's.
_DACHS_SCHEMAS = {
    **SCHEMA_FILES,
    "http://www.openarchives.org/OAI/2.0/": "OAI-PMH.xsd",
    "http://purl.org/dc/elements/1.1/": "simpledc20021212.xsd",
    "http://www.openarchives.org/OAI/2.0/oai_dc/": "oai_dc.xsd",
}


def registry_schemas(tmp: Path) -> etree.XMLSchema:
    """One schema for OAI-PMH responses carrying VOResource records (ivo_vor) or Dublin Core
    (oai_dc), with every import pointed at the local copies: validating needs no network."""
    assert DACHS_SCHEMATA.is_dir(), "Debian's python3-gavo package (DaCHS's schemata) is not installed"
    for name in _DACHS_SCHEMAS.values():
        tree = etree.parse(str(DACHS_SCHEMATA / name)).getroot()
        for imported in tree.iter(f"{{{_XSD}}}import"):
            imported.set("schemaLocation", _DACHS_SCHEMAS[imported.get("namespace", "")])
        (tmp / name).write_bytes(etree.tostring(tree))
    imports = "".join(
        f'<xs:import namespace="{namespace}" schemaLocation="{name}"/>' for namespace, name in _DACHS_SCHEMAS.items()
    )
    (tmp / "registry-all.xsd").write_text(f'<xs:schema xmlns:xs="{_XSD}">{imports}</xs:schema>')
    return etree.XMLSchema(etree.parse(str(tmp / "registry-all.xsd")))
