"""Schema validation of VOResource records another registry sends us: against the IVOA schemas
(VOResource 1.1, VODataService 1.2, VORegistry, TAPRegExt, SimpleDALRegExt) where a copy is on
this machine (Debian's python3-gavo ships them; DALSERVER_REGISTRY_SCHEMA_DIR names another
folder of the same files), otherwise the parts of VOResource every record must have."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from lxml import etree

from ivoa.vocabulary import Namespace

XSD = Namespace.XSD
DEFAULT_SCHEMA_DIR = Path("/usr/lib/python3/dist-packages/gavo/resources/schemata")
SCHEMA_FILES = {
    Namespace.XML: "xml.xsd",
    Namespace.XLINK: "xlink.xsd",
    Namespace.STC: "stc.xsd",
    Namespace.VR: "VOResource.xsd",
    Namespace.VS: "VODataService.xsd",
    Namespace.TR: "TAPRegExt.xsd",
    Namespace.VG: "VORegistry.xsd",
    Namespace.RI: "RegistryInterface.xsd",
    Namespace.SIA: "SIA.xsd",
    Namespace.CS: "ConeSearch.xsd",
    Namespace.VSTD: "StandardsRegExt.xsd",
    Namespace.SSA: "SSA.xsd",
    Namespace.SLAP: "SLAP.xsd",
    Namespace.DOC: "DocRegExt.xsd",
}
# What a record cannot do without (VOResource 1.1's minOccurs=1 parts).
_REQUIRED = ("title", "identifier", "curation/publisher", "content/description", "content/referenceURL")


class RecordValidator:
    """Says what is wrong with a record ('' when nothing)."""

    def __init__(self, schema_dir: Path | None = None):
        self.schema = _compiled(str(schema_dir or DEFAULT_SCHEMA_DIR))

    @property
    def full(self) -> bool:
        """Whether records are checked against the XML schemas (else only VOResource's essentials)."""
        return self.schema is not None

    def problems(self, resource: etree._Element) -> str:
        if self.schema is not None:
            if self.schema.validate(resource):
                return ""
            return "; ".join(f"line {e.line}: {e.message}" for e in list(self.schema.error_log)[:3])
        missing = [p for p in _REQUIRED if not (resource.findtext(p) or "").strip()]
        missing += [f"@{a}" for a in ("created", "updated", "status") if not resource.get(a)]
        return f"missing {', '.join(missing)}" if missing else ""


@cache
def _compiled(directory: str) -> etree.XMLSchema | None:
    folder = Path(directory)
    present = {ns: name for ns, name in SCHEMA_FILES.items() if (folder / name).is_file()}
    if Namespace.RI not in present:
        return None
    tmp = Path(tempfile.mkdtemp(prefix="dalserver-xsd-"))
    for name in present.values():
        tree = etree.parse(str(folder / name)).getroot()
        for imported in tree.iter(f"{{{XSD}}}import"):
            target = present.get(imported.get("namespace") or "")
            if target is not None:
                imported.set("schemaLocation", target)
        (tmp / name).write_bytes(etree.tostring(tree))
    imports = "".join(f'<xs:import namespace="{ns}" schemaLocation="{name}"/>' for ns, name in present.items())
    (tmp / "all.xsd").write_text(f'<xs:schema xmlns:xs="{XSD}">{imports}</xs:schema>')
    return etree.XMLSchema(etree.parse(str(tmp / "all.xsd")))
