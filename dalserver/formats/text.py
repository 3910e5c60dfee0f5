"""CSV, TSV and JSON result writers, batch by batch, a column at a time.

CSV follows RFC 4180 with a header line (nulls are empty fields, text is always quoted, so an
empty string is ""), written by Arrow's CSV writer; TSV is the IANA text/tab-separated-values form
(tabs and newlines inside values become spaces, nulls are empty). JSON is one object: ``metadata``
(the FIELD attributes) and ``data`` (rows as arrays), the shape the ESA and CDS TAP services use,
plus ``overflow`` and ``error`` as DALI states. Geometry is written as DALI (numbers separated by
blanks; arrays in JSON), REGIONs as STC-S.

CSV and TSV have no place for a query status (DALI 1.1 sec. 4.4 defines the trailing status for
VOTable only; the DALI 1.2 draft, sec. 5.4.1, says text/csv and TSV cannot carry one), and a last
line saying ERROR would be read as a row by every CSV reader. So when the query fails after the
first rows, their stream raises the failure instead of ending: the HTTP response is cut off without
its last chunk, which every client reports as an incomplete transfer, and an async job ends in
ERROR. A result cut at MAXREC ends normally, as DALI allows.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from adql.catalog import ColumnMeta
from dalserver.formats.cells import TextStyle, cell_text, is_list, join_rows, list_text, scalar
from dalserver.formats.limits import Batches, ResultState, limited
from dalserver.formats.parallel import encoded_parts

# A part's rows are written in one go (Arrow's default is 1,024 at a time): the same bytes, a
# twelfth less work.
_CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, eol="\r\n", quoting_style="needed", batch_size=1 << 16)


def _csv_field(text: str) -> str:
    if text == "" or any(c in text for c in ',"\r\n') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_column(array: pa.Array) -> pa.Array:
    if is_list(array):
        return list_text(array, TextStyle())
    return array  # numbers, booleans (true/false) and text as Arrow writes them


def _fail_unless_complete(state: ResultState) -> None:
    """A document without a status must not end like a complete one when the query failed."""
    if state.failure is not None:
        raise state.failure


async def csv_stream(columns: list[ColumnMeta], batches: Batches, maxrec: int) -> AsyncIterator[bytes]:
    yield (",".join(_csv_field(c.name) for c in columns) + "\r\n").encode()
    names = [f"c{i}" for i in range(len(columns))]  # Arrow needs unique names; the header is ours
    state = ResultState()

    def encode(arrays: list[pa.Array]) -> bytes:
        # An Arrow sink, not a Python file: the writer does not take the GIL back for every write.
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(pa.table([_csv_column(a) for a in arrays], names=names), sink, _CSV_OPTIONS)
        return bytes(sink.getvalue())

    async for arrays in limited(batches, maxrec, state, columns):
        for part in await encoded_parts(encode, arrays):
            yield part
    _fail_unless_complete(state)


def _tsv_text(array: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(array, "[\t\r\n]", " ")


TSV = TextStyle(true="true", false="false", nan="nan", inf="inf", minus_inf="-inf", escape=_tsv_text)


def _tsv_rows(arrays: list[pa.Array]) -> bytes:
    return join_rows([_filled(cell_text(a, TSV), "") for a in arrays], "\t", "", "\n")


def _filled(text: pa.Array, null: str) -> pa.Array:
    return pc.fill_null(text, scalar(null)) if text.null_count else text


async def tsv_stream(columns: list[ColumnMeta], batches: Batches, maxrec: int) -> AsyncIterator[bytes]:
    yield ("\t".join(c.name.replace("\t", " ") for c in columns) + "\n").encode()
    state = ResultState()
    async for arrays in limited(batches, maxrec, state, columns):
        for part in await encoded_parts(_tsv_rows, arrays):
            yield part
    _fail_unless_complete(state)


_JSON_CONTROL = "[\x00-\x1f]"


def _json_strings(array: pa.Array) -> pa.Array:
    if len(array) and pc.any(pc.match_substring_regex(array, _JSON_CONTROL)).as_py():
        return pa.array([None if v is None else json.dumps(v, ensure_ascii=False) for v in array.to_pylist()])
    escaped = pc.replace_substring(pc.replace_substring(array, "\\", "\\\\"), '"', '\\"')
    return pc.binary_join_element_wise(scalar('"'), escaped, scalar('"'), scalar(""))


JSON = TextStyle(  # JSON has no NaN or Inf: they become null
    true="true",
    false="false",
    nan="null",
    inf="null",
    minus_inf="null",
    list_separator=", ",
    list_open="[",
    list_close="]",
    escape=_json_strings,
)


def _json_rows(arrays: list[pa.Array]) -> bytes:
    return join_rows([_filled(cell_text(a, JSON), "null") for a in arrays], ", ", ",\n[", "]")


async def json_stream(columns: list[ColumnMeta], batches: Batches, maxrec: int) -> AsyncIterator[bytes]:
    keys = ("name", "datatype", "arraysize", "xtype", "unit", "ucd", "utype", "description")
    # Every key, null when unset: readers such as astroquery's TapPlus index them all.
    metadata = [{key: getattr(c, key) or None for key in keys} for c in columns]
    yield ('{"metadata": ' + json.dumps(metadata, ensure_ascii=False) + ', "data": [').encode()
    state = ResultState()
    first = True
    async for arrays in limited(batches, maxrec, state, columns):
        for rows in await encoded_parts(_json_rows, arrays):
            yield rows[1:] if first else rows  # no comma before the first row
            first = False
    tail: dict[str, bool | str] = {"overflow": state.overflow}
    if state.error:
        tail["error"] = state.error
    yield ("\n], " + json.dumps(tail)[1:]).encode()
