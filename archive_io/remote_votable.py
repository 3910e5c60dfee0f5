"""Reading another service's VOTable answer as untrusted input: the first result table's FIELDs
and rows (TABLEDATA, BINARY or BINARY2), and the ``QUERY_STATUS`` INFOs (OK, OVERFLOW, ERROR).
Shared by the VO crawler and the server's federated image search (its live answers).

The parser is expat with every DTD refused: a document that declares one (and so could define
entities: the "billion laughs", external files) is not read at all. Body size is limited before
this point (by the client that fetched it). A document that is not well-formed, is cut short, or is not a
VOTable raises ``VOTableError`` naming the problem; so does a table whose rows do not match its
FIELDs. Cell values are kept as the document gives them (TABLEDATA text; numbers and text
from the binary serialisations); converting them is ``archive_io.remote_rows``'s job.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

Value = str | int | float | bool | tuple[Any, ...] | None


class VOTableError(ValueError):
    """The answer cannot be read as a VOTable."""


@dataclass(frozen=True)
class Field:
    name: str
    datatype: str
    arraysize: str | None = None
    xtype: str | None = None
    ucd: str | None = None
    null: str | None = None


@dataclass
class Answer:
    fields: list[Field] = field(default_factory=list)
    rows: list[list[Value]] = field(default_factory=list)
    status: str | None = None  # the last QUERY_STATUS value, upper case
    message: str = ""  # the QUERY_STATUS INFO's text (the error message)
    has_table: bool = False

    @property
    def overflow(self) -> bool:
        return self.status == "OVERFLOW"


def _local(name: str) -> str:
    return name.rsplit(" ", 1)[-1]


_SCALARS = {
    "short": (">h", 2),
    "int": (">i", 4),
    "long": (">q", 8),
    "float": (">f", 4),
    "double": (">d", 8),
    "unsignedByte": (">B", 1),
}


Decoder = Callable[[bytes, int], tuple[Value, int]]


def _short(data: bytes, at: int) -> None:
    if at > len(data):
        raise VOTableError("the binary stream ends inside a row")


def _count(f: Field) -> int | None:
    """Elements of a fixed array (None: variable, a count precedes the values)."""
    size = f.arraysize or "1"
    if size.endswith("*"):
        return None
    count = 1
    for part in size.split("x"):
        count *= int(part)
    return count


def _decoder(f: Field, binary2: bool) -> Decoder:
    """A function reading one cell of ``f`` at an offset: (value, next offset)."""
    kind, count = f.datatype, _count(f)
    if kind in ("char", "unicodeChar"):
        width = 2 if kind == "unicodeChar" else 1
        encoding = "utf-16-be" if width == 2 else "utf-8"

        def text(data: bytes, at: int) -> tuple[Value, int]:
            n = count
            if n is None:
                _short(data, at + 4)
                n = int.from_bytes(data[at : at + 4], "big")
                at += 4
            end = at + n * width
            _short(data, end)
            return data[at:end].decode(encoding, errors="replace").split("\x00", 1)[0], end

        return text
    if kind in ("boolean", "bit"):

        def flags(data: bytes, at: int) -> tuple[Value, int]:
            n = count
            if n is None:
                _short(data, at + 4)
                n = int.from_bytes(data[at : at + 4], "big")
                at += 4
            if kind == "bit":
                end = at + (n + 7) // 8
                _short(data, end)
                bits = tuple(bool(data[at + i // 8] & (0x80 >> (i % 8))) for i in range(n))
                return (bits[0] if n == 1 else bits), end
            end = at + n
            _short(data, end)
            values = tuple(
                {84: True, 116: True, 49: True, 70: False, 102: False, 48: False}.get(b) for b in data[at:end]
            )
            return (values[0] if n == 1 else values), end

        return flags
    if kind not in _SCALARS:
        raise VOTableError(f"FIELD {f.name!r}: datatype {kind!r} cannot be read")
    fmt, size = _SCALARS[kind]
    null = int(f.null) if f.null is not None and kind not in ("float", "double") else None
    nan_is_null = not binary2 and kind in ("float", "double")  # BINARY's only float null is NaN
    if count == 1:
        unpack = struct.Struct(fmt).unpack_from

        def scalar(data: bytes, at: int) -> tuple[Value, int]:
            _short(data, at + size)
            value = unpack(data, at)[0]
            if (null is not None and value == null) or (nan_is_null and value != value):
                return None, at + size
            return value, at + size

        return scalar

    def array(data: bytes, at: int) -> tuple[Value, int]:
        n = count
        if n is None:
            _short(data, at + 4)
            n = int.from_bytes(data[at : at + 4], "big")
            at += 4
        end = at + size * n
        _short(data, end)
        values = struct.unpack_from(">" + fmt[1] * n, data, at)
        return tuple(None if (null is not None and v == null) or (nan_is_null and v != v) else v for v in values), end

    return array


class _Binary:
    """Decodes a BINARY or BINARY2 stream into rows once it is complete."""

    def __init__(self, fields: list[Field], binary2: bool):
        self.fields = fields
        self.binary2 = binary2
        self.chunks: list[str] = []

    def rows(self) -> list[list[Value]]:
        try:
            data = base64.b64decode("".join(self.chunks).encode("ascii"), validate=False)
        except (ValueError, UnicodeEncodeError) as exc:
            raise VOTableError(f"the binary stream is not base64 ({exc})") from None
        decoders = [_decoder(f, self.binary2) for f in self.fields]
        nflags = (len(self.fields) + 7) // 8 if self.binary2 else 0
        masks = [(i // 8, 0x80 >> (i % 8)) for i in range(len(self.fields))]
        rows, at, end = [], 0, len(data)
        while at < end:
            flags = data[at : at + nflags]
            if len(flags) < nflags:
                raise VOTableError("the binary stream ends inside a row")
            at += nflags
            row: list[Value] = []
            for decode in decoders:
                value, at = decode(data, at)
                row.append(value)
            if nflags and any(flags):
                for i, (byte, bit) in enumerate(masks):
                    if flags[byte] & bit:
                        row[i] = None
            rows.append(row)
        return rows


def read_votable(body: bytes) -> Answer:
    """The first result table of ``body`` (a VOTable), with its QUERY_STATUS."""
    answer = Answer()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True  # character data in as few pieces as possible (base64 streams are long)
    parser.buffer_size = 1 << 20
    state: dict[str, Any] = {
        "root": None,
        "tables": 0,
        "in_table": False,
        "meta_depth": 0,  # inside a RESOURCE type="meta" (service descriptors): not the result
        "resource_types": [],
        "data": None,
        "binary": None,
        "info": None,
    }
    row: list[Value] = []
    nulls: list[int] = []  # FIELDs with a VALUES null
    cell: list[str] | None = None
    text: list[str] = []

    def refuse(*_: object) -> None:
        raise VOTableError("the document declares a DTD (entities are not accepted)")

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal cell, row, text
        tag = _local(name)
        if state["root"] is None:
            state["root"] = tag
            if tag != "VOTABLE":
                raise VOTableError(f"the document is not a VOTable (its root is <{tag}>)")
        if tag == "RESOURCE":
            state["resource_types"].append((attrs.get("type") or "results").lower())
        elif tag == "TABLE":
            state["tables"] += 1
            in_meta = "meta" in state["resource_types"]
            state["in_table"] = not in_meta and not answer.has_table
            if state["in_table"]:
                answer.has_table = True
        elif tag == "FIELD" and state["in_table"]:
            answer.fields.append(
                Field(
                    attrs.get("name") or attrs.get("ID") or f"col{len(answer.fields) + 1}",
                    attrs.get("datatype", "char"),
                    attrs.get("arraysize"),
                    attrs.get("xtype"),
                    attrs.get("ucd"),
                )
            )
        elif tag == "VALUES" and state["in_table"] and answer.fields and "null" in attrs and state["data"] is None:
            last = answer.fields[-1]
            answer.fields[-1] = Field(last.name, last.datatype, last.arraysize, last.xtype, last.ucd, attrs["null"])
        elif tag == "TABLEDATA" and state["in_table"]:
            state["data"] = "td"
            nulls[:] = [i for i, f in enumerate(answer.fields) if f.null is not None]
        elif tag in ("BINARY", "BINARY2") and state["in_table"]:
            state["data"] = tag
            state["binary"] = _Binary(answer.fields, tag == "BINARY2")
        elif tag == "STREAM" and state["binary"] is not None:
            if attrs.get("href"):
                raise VOTableError("the table's data are in another document (STREAM href)")
            if attrs.get("encoding", "base64") != "base64":
                raise VOTableError(f"STREAM encoding {attrs.get('encoding')!r} cannot be read")
        elif tag == "FITS" and state["in_table"]:
            raise VOTableError("FITS-serialised VOTables are not read")
        elif tag == "TR" and state["data"] == "td":
            row = []
        elif tag == "TD" and state["data"] == "td":
            cell = []
        elif tag == "INFO" and (attrs.get("name") or "").upper() == "QUERY_STATUS":
            answer.status = (attrs.get("value") or "").strip().upper()
            state["info"] = attrs.get("value")
            text = []

    def end(name: str) -> None:
        nonlocal cell
        tag = _local(name)
        if tag == "TD" and cell is not None:
            row.append("".join(cell) if cell else None)
            cell = None
        elif tag == "TR" and state["data"] == "td":
            if len(row) != len(answer.fields):
                raise VOTableError(f"row {len(answer.rows) + 1} has {len(row)} cells for {len(answer.fields)} FIELDs")
            for i in nulls:  # a cell holding its FIELD's VALUES null is null
                value = row[i]
                if isinstance(value, str) and value.strip() == answer.fields[i].null:
                    row[i] = None
            answer.rows.append(row)
        elif tag == "TABLEDATA":
            state["data"] = None
        elif tag in ("BINARY", "BINARY2") and state["binary"] is not None:
            answer.rows.extend(state["binary"].rows())
            state["binary"] = None
            state["data"] = None
        elif tag == "TABLE":
            state["in_table"] = False
        elif tag == "RESOURCE":
            state["resource_types"].pop()
        elif tag == "INFO" and state["info"] is not None:
            answer.message = "".join(text).strip()
            state["info"] = None

    def chars(data: str) -> None:
        if cell is not None:
            cell.append(data)
        elif state["binary"] is not None:
            state["binary"].chunks.append(data.strip())
        elif state["info"] is not None:
            text.append(data)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]  # expat's stub wants a handler returning int; refuse raises instead
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise VOTableError(
            f"not well-formed XML, or cut short ({expat.ErrorString(exc.code)}, line {exc.lineno})"
        ) from None
    except struct.error as exc:
        raise VOTableError(f"the binary stream cannot be decoded ({exc})") from None
    if state["root"] is None:
        raise VOTableError("the answer is empty")
    return answer
