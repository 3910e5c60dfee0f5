"""Stream a TABLEDATA VOTable with expat: FIELD metadata first, then rows as CSV, batch by batch,
never holding the whole table. Other serialisations (BINARY, BINARY2, FITS) are reported so the
caller can fall back to astropy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from schemas.model import ColumnDef

_DATATYPES = {
    "boolean": "boolean",
    "bit": "boolean",  # a single bit (astropy writes numpy booleans so)
    "unsignedByte": "short",
    "short": "short",
    "int": "int",
    "long": "long",
    "float": "float",
    "double": "double",
    "char": "char",
    "unicodeChar": "unicodeChar",
}
_READ = 1 << 20


class NotTableData(Exception):
    """The first table is serialised in a way this reader does not stream (FITS)."""


class VOTableFormatError(Exception):
    """The file is not a VOTable this reader understands."""


@dataclass
class _Field:
    name: str
    datatype: str
    arraysize: str | None
    unit: str | None
    ucd: str | None
    utype: str | None
    null: str | None = None
    description: str = ""
    xtype: str | None = None


@dataclass
class _State:
    fields: list[_Field] = field(default_factory=list)
    table_description: str = ""
    path: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    in_first_table: bool = False
    tables_seen: int = 0
    serialisation: str = ""


def _local(name: str) -> str:
    return name.rsplit(" ", 1)[-1]


class _Done(Exception):
    pass


def read_fields(path: Path) -> tuple[list[_Field], str, str]:
    """FIELDs, description and serialisation (TABLEDATA, BINARY, BINARY2) of the first TABLE."""
    state = _State()
    parser = expat.ParserCreate(namespace_separator=" ")

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = _local(name)
        state.path.append(tag)
        state.text = []
        if tag == "TABLE":
            state.tables_seen += 1
            state.in_first_table = state.tables_seen == 1
        elif tag == "FIELD" and state.in_first_table:
            state.fields.append(
                _Field(
                    attrs.get("name") or attrs.get("ID") or f"col{len(state.fields) + 1}",
                    attrs.get("datatype", "char"),
                    attrs.get("arraysize"),
                    attrs.get("unit"),
                    attrs.get("ucd"),
                    attrs.get("utype"),
                    xtype=attrs.get("xtype"),
                )
            )
        elif tag == "VALUES" and state.in_first_table and state.path[-2:-1] == ["FIELD"] and "null" in attrs:
            state.fields[-1].null = attrs["null"]
        elif tag in ("TABLEDATA", "BINARY", "BINARY2") and state.in_first_table:
            state.serialisation = tag
            raise _Done
        elif tag == "FITS" and state.in_first_table:
            raise NotTableData(tag)

    def end(name: str) -> None:
        tag = _local(name)
        if tag == "DESCRIPTION" and state.in_first_table:
            text = "".join(state.text).strip()
            parent = state.path[-2] if len(state.path) > 1 else ""
            if parent == "FIELD" and state.fields:
                state.fields[-1].description = text
            elif parent == "TABLE":
                state.table_description = text
        state.path.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = lambda data: state.text.append(data)
    try:
        with path.open("rb") as fh:
            while block := fh.read(_READ):
                parser.Parse(block, False)
            parser.Parse(b"", True)
    except _Done:
        return state.fields, state.table_description, state.serialisation
    except expat.ExpatError as exc:
        raise VOTableFormatError(f"not well-formed XML: {exc}") from None
    raise VOTableFormatError("no TABLE with DATA found")


def column_defs(fields: list[_Field]) -> list[ColumnDef]:
    columns = []
    for f in fields:
        datatype = _DATATYPES.get(f.datatype)
        if datatype is None:
            raise VOTableFormatError(f"FIELD {f.name!r}: datatype {f.datatype!r} is not supported")
        is_text = datatype in ("char", "unicodeChar")
        if f.arraysize and not is_text and f.arraysize != "1":
            raise VOTableFormatError(f"FIELD {f.name!r} holds arrays, which are not supported yet")
        # DALI timestamps are kept as such (a timestamp column); other xtypes describe arrays,
        # which are refused above, or are not understood and so not claimed.
        xtype = "timestamp" if is_text and (f.xtype or "").lower() in ("timestamp", "adql:timestamp") else None
        columns.append(
            ColumnDef(
                f.name, datatype, f.description, f.unit, f.ucd, f.utype, arraysize="*" if is_text else None, xtype=xtype
            )
        )
    return columns


def _parse_in_batches(path: Path, parser: expat.XMLParserType, rows: list[str], batch_rows: int) -> Iterator[bytes]:
    """Feed ``path`` to ``parser`` a block at a time; hand out the CSV lines its handlers append
    to ``rows`` whenever a batch is full. The caller flushes what is left at the end."""
    with path.open("rb") as fh:
        while block := fh.read(_READ):
            try:
                parser.Parse(block, False)
            except expat.ExpatError as exc:
                raise VOTableFormatError(f"not well-formed XML: {exc}") from None
            if len(rows) >= batch_rows:
                yield ("\n".join(rows) + "\n").encode()
                rows.clear()
        try:
            parser.Parse(b"", True)
        except expat.ExpatError as exc:  # the file ends inside the document: truncated
            raise VOTableFormatError(f"not well-formed XML (truncated?): {exc}") from None


def _float_or_none(text: str | None) -> float | None:
    try:
        return None if text is None else float(text.strip().replace("Inf", "inf"))
    except ValueError:
        return None


def _is_float_null(number: float, null: float | None) -> bool:
    """Whether a float equals the FIELD's VALUES null (deprecated for floats, but to be respected)."""
    if null is None:
        return False
    return number == null or (number != number and null != null)


def _csv_cell(value: str | None, f: _Field) -> str:
    if value is None:
        return ""
    if f.null is not None and value.strip() == f.null:
        return ""
    if f.datatype in ("float", "double") and f.null is not None:
        number = _float_or_none(value)
        if number is not None and _is_float_null(number, _float_or_none(f.null)):
            return ""
    if f.datatype in ("char", "unicodeChar"):
        return '"' + value.replace('"', '""') + '"' if value != "" else ""
    stripped = value.strip()
    if f.datatype in ("boolean", "bit"):
        return {"t": "true", "1": "true", "true": "true", "f": "false", "0": "false", "false": "false"}.get(
            stripped.lower(), ""
        )
    if f.datatype in ("float", "double") and stripped in ("+Inf", "-Inf", "Inf"):
        return stripped.replace("Inf", "Infinity")
    return stripped


def stream_rows(path: Path, fields: list[_Field], batch_rows: int) -> Iterator[bytes]:
    """CSV lines (no header) for the rows of the first table's TABLEDATA, ``batch_rows`` at a time."""
    parser = expat.ParserCreate(namespace_separator=" ")
    rows: list[str] = []
    row: list[str | None] = []
    cell: list[str] | None = None
    depth = {"table": 0, "in_data": False}
    ncols = len(fields)

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal cell, row
        tag = _local(name)
        if tag == "TABLE":
            depth["table"] += 1
        elif tag == "TABLEDATA" and depth["table"] == 1:
            depth["in_data"] = True
        elif depth["in_data"] and tag == "TR":
            row = []
        elif depth["in_data"] and tag == "TD":
            cell = []

    def end(name: str) -> None:
        nonlocal cell
        tag = _local(name)
        if tag == "TABLEDATA":
            depth["in_data"] = False
        elif depth["in_data"] and tag == "TD":
            row.append("".join(cell) if cell else None)
            cell = None
        elif depth["in_data"] and tag == "TR":
            if len(row) != ncols:
                raise VOTableFormatError(f"row {len(rows) + 1} has {len(row)} cells for {ncols} FIELDs")
            rows.append(",".join(_csv_cell(v, f) for v, f in zip(row, fields, strict=True)))

    def chars(data: str) -> None:
        if cell is not None:
            cell.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    yield from _parse_in_batches(path, parser, rows, batch_rows)
    if rows:
        yield ("\n".join(rows) + "\n").encode()


# --- BINARY and BINARY2 ------------------------------------------------------------------------------
_FIXED = {"boolean": 1, "bit": 1, "unsignedByte": 1, "short": 2, "int": 4, "long": 8, "float": 4, "double": 8}
_STRUCT = {"unsignedByte": ">B", "short": ">h", "int": ">i", "long": ">q", "float": ">f", "double": ">d"}


class _RowDecoder:
    """Decodes BINARY/BINARY2 rows from a byte stream fed piecewise; keeps only an incomplete row."""

    def __init__(self, fields: list[_Field], binary2: bool):
        import struct

        self.struct = struct
        self.fields = fields
        self.flag_bytes = (len(fields) + 7) // 8 if binary2 else 0
        # BINARY has no null flags: a NaN float is its only null (astropy and STILTS write a null
        # float so). BINARY2 flags nulls, so a NaN there is a NaN, as in TABLEDATA (VOTable 1.4 sec. 5.5).
        self.nan_is_null = not binary2
        self.float_nulls = [_float_or_none(f.null) if f.datatype in ("float", "double") else None for f in fields]
        self.buffer = bytearray()

    def _cell(self, f: _Field, data: bytearray, at: int, float_null: float | None) -> tuple[str | None, int] | None:
        kind = f.datatype
        if kind in ("char", "unicodeChar"):
            width = 2 if kind == "unicodeChar" else 1
            if f.arraysize and f.arraysize.endswith("*"):
                if at + 4 > len(data):
                    return None
                count = self.struct.unpack_from(">i", data, at)[0]
                at += 4
            else:
                count = int(f.arraysize or "1")
            end = at + count * width
            if end > len(data):
                return None
            raw = bytes(data[at:end])
            text = raw.decode("utf-16-be" if width == 2 else "utf-8", errors="strict").rstrip("\x00")
            return text, end
        size = _FIXED.get(kind)
        if size is None:
            raise VOTableFormatError(f"FIELD {f.name!r}: datatype {kind!r} is not supported")
        end = at + size
        if end > len(data):
            return None
        if kind == "bit":
            # VOTable puts a lone bit in the byte's most significant bit; astropy writes 0x08.
            # The other bits are padding, so any set bit means true for both.
            return ("true" if data[at] else "false"), end
        if kind == "boolean":
            flag = chr(data[at]).upper()
            return ({"T": "true", "1": "true", "F": "false", "0": "false"}.get(flag)), end
        number = self.struct.unpack_from(_STRUCT[kind], data, at)[0]
        if kind in ("float", "double"):
            if (number != number and self.nan_is_null) or _is_float_null(number, float_null):
                return None, end
            return repr(float(number)), end  # 'nan' and 'inf' are floats to PostgreSQL
        return str(number), end

    def rows(self, chunk: bytes) -> list[str]:
        self.buffer += chunk
        data, out, at = self.buffer, [], 0
        while True:
            start = at
            if at + self.flag_bytes > len(data):
                break
            flags = data[at : at + self.flag_bytes]
            at += self.flag_bytes
            cells: list[str] = []
            complete = True
            for i, f in enumerate(self.fields):
                decoded = self._cell(f, data, at, self.float_nulls[i])
                if decoded is None:
                    complete = False
                    break
                value, at = decoded
                is_null = bool(self.flag_bytes) and bool(flags[i // 8] & (0x80 >> (i % 8)))
                if is_null or value is None or (f.null is not None and value == f.null):
                    cells.append("")
                elif f.datatype in ("char", "unicodeChar"):
                    cells.append('"' + value.replace('"', '""') + '"' if value else "")
                else:
                    cells.append(value)
            if not complete:
                at = start
                break
            out.append(",".join(cells))
        del self.buffer[:at]
        return out


def stream_binary_rows(path: Path, fields: list[_Field], binary2: bool, batch_rows: int) -> Iterator[bytes]:
    """CSV lines for a BINARY or BINARY2 table: base64 decoded as it arrives, rows parsed as they complete."""
    import base64

    parser = expat.ParserCreate(namespace_separator=" ")
    decoder = _RowDecoder(fields, binary2)
    state = {"tables": 0, "in_stream": False}
    pending = bytearray()  # base64 characters not yet a multiple of 4
    rows: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = _local(name)
        if tag == "TABLE":
            state["tables"] += 1
        elif tag == "STREAM" and state["tables"] == 1:
            if attrs.get("href"):
                raise VOTableFormatError("STREAM with href (data in another file) is not supported")
            if attrs.get("encoding", "base64") != "base64":
                raise VOTableFormatError(f"STREAM encoding {attrs.get('encoding')!r} is not supported")
            state["in_stream"] = True

    def end(name: str) -> None:
        if _local(name) == "STREAM":
            state["in_stream"] = False

    def chars(data: str) -> None:
        if not state["in_stream"]:
            return
        pending.extend(b for b in data.encode("ascii") if b not in b" \t\r\n")
        usable = len(pending) - len(pending) % 4
        if usable:
            rows.extend(decoder.rows(base64.b64decode(bytes(pending[:usable]))))
            del pending[:usable]

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    yield from _parse_in_batches(path, parser, rows, batch_rows)
    if decoder.buffer:
        raise VOTableFormatError(f"the binary stream ends inside a row ({len(decoder.buffer)} bytes left over)")
    if rows:
        yield ("\n".join(rows) + "\n").encode()
