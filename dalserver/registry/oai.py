"""OAI-PMH 2.0 as IVOA Registry Interfaces 1.1 uses it: the six verbs over this archive's records,
the ``ivo_vor`` (VOResource) and ``oai_dc`` (Dublin Core) formats, the ``ivo_managed`` set,
second granularity, resumption tokens, and the protocol's error codes. Pure: arguments and
records in, the response document out (``dalserver/registry/routes.py`` serves it).

Resumption tokens carry the whole request (verb, format, set, from, until) and the harvesting
order's key (datestamp, identifier) of the last record sent, not a position: the ``until`` of a
list is fixed when its first page is made, and a record that changes during the harvest leaves
its place in the order without moving the others, so every record unchanged meanwhile is sent
exactly once (OAI-PMH 2.0 section 3.5.1); the changed one comes with the next harvest.

Dates (sections 2.7.1 and 3.3.1): ``from`` and ``until`` are inclusive, of day or second
granularity (the same for both), and ``from`` later than ``until`` is a ``badArgument``. A
``from`` later than every datestamp (a harvester whose clock runs ahead of ours) is a legal
request whose list is empty: ``noRecordsMatch``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from lxml import etree

from dalserver.records.build import Record
from ivoa.vocabulary import Namespace, SchemaLocation

OAI = Namespace.OAI
OAI_DC = Namespace.OAI_DC
DC = Namespace.DC
RI = Namespace.RI
XSI = Namespace.XSI
MEDIA_TYPE = "text/xml; charset=utf-8"
MANAGED_SET = "ivo_managed"
FORMATS = {  # prefix: (schema, namespace)
    "ivo_vor": (SchemaLocation.RI, RI),
    "oai_dc": (SchemaLocation.OAI_DC, OAI_DC),
}
_VERBS = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), set()),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set"}),
}
_DAY = "%Y-%m-%d"
_SECOND = "%Y-%m-%dT%H:%M:%SZ"


class OAIErrorCode(StrEnum):
    """OAI-PMH 2.0's error codes (section 3.6), as the ``error`` element's ``code`` spells them."""

    BAD_ARGUMENT = "badArgument"
    BAD_RESUMPTION_TOKEN = "badResumptionToken"
    BAD_VERB = "badVerb"
    CANNOT_DISSEMINATE_FORMAT = "cannotDisseminateFormat"
    ID_DOES_NOT_EXIST = "idDoesNotExist"
    NO_RECORDS_MATCH = "noRecordsMatch"
    NO_METADATA_FORMATS = "noMetadataFormats"
    NO_SET_HIERARCHY = "noSetHierarchy"


class OAIError(Exception):
    """One of OAI-PMH's error conditions (section 3.6)."""

    def __init__(self, code: OAIErrorCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Repository:
    """What Identify says about this registry besides its records."""

    name: str
    base_url: str  # the /oai URL
    admin_email: str
    registry_record: Record  # the vg:Registry record, carried in Identify's description


@dataclass(frozen=True)
class ListRequest:
    verb: str
    prefix: str
    from_: datetime | None
    until: datetime  # fixed at the first page
    set_: str | None
    after: tuple[datetime, str] | None = None  # the harvesting-order key of the last record sent
    sent: int = 0  # how many records the earlier pages held (the next page's cursor)

    def token(self, last: tuple[datetime, str], sent: int) -> str:
        data = {
            "v": self.verb,
            "p": self.prefix,
            "f": _stamp(self.from_) if self.from_ else None,
            "u": _stamp(self.until),
            "s": self.set_,
            "a": [_stamp(last[0]), last[1]],
            "c": sent,
        }
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def from_token(cls, verb: str, token: str) -> ListRequest:
        try:
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            stamp, ivoid = data["a"]
            request = cls(
                verb=data["v"],
                prefix=data["p"],
                from_=_parse_stamp(data["f"]) if data["f"] else None,
                until=_parse_stamp(data["u"]),
                set_=data["s"],
                after=(_parse_stamp(stamp), str(ivoid)),
                sent=int(data["c"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, UnicodeDecodeError):
            raise OAIError(
                OAIErrorCode.BAD_RESUMPTION_TOKEN, f"the resumptionToken {token!r} is not one this registry issued"
            ) from None
        if request.verb != verb or request.prefix not in FORMATS or request.sent < 0:
            raise OAIError(
                OAIErrorCode.BAD_RESUMPTION_TOKEN, f"the resumptionToken {token!r} does not belong to {verb}"
            )
        return request

    def selects(self, record: Record) -> bool:
        """Whether the record is in this list and not on an earlier page."""
        if self.from_ is not None and record.datestamp < self.from_:
            return False
        return record.datestamp <= self.until and (self.after is None or _order(record) > self.after)


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime(_SECOND)


def _parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, _SECOND).replace(tzinfo=UTC)


def _order(record: Record) -> tuple[datetime, str]:
    """The harvesting order: by datestamp, then identifier (unique), so a key names one place."""
    return record.datestamp, record.ivoid


# ISO 8601's complete forms only: strptime alone would also take 2025-1-1 and T1:2:3Z.
_DATE_SYNTAX = {
    "second": (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"), _SECOND),
    "day": (re.compile(r"\d{4}-\d{2}-\d{2}"), _DAY),
}


def _date_argument(name: str, text: str, end_of_day: bool) -> tuple[datetime, str]:
    """An OAI date (day or second granularity, UTC) and which granularity it has; a day as
    ``until`` means its last second, so both ends of a range are inclusive."""
    for granularity, (syntax, fmt) in _DATE_SYNTAX.items():
        if not syntax.fullmatch(text):
            continue
        try:
            value = datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            break  # the right shape but no such date (2025-02-30, 25:00:00)
        if granularity == "day" and end_of_day:
            value = value.replace(hour=23, minute=59, second=59)
        return value, granularity
    raise OAIError(
        OAIErrorCode.BAD_ARGUMENT,
        f"{name}={text!r} is not a UTC date of this registry's granularities: write YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ",
    )


def check_arguments(args: Mapping[str, Sequence[str]]) -> tuple[str, dict[str, str]]:
    """The verb and its arguments, each given once and allowed for that verb."""
    verbs = args.get("verb", [])
    if len(verbs) != 1:
        raise OAIError(OAIErrorCode.BAD_VERB, "give exactly one verb" if verbs else "the request has no verb argument")
    verb = verbs[0]
    if verb not in _VERBS:
        raise OAIError(OAIErrorCode.BAD_VERB, f"{verb!r} is not an OAI-PMH verb; use one of {', '.join(_VERBS)}")
    required, optional = _VERBS[verb]
    allowed = (
        required | optional | ({"resumptionToken"} if verb in ("ListIdentifiers", "ListRecords", "ListSets") else set())
    )
    given: dict[str, str] = {}
    for name, values in args.items():
        if name == "verb":
            continue
        if name not in allowed:
            raise OAIError(OAIErrorCode.BAD_ARGUMENT, f"{verb} takes no argument {name!r}")
        if len(values) != 1:
            raise OAIError(OAIErrorCode.BAD_ARGUMENT, f"the argument {name} is given {len(values)} times")
        given[name] = values[0]
    if "resumptionToken" in given:
        if len(given) > 1:
            raise OAIError(
                OAIErrorCode.BAD_ARGUMENT, "resumptionToken is an exclusive argument: send it alone with the verb"
            )
        return verb, given
    missing = sorted(required - set(given))
    if missing:
        raise OAIError(
            OAIErrorCode.BAD_ARGUMENT,
            f"{verb} needs the argument{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
        )
    return verb, given


class Responder:
    """The OAI-PMH answers over one set of records."""

    def __init__(self, repository: Repository, records: list[Record], page_size: int, now: datetime | None = None):
        self.repository = repository
        # the harvesting order (_order), in which a resumption token names the last record sent
        self.records = sorted(records, key=_order)
        self.page_size = max(1, page_size)
        self.now = (now or datetime.now(UTC)).replace(microsecond=0)

    def respond(self, args: Mapping[str, Sequence[str]]) -> bytes:
        root, request = self._envelope()
        try:
            verb, given = check_arguments(args)
            request.set("verb", verb)
            for name, value in given.items():
                request.set(name, value)
            body = getattr(self, f"_{verb}")(given)
        except OAIError as exc:
            if exc.code in (OAIErrorCode.BAD_VERB, OAIErrorCode.BAD_ARGUMENT):
                request.attrib.clear()  # OAI-PMH 3.6: the request element then carries the base URL only
            error = etree.SubElement(root, f"{{{OAI}}}error", code=exc.code)
            error.text = exc.message
            return _serialise(root)
        root.append(body)
        return _serialise(root)

    def _envelope(self) -> tuple[etree._Element, etree._Element]:
        # A prefix, not the default namespace: the records inside are unqualified (VOResource).
        root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={"oai": OAI, "xsi": XSI})
        root.set(f"{{{XSI}}}schemaLocation", f"{OAI} {SchemaLocation.OAI_PMH}")
        _text(root, "responseDate", _stamp(self.now))
        request = _text(root, "request", self.repository.base_url)
        return root, request

    # --- the verbs ---------------------------------------------------------------------------------
    def _Identify(self, args: dict[str, str]) -> etree._Element:
        identify = etree.Element(f"{{{OAI}}}Identify")
        repo = self.repository
        _text(identify, "repositoryName", repo.name)
        _text(identify, "baseURL", repo.base_url)
        _text(identify, "protocolVersion", "2.0")
        _text(identify, "adminEmail", repo.admin_email)
        earliest = min((r.datestamp for r in self.records), default=self.now)
        _text(identify, "earliestDatestamp", _stamp(earliest))
        _text(identify, "deletedRecord", "persistent")  # a dropped catalogue's record stays, deleted
        _text(identify, "granularity", "YYYY-MM-DDThh:mm:ssZ")
        description = _text(identify, "description")
        assert repo.registry_record.resource is not None
        description.append(_copy(repo.registry_record.resource))
        return identify

    def _ListMetadataFormats(self, args: dict[str, str]) -> etree._Element:
        if "identifier" in args:
            self._find(args["identifier"])
        formats = etree.Element(f"{{{OAI}}}ListMetadataFormats")
        for prefix, (schema, namespace) in FORMATS.items():
            fmt = _text(formats, "metadataFormat")
            _text(fmt, "metadataPrefix", prefix)
            _text(fmt, "schema", schema)
            _text(fmt, "metadataNamespace", namespace)
        return formats

    def _ListSets(self, args: dict[str, str]) -> etree._Element:
        if "resumptionToken" in args:
            raise OAIError(
                OAIErrorCode.BAD_RESUMPTION_TOKEN,
                "ListSets is answered in one response; it issues no resumption tokens",
            )
        sets = etree.Element(f"{{{OAI}}}ListSets")
        managed = _text(sets, "set")
        _text(managed, "setSpec", MANAGED_SET)
        _text(managed, "setName", "Resources managed by this publishing registry (IVOA Registry Interfaces 1.1)")
        return sets

    def _GetRecord(self, args: dict[str, str]) -> etree._Element:
        prefix = self._prefix(args["metadataPrefix"])
        answer = etree.Element(f"{{{OAI}}}GetRecord")
        answer.append(self._record(self._find(args["identifier"]), prefix))
        return answer

    def _ListIdentifiers(self, args: dict[str, str]) -> etree._Element:
        return self._list("ListIdentifiers", args)

    def _ListRecords(self, args: dict[str, str]) -> etree._Element:
        return self._list("ListRecords", args)

    # --- helpers -------------------------------------------------------------------------------
    def _list(self, verb: str, args: dict[str, str]) -> etree._Element:
        request = self._list_request(verb, args)
        rest = [r for r in self.records if request.selects(r)]
        if not rest:
            # On a later page this happens only when every record still to send changed meanwhile
            # (they come with the next harvest); a list element without records is not OAI-PMH.
            raise OAIError(
                OAIErrorCode.NO_RECORDS_MATCH, "no record of this registry has a datestamp in the range asked for"
            )
        page = rest[: self.page_size]
        answer = etree.Element(f"{{{OAI}}}{verb}")
        for record in page:
            answer.append(self._header(record) if verb == "ListIdentifiers" else self._record(record, request.prefix))
        sent = request.sent + len(page)
        if len(page) < len(rest) or request.sent > 0:
            # the last page of a list carries an empty token (section 3.5)
            token = _text(
                answer, "resumptionToken", request.token(_order(page[-1]), sent) if len(page) < len(rest) else None
            )
            token.set("completeListSize", str(request.sent + len(rest)))
            token.set("cursor", str(request.sent))
        return answer

    def _list_request(self, verb: str, args: dict[str, str]) -> ListRequest:
        if "resumptionToken" in args:
            return ListRequest.from_token(verb, args["resumptionToken"])
        prefix = self._prefix(args["metadataPrefix"])
        set_ = args.get("set")
        if set_ is not None and set_ != MANAGED_SET:
            raise OAIError(
                OAIErrorCode.NO_RECORDS_MATCH, f"this registry has no set {set_!r}; its one set is {MANAGED_SET}"
            )
        from_ = until = None
        granularities = []
        if "from" in args:
            from_, g = _date_argument("from", args["from"], end_of_day=False)
            granularities.append(g)
        if "until" in args:
            until, g = _date_argument("until", args["until"], end_of_day=True)
            granularities.append(g)
        if len(set(granularities)) > 1:
            raise OAIError(OAIErrorCode.BAD_ARGUMENT, "from and until must have the same granularity")
        if from_ is not None and until is not None and from_ > until:
            raise OAIError(OAIErrorCode.BAD_ARGUMENT, f"from ({args['from']}) is later than until ({args['until']})")
        # Without until the list ends now; a from after now is legal and its list is empty.
        return ListRequest(verb, prefix, from_, until or self.now, set_)

    def _prefix(self, prefix: str) -> str:
        if prefix not in FORMATS:
            raise OAIError(
                OAIErrorCode.CANNOT_DISSEMINATE_FORMAT,
                f"metadataPrefix {prefix!r} is not offered; use ivo_vor (VOResource) or oai_dc (Dublin Core)",
            )
        return prefix

    def _find(self, identifier: str) -> Record:
        wanted = identifier.strip().lower()  # IVOIDs compare case-insensitively
        for record in self.records:
            if record.ivoid.lower() == wanted:
                return record
        raise OAIError(OAIErrorCode.ID_DOES_NOT_EXIST, f"this registry has no record {identifier!r}")

    def _header(self, record: Record) -> etree._Element:
        header = etree.Element(f"{{{OAI}}}header")
        if record.deleted:
            header.set("status", "deleted")
        _text(header, "identifier", record.ivoid)
        _text(header, "datestamp", _stamp(record.datestamp))
        _text(header, "setSpec", MANAGED_SET)
        return header

    def _record(self, record: Record, prefix: str) -> etree._Element:
        element = etree.Element(f"{{{OAI}}}record")
        element.append(self._header(record))
        if record.resource is not None:
            metadata = _text(element, "metadata")
            metadata.append(_copy(record.resource) if prefix == "ivo_vor" else dublin_core(record))
        return element


def dublin_core(record: Record) -> etree._Element:
    """The record's essentials as unqualified Dublin Core (OAI-PMH's mandatory format)."""
    resource = record.resource
    assert resource is not None
    dc = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    dc.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} {SchemaLocation.OAI_DC}")

    def put(tag: str, value: str | None) -> None:
        if value:
            etree.SubElement(dc, f"{{{DC}}}{tag}").text = value

    put("title", resource.findtext("title"))
    for creator in resource.iterfind("curation/creator/name"):
        put("creator", creator.text)
    for subject in resource.iterfind("content/subject"):
        put("subject", subject.text)
    put("description", resource.findtext("content/description"))
    put("publisher", resource.findtext("curation/publisher"))
    put("date", resource.get("updated"))
    put("type", resource.findtext("content/type"))
    put("identifier", record.ivoid)
    put("identifier", resource.findtext("content/referenceURL"))
    put("rights", resource.findtext("rights"))
    return dc


def _text(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{OAI}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _copy(element: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(element))


def _serialise(root: etree._Element) -> bytes:
    etree.indent(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
