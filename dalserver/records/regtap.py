"""VOResource records as RegTAP rows, and their loading into the ``rr`` schema: what the server
does with its own records and the harvester with another registry's.

The rules are RegTAP's (sections 4 to 8): whitespace stripped and empty strings made NULL;
IVOIDs, standard ids, types (with the canonical namespace prefixes), roles, UCDs, utypes and the
other columns the standard names lower-cased; multi-valued items hash-joined; deprecated
vocabulary terms (``served-by``, ``creation``...) replaced by the terms the vocabularies say to
use instead; xpath/value pairs for ``rr.res_detail``; the coverage MOC as pgsphere ``smoc``.
A record's rows are replaced as a whole, in one transaction with the rest of a load.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from lxml import etree

from ivoa.vocabulary import CANONICAL_PREFIXES, XSI_TYPE

# VOResource 1.1's vocabularies: deprecated terms and what to use instead (RegTAP sec. 4.5).
RELATIONSHIP_TERMS = {
    "mirror-of": "IsIdenticalTo",
    "service-for": "IsServiceFor",
    "served-by": "IsServedBy",
    "derived-from": "IsDerivedFrom",
    "related-to": "References",
}
DATE_ROLES = {"creation": "Created", "update": "Updated", "representative": "Collected"}
# The xpaths RegTAP's appendix B wants in rr.res_detail, relative to the resource or a capability.
RESOURCE_DETAILS = (
    "facility",
    "instrument",
    "coverage/footprint",
    "coverage/footprint/@ivo-id",
    "managedAuthority",
    "managingOrg",
    "full",
    "format",
    "accessURL",
)
CAPABILITY_DETAILS = (
    "dataModel",
    "dataModel/@ivo-id",
    "language/name",
    "language/version/@ivo-id",
    "outputFormat/mime",
    "outputFormat/@ivo-id",
    "outputFormat/alias",
    "uploadMethod/@ivo-id",
    "executionDuration/default",
    "executionDuration/hard",
    "retentionPeriod/default",
    "retentionPeriod/hard",
    "outputLimit/default",
    "outputLimit/hard",
    "uploadLimit/hard",
    "imageServiceType",
    "maxRecords",
    "maxSR",
    "maxFileSize",
    "verbosity",
    "testQuery/ra",
    "testQuery/dec",
    "testQuery/sr",
    "testQuery/verb",
    "testQuery/extras",
    "interface/securityMethod/@standardID",
    "interface/testQueryString",
)
TABLES = (
    "resource",
    "res_role",
    "res_subject",
    "capability",
    "interface",
    "intf_param",
    "res_schema",
    "res_table",
    "table_column",
    "res_date",
    "res_detail",
    "relationship",
    "validation",
    "alt_identifier",
    "stc_spatial",
)


class RecordError(ValueError):
    """A record that cannot become RegTAP rows (no identifier, a MOC pgsphere refuses...)."""


@dataclass
class Rows:
    """The RegTAP rows of one record, by table."""

    ivoid: str
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t: [] for t in TABLES})

    def add(self, table: str, **values: Any) -> None:
        self.tables[table].append({"ivoid": self.ivoid, **values})


def _clean(value: str | None) -> str | None:
    """RegTAP 4.1/4.2: whitespace stripped (and runs of it made one blank), empty means NULL."""
    if value is None:
        return None
    text = " ".join(value.split())
    return text or None


def _lower(value: str | None) -> str | None:
    cleaned = _clean(value)
    return cleaned.lower() if cleaned is not None else None


def _text(element: etree._Element | None, path: str | None = None) -> str | None:
    if element is None:
        return None
    if path is None:
        return _clean(element.text)
    if "@" in path:
        where, _, attribute = path.rpartition("@")
        found = element.find(where.rstrip("/")) if where.rstrip("/") else element
        return _clean(found.get(attribute)) if found is not None else None
    return _clean(element.findtext(path))


def _all(element: etree._Element, path: str) -> list[str]:
    return [t for t in (_clean(e.text) for e in element.iterfind(path)) if t]


def _values(element: etree._Element, path: str) -> list[str]:
    """Every value at a relative xpath (elements' text, or attributes with ``/@name``)."""
    if "@" in path:
        where, _, attribute = path.rpartition("@")
        where = where.rstrip("/")
        found = element.iterfind(where) if where else [element]
        return [v for v in (_clean(e.get(attribute)) for e in found) if v]
    return _all(element, path)


def _hashed(values: Iterable[str | None], lower: bool = True) -> str | None:
    items = [v.lower() if lower else v for v in values if v]
    return "#".join(items) or None


def canonical_type(element: etree._Element) -> str | None:
    """The element's xsi:type with the canonical prefix (RegTAP sec. 5), lower-cased."""
    value = _clean(element.get(XSI_TYPE))
    if value is None:
        return None
    prefix, _, local = value.rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    canonical = CANONICAL_PREFIXES.get(namespace or "", prefix)
    return f"{canonical}:{local}".lower() if canonical else local.lower()


def _timestamp(value: str | None) -> datetime | None:
    text = _clean(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _flag(value: str | None) -> int | None:
    text = _lower(value)
    if text is None:
        return None
    return 1 if text in ("true", "1") else 0


def rows_of(resource: etree._Element) -> Rows:
    """The RegTAP rows of one ``ri:Resource`` (or any element of type vr:Resource)."""
    ivoid = _lower(resource.findtext("identifier"))
    if not ivoid:
        raise RecordError("the record has no identifier")
    rows = Rows(ivoid)
    content = resource.find("content")
    curation = resource.find("curation")
    coverage = resource.find("coverage")
    rights = resource.find("rights")
    source = content.find("source") if content is not None else None
    creators = curation.findall("creator") if curation is not None else []
    rows.add(
        "resource",
        res_type=canonical_type(resource),
        created=_timestamp(resource.get("created")),
        short_name=_text(resource, "shortName"),
        res_title=_text(resource, "title"),
        updated=_timestamp(resource.get("updated")),
        content_level=_hashed(_all(content, "contentLevel")) if content is not None else None,
        res_description=_text(content, "description"),
        reference_url=_text(content, "referenceURL"),
        creator_seq="; ".join(n for n in (_text(c, "name") for c in creators) if n) or None,
        content_type=_hashed(_all(content, "type")) if content is not None else None,
        source_format=_lower(source.get("format")) if source is not None else None,
        source_value=_text(content, "source"),
        res_version=_text(curation, "version"),
        region_of_regard=_float(_text(coverage, "regionOfRegard")),
        waveband=_hashed(_all(coverage, "waveband")) if coverage is not None else None,
        rights=_text(rights),
        rights_uri=_clean(rights.get("rightsURI")) if rights is not None else None,
    )
    _roles(rows, curation)
    if content is not None:
        for subject in _all(content, "subject"):
            rows.add("res_subject", res_subject=subject)
        for relationship in content.iterfind("relationship"):
            kind = _text(relationship, "relationshipType")
            kind = RELATIONSHIP_TERMS.get(kind or "", kind)
            for related in relationship.iterfind("relatedResource"):
                rows.add(
                    "relationship",
                    relationship_type=_lower(kind),
                    related_id=_lower(related.get("ivo-id")),
                    related_name=_clean(related.text),
                )
    if curation is not None:
        for date in curation.iterfind("date"):
            role = _clean(date.get("role")) or "representative"
            rows.add("res_date", date_value=_timestamp(date.text), value_role=_lower(DATE_ROLES.get(role, role)))
    for alt in (*resource.iterfind("altIdentifier"), *(a for c in creators for a in c.iterfind("altIdentifier"))):
        if _clean(alt.text):
            rows.add("alt_identifier", alt_identifier=_clean(alt.text))
    for validation in resource.iterfind("validationLevel"):
        rows.add(
            "validation",
            validated_by=_lower(validation.get("validatedBy")),
            val_level=_int(validation.text),
            cap_index=None,
        )
    _capabilities(rows, resource)
    _tables(rows, resource)
    for path in RESOURCE_DETAILS:
        for value in _values(resource, path):
            rows.add("res_detail", cap_index=None, detail_xpath=f"/{path}", detail_value=value)
    spatial = coverage.find("spatial") if coverage is not None else None
    if spatial is not None and (text := _text(spatial)):
        rows.add("stc_spatial", coverage=text, ref_system_name=_clean(spatial.get("frame")))
    return rows


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _int(text: str | None) -> int | None:
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def _roles(rows: Rows, curation: etree._Element | None) -> None:
    if curation is None:
        return
    for publisher in curation.iterfind("publisher"):
        rows.add("res_role", **_role("publisher", _clean(publisher.text), publisher.get("ivo-id")))
    for creator in curation.iterfind("creator"):
        name = creator.find("name")
        ivo_id = (name.get("ivo-id") if name is not None else None) or creator.get("ivo-id")
        rows.add("res_role", **_role("creator", _text(creator, "name"), ivo_id, logo=_text(creator, "logo")))
    for contributor in curation.iterfind("contributor"):
        rows.add("res_role", **_role("contributor", _clean(contributor.text), contributor.get("ivo-id")))
    for contact in curation.iterfind("contact"):
        name = contact.find("name")
        ivo_id = (name.get("ivo-id") if name is not None else None) or contact.get("ivo-id")
        rows.add(
            "res_role",
            **_role(
                "contact",
                _text(contact, "name"),
                ivo_id,
                street_address=_text(contact, "address"),
                email=_text(contact, "email"),
                telephone=_text(contact, "telephone"),
            ),
        )


def _role(base: str, name: str | None, ivo_id: str | None, **more: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {"street_address": None, "email": None, "telephone": None, "logo": None}
    values.update(more)
    return {"role_name": name, "role_ivoid": _lower(ivo_id), "base_role": base, **values}


def _capabilities(rows: Rows, resource: etree._Element) -> None:
    interface_index = 0
    for cap_index, capability in enumerate(resource.iterfind("capability"), start=1):
        rows.add(
            "capability",
            cap_index=cap_index,
            cap_type=canonical_type(capability),
            cap_description=_text(capability, "description"),
            standard_id=_lower(capability.get("standardID")),
        )
        for interface in capability.iterfind("interface"):
            interface_index += 1
            urls = interface.findall("accessURL")
            rows.add(
                "interface",
                cap_index=cap_index,
                intf_index=interface_index,
                intf_type=canonical_type(interface),
                intf_role=_lower(interface.get("role")),
                std_version=_lower(interface.get("version")),
                query_type=_hashed(_all(interface, "queryType")),
                result_type=_lower(interface.findtext("resultType")),
                wsdl_url=_text(interface, "wsdlURL"),
                url_use=_lower(urls[0].get("use")) if urls else None,
                access_url=_clean(urls[0].text) if urls else None,
                mirror_url=_hashed(_all(interface, "mirrorURL"), lower=False),
                authenticated_only=1 if interface.find("securityMethod") is not None else 0,
            )
            for param in interface.iterfind("param"):
                datatype = param.find("dataType")
                rows.add(
                    "intf_param",
                    intf_index=interface_index,
                    name=_text(param, "name"),
                    ucd=_lower(param.findtext("ucd")),
                    unit=_text(param, "unit"),
                    utype=_lower(param.findtext("utype")),
                    std=_flag(param.get("std")),
                    datatype=_lower(datatype.text) if datatype is not None else None,
                    extended_schema=_clean(datatype.get("extendedSchema")) if datatype is not None else None,
                    extended_type=_clean(datatype.get("extendedType")) if datatype is not None else None,
                    arraysize=_clean(datatype.get("arraysize")) if datatype is not None else None,
                    delim=datatype.get("delim") if datatype is not None else None,
                    param_use=_lower(param.get("use")),
                    param_description=_text(param, "description"),
                )
        for validation in capability.iterfind("validationLevel"):
            rows.add(
                "validation",
                validated_by=_lower(validation.get("validatedBy")),
                val_level=_int(validation.text),
                cap_index=cap_index,
            )
        for path in CAPABILITY_DETAILS:
            for value in _values(capability, path):
                rows.add("res_detail", cap_index=cap_index, detail_xpath=f"/capability/{path}", detail_value=value)


def _tables(rows: Rows, resource: etree._Element) -> None:
    table_index = 0

    def add_table(table: etree._Element, schema_index: int | None) -> None:
        nonlocal table_index
        table_index += 1
        rows.add(
            "res_table",
            schema_index=schema_index,
            table_description=_text(table, "description"),
            table_name=_text(table, "name"),
            table_index=table_index,
            table_title=_text(table, "title"),
            table_type=_lower(table.get("type")),
            table_utype=_lower(table.findtext("utype")),
        )
        for column in table.iterfind("column"):
            datatype = column.find("dataType")
            rows.add(
                "table_column",
                table_index=table_index,
                name=_lower(column.findtext("name")),
                ucd=_lower(column.findtext("ucd")),
                unit=_text(column, "unit"),
                utype=_lower(column.findtext("utype")),
                std=_flag(column.get("std")),
                datatype=_lower(datatype.text) if datatype is not None else None,
                extended_schema=_clean(datatype.get("extendedSchema")) if datatype is not None else None,
                extended_type=_clean(datatype.get("extendedType")) if datatype is not None else None,
                arraysize=_clean(datatype.get("arraysize")) if datatype is not None else None,
                delim=datatype.get("delim") if datatype is not None else None,
                type_system=canonical_type(datatype) if datatype is not None else None,
                flag=_hashed(_all(column, "flag")),
                column_description=_text(column, "description"),
            )

    tableset = resource.find("tableset")
    if tableset is not None:
        for schema_index, schema in enumerate(tableset.iterfind("schema"), start=1):
            rows.add(
                "res_schema",
                schema_index=schema_index,
                schema_description=_text(schema, "description"),
                schema_name=_lower(schema.findtext("name")),
                schema_title=_text(schema, "title"),
                schema_utype=_lower(schema.findtext("utype")),
            )
            for table in schema.iterfind("table"):
                add_table(table, schema_index)
    for table in resource.iterfind("table"):
        add_table(table, None)


# --- loading ---------------------------------------------------------------------------------------
def delete_record(cur: psycopg.Cursor[Any], ivoid: str) -> None:
    """Remove every row of one record (RegTAP keeps only active records)."""
    for table in TABLES:
        cur.execute(f"DELETE FROM rr.{table} WHERE ivoid = %s", (ivoid.lower(),))
    cur.execute("DELETE FROM registry.rr_origin WHERE ivoid = %s", (ivoid.lower(),))


def write_record(
    cur: psycopg.Cursor[Any], rows: Rows, origin: str, datestamp: datetime, digest: str | None = None
) -> None:
    """Replace one record's rows; a MOC pgsphere cannot read fails this record (as RecordError),
    leaving the transaction usable for the others."""
    owner = cur.execute("SELECT origin FROM registry.rr_origin WHERE ivoid = %s", (rows.ivoid,)).fetchone()
    if owner is not None and owner[0] != origin and origin != "local" and owner[0] == "local":
        raise RecordError(f"{rows.ivoid} is one of this archive's own records; a harvest does not replace it")
    cur.execute("SAVEPOINT regtap_record")
    try:
        delete_record(cur, rows.ivoid)
        for table in TABLES:
            records = rows.tables[table]
            if not records:
                continue
            names = list(records[0])
            placeholders = ", ".join("CAST(%s AS smoc)" if n == "coverage" else "%s" for n in names)
            cur.executemany(
                f"INSERT INTO rr.{table} ({', '.join(names)}) VALUES ({placeholders})",
                [tuple(r[n] for n in names) for r in records],
            )
        cur.execute(
            "INSERT INTO registry.rr_origin (ivoid, origin, datestamp, digest) VALUES (%s, %s, %s, %s)",
            (rows.ivoid, origin, datestamp, digest),
        )
    except psycopg.errors.DataError as exc:
        cur.execute("ROLLBACK TO SAVEPOINT regtap_record")
        raise RecordError(f"{rows.ivoid}: {exc.diag.message_primary or exc}") from None
    except psycopg.errors.InternalError as exc:  # pgsphere reports an unreadable MOC as XX000
        cur.execute("ROLLBACK TO SAVEPOINT regtap_record")
        raise RecordError(f"{rows.ivoid}: {exc.diag.message_primary or exc}") from None
    cur.execute("RELEASE SAVEPOINT regtap_record")


def record_digest(resource: etree._Element) -> str:
    return hashlib.sha1(etree.tostring(resource, method="c14n")).hexdigest()


def sync_local(conn: psycopg.Connection, records: Iterable[tuple[str, datetime, etree._Element | None]]) -> int:
    """Make rr hold exactly these (this archive's own) records: (ivoid, datestamp, resource or
    None for a deleted one). A record whose content has not changed is left alone. In one
    transaction; how many records were written or removed."""
    changed = 0
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('dalserver.regtap'))")
        known: dict[str, str] = dict(
            cur.execute("SELECT ivoid, digest FROM registry.rr_origin WHERE origin = 'local'").fetchall()
        )
        wanted = set()
        for ivoid, datestamp, resource in records:
            if resource is None:
                continue
            key = ivoid.lower()
            wanted.add(key)
            digest = record_digest(resource)
            if known.get(key) == digest:
                continue
            write_record(cur, rows_of(resource), "local", datestamp, digest)
            changed += 1
        for key in set(known) - wanted:
            delete_record(cur, key)
            changed += 1
    return changed
