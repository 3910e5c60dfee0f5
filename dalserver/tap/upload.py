"""TAP UPLOAD: the user's tables, read from VOTable (any serialisation) or CSV, typed from their
FIELDs, and handed to the one query's database session, which alone sees them.

A table goes in as one array per column, each the value of a setting of that session
(``set_config``, parameters bound, so no SQL text carries the user's values); the query reads it
back as ``unnest(current_setting(...)::type[], ...)``. Nothing is written: the same query runs on
a hot standby as on the primary (a temporary table cannot be created on a standby), and the
planner knows the row count without an ANALYZE. The values go as PostgreSQL's array text, each
written so that it reads back exactly (shortest round-trip floats).

``UPLOAD=name,param:part`` names a multipart part of the same request (or of the async job's
creation); ``UPLOAD=name,https://...`` is fetched only when the operator allows it, and never from
private or loopback addresses. Limits on bytes, rows and tables are the operator's settings.
"""

from __future__ import annotations

import io
import ipaddress
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from adql.catalog import TableMeta
from adql.reserved import is_reserved
from archive_io.table_readers import CatalogSource, csv_source, duplicate_column, votable_source
from dalserver.dali.faults import UsageFault
from dalserver.db.adbc import ArrowConnection
from dalserver.settings import Settings
from pgsql_text.errors import SQLTextError
from pgsql_text.quoting import quote_ident, quote_string
from schemas.model import ColumnDef

UPLOAD_SCHEMA = "TAP_UPLOAD"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_ARROW_TYPES: dict[str, pa.DataType] = {
    "boolean": pa.bool_(),
    "short": pa.int16(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "char": pa.string(),
    "unicodeChar": pa.string(),
}


@dataclass(frozen=True)
class UploadSpec:
    """One ``name,URI`` item of the UPLOAD parameter."""

    name: str
    uri: str

    @property
    def part(self) -> str | None:
        """The multipart part name for ``param:`` URIs."""
        return self.uri[len("param:") :] if self.uri.startswith("param:") else None


@dataclass
class UploadTable:
    name: str  # as the user wrote it: TAP_UPLOAD.<name>
    columns: list[ColumnDef]
    data: pa.Table

    def setting(self, index: int) -> str:
        """The name of the session setting that holds column ``index`` (names are letters,
        digits and underscores: a valid custom setting name)."""
        return f"dalserver_upload.{self.name.lower()}_{index}"

    @property
    def sql_name(self) -> str:
        """What FROM names: the columns' arrays, side by side, as rows of the columns' types."""
        arrays = ", ".join(
            f"current_setting({quote_string(self.setting(i))})::{c.sql_type}[]" for i, c in enumerate(self.columns)
        )
        names = ", ".join(quote_ident(c.name) for c in self.columns)
        return f"(SELECT * FROM unnest({arrays}) AS {quote_ident('tap_upload_' + self.name.lower())}({names}))"

    def meta(self) -> TableMeta:
        return TableMeta(
            UPLOAD_SCHEMA,
            self.name,
            tuple(c.meta() for c in self.columns),
            description="table uploaded with this query",
            sql_name=self.sql_name,
        )


def parse_upload_parameter(values: list[str], settings: Settings) -> list[UploadSpec]:
    """``name,URI[;name,URI...]``, possibly given several times; names checked, URIs vetted."""
    specs: list[UploadSpec] = []
    for value in values:
        for item in value.split(";"):
            if not item.strip():
                continue
            name, sep, uri = item.partition(",")
            name, uri = name.strip(), uri.strip()
            if not sep or not uri:
                raise UsageFault(f"UPLOAD item {item!r} must be 'table_name,URI' (for example t1,param:t1)")
            if not _NAME.match(name) or is_reserved(name):
                raise UsageFault(
                    f"UPLOAD table name {name!r} is not valid: use a letter followed by letters, digits or "
                    "underscores, and not an ADQL reserved word"
                )
            if any(s.name.lower() == name.lower() for s in specs):
                raise UsageFault(f"UPLOAD names the table {name!r} twice")
            scheme = urlsplit(uri).scheme.lower()
            if scheme == "param":
                if not uri[len("param:") :]:
                    raise UsageFault(f"UPLOAD item {item!r}: param: must name a part of the request")
            elif scheme in ("http", "https"):
                if not settings.upload_url_fetch:
                    raise UsageFault(
                        f"UPLOAD from a URL ({uri}) is switched off on this service; "
                        "send the table inline as a multipart part (UPLOAD=name,param:part)"
                    )
            else:
                raise UsageFault(f"UPLOAD URI {uri!r} is not supported; use param:<part> (or http(s) where enabled)")
            specs.append(UploadSpec(name, uri))
    if len(specs) > settings.upload_max_tables:
        raise UsageFault(f"at most {settings.upload_max_tables} tables can be uploaded with one query")
    return specs


def _check_public_host(url: str) -> None:
    host = urlsplit(url).hostname
    if not host:
        raise UsageFault(f"UPLOAD URL {url!r} has no host")
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as exc:
        raise UsageFault(f"UPLOAD URL {url!r}: cannot resolve {host}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise UsageFault(f"UPLOAD URL {url!r} points to a private or local address ({address}); refused")


def fetch_upload(url: str, target: Path, settings: Settings) -> None:
    """Download ``url`` to ``target``, at most upload_max_bytes, without following redirects."""
    import httpx

    _check_public_host(url)
    received = 0
    try:
        with httpx.stream("GET", url, timeout=30, follow_redirects=False) as response:
            if response.status_code != 200:
                raise UsageFault(f"UPLOAD URL {url!r} answered HTTP {response.status_code}")
            with target.open("wb") as out:
                for chunk in response.iter_bytes():
                    received += len(chunk)
                    if received > settings.upload_max_bytes:
                        raise UsageFault(
                            f"upload {url!r} is larger than the limit of {settings.upload_max_bytes} bytes"
                        )
                    out.write(chunk)
    except httpx.HTTPError as exc:
        raise UsageFault(f"UPLOAD URL {url!r} could not be fetched: {exc}") from None


def _looks_like_xml(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


def _source(path: Path) -> CatalogSource:
    return votable_source(path) if _looks_like_xml(path) else csv_source(path)


def read_upload(name: str, path: Path, settings: Settings) -> UploadTable:
    """The table in ``path`` as typed Arrow columns, or a UsageFault naming what is wrong."""
    size = path.stat().st_size
    if size > settings.upload_max_bytes:
        raise UsageFault(f"upload {name!r} has {size} bytes, more than the limit of {settings.upload_max_bytes}")
    try:
        source = _source(path)
        columns = source.columns
        data = _read_csv(b"".join(source.chunks()), columns, source.header)
    except Exception as exc:  # CatalogError, or whatever else a malformed file trips over: the file's fault
        raise UsageFault(f"upload {name!r} cannot be read: {_without_path(str(exc), path)}") from None
    if not columns:
        raise UsageFault(f"upload {name!r} has no columns")
    if (twins := duplicate_column(columns)) is not None:
        raise UsageFault(f"upload {name!r} has two columns named {twins[1]!r}")
    if data.num_rows > settings.upload_max_rows:
        raise UsageFault(f"upload {name!r} has {data.num_rows} rows, more than the limit of {settings.upload_max_rows}")
    table = UploadTable(name, columns, data)
    try:
        table.sql_name  # noqa: B018  # a column name SQL text cannot carry (NUL) is the file's fault, told before any query
    except SQLTextError as exc:
        raise UsageFault(f"upload {name!r}: {exc}") from None
    return table


def _without_path(message: str, path: Path) -> str:
    # The file name on the server means nothing to the user (and is none of their business).
    return message.replace(f"{path}: ", "").replace(str(path), "the upload")


def _read_csv(body: bytes, columns: list[ColumnDef], header: bool) -> pa.Table:
    # Timestamps are read as text: DALI allows a trailing Z, which Arrow's parser refuses.
    types: dict[str, Any] = {c.name: _ARROW_TYPES[c.datatype] for c in columns}
    # Column names are the FIELDs' (or the CSV header's), so a header line is skipped, not read.
    read = pa_csv.ReadOptions(column_names=[c.name for c in columns], skip_rows=1 if header else 0, use_threads=False)
    convert = pa_csv.ConvertOptions(
        column_types=types,
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        true_values=["true", "True", "TRUE", "t", "T", "1"],
        false_values=["false", "False", "FALSE", "f", "F", "0"],
    )
    if body.strip():
        table = pa_csv.read_csv(io.BytesIO(body), read_options=read, convert_options=convert)
    else:
        table = pa.table({c.name: pa.array([], types[c.name]) for c in columns})
    for index, column in enumerate(columns):
        if column.xtype == "timestamp":
            text = pc.replace_substring_regex(table.column(index), r"(Z|[+-]00:?00)$", "")
            try:
                stamps = pc.cast(text, pa.timestamp("us"))
            except pa.ArrowInvalid as exc:
                raise ValueError(f"column {column.name!r} is declared a timestamp: {exc}") from None
            table = table.set_column(index, column.name, stamps)
    return table


def array_text(values: pa.Array | pa.ChunkedArray) -> str:
    """``values`` as PostgreSQL reads an array (``{1,2.5,NULL}``, strings quoted), built by
    Arrow's compute functions rather than value by value. Floats are written shortest
    round-trip (Arrow's cast), so they read back as the same binary value."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    text = pc.cast(values, pa.string())
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        escaped = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
        text = pc.binary_join_element_wise('"', escaped, '"', "")
    elements = pc.fill_null(text, "NULL")
    offsets = pa.array([0, len(elements)], pa.int32())
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, elements), ",")[0].as_py()
    return "{" + (joined or "") + "}"


def bind_uploads(conn: ArrowConnection, tables: list[UploadTable]) -> None:
    """Hand the uploads to the session on ``conn`` (a read-only one will do) before the query."""
    for table in tables:
        names = [table.setting(i) for i in range(len(table.columns))]
        values = [array_text(table.data.column(i)) for i in range(len(table.columns))]
        if names:
            conn.set_settings(names, values)
