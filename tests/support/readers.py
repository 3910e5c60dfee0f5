"""Every output format read back by a reader that is not dalserver's (astropy.io.votable, lxml,
pyarrow.csv, json, astropy.io.fits, pyarrow.parquet), into one shape the tests compare.

Each reader reports what its format says and nothing more: a null where the format has a null,
the format's own stand-in where it has none (an empty string for text in TABLEDATA, NaN for a
float in FITS), and the query status only where the format has a place for it.
"""

from __future__ import annotations

import io
import json
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from astropy.io import fits
from astropy.io.votable import parse
from astropy.io.votable.exceptions import VOWarning
from lxml import etree

from adql.catalog import ColumnMeta

VOTABLE_NS = {"v": "http://www.ivoa.net/xml/VOTable/v1.3"}
INTEGERS = ("unsignedByte", "short", "int", "long")
META_KEYS = ("unit", "ucd", "utype", "description", "xtype")


@dataclass
class ReadBack:
    names: list[str]
    rows: list[dict[str, Any]]
    status: str | None = None  # OK, OVERFLOW or ERROR, where the format has a place for it
    message: str | None = None  # the error's text, where the format carries it
    meta: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> the metadata it carries

    def column(self, name: str) -> list[Any]:
        return [row[name] for row in self.rows]


def _python(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _is_array(meta: ColumnMeta) -> bool:
    return meta.datatype not in ("char", "unicodeChar") and bool(meta.arraysize) and meta.arraysize != "1"


# --- VOTable (astropy for the table, lxml for the INFOs around it) ------------------------------
def _votable_cell(value: Any) -> Any:
    if value is np.ma.masked:
        return None
    if isinstance(value, np.ma.MaskedArray):
        if value.size and np.ma.getmaskarray(value).all():
            return None
        return [None if m else _python(v) for v, m in zip(value.data, np.ma.getmaskarray(value), strict=True)]
    if isinstance(value, np.ndarray):
        return [_python(v) for v in value]
    return _python(value)


def read_votable(data: bytes, columns: list[ColumnMeta]) -> ReadBack:
    with warnings.catch_warnings():
        warnings.simplefilter("error", VOWarning)  # a document astropy has to excuse is a failure
        votable = parse(io.BytesIO(data))
    table = votable.get_first_table()
    names = [f.name for f in table.fields]
    rows = [{name: _votable_cell(row[name]) for name in names} for row in table.array]
    meta = {}
    for f in table.fields:
        found = {"unit": str(f.unit) if f.unit is not None else None, "ucd": f.ucd, "utype": f.utype}
        found |= {"description": f.description, "xtype": f.xtype}
        meta[f.name] = {k: v for k, v in found.items() if v}
    doc = etree.fromstring(data)
    infos = doc.findall("v:RESOURCE[@type='results']/v:INFO[@name='QUERY_STATUS']", VOTABLE_NS)
    status, message = infos[-1].get("value"), infos[-1].text
    return ReadBack(names, rows, status, message if status == "ERROR" else None, meta)


# --- CSV and TSV (pyarrow's CSV reader, typed from the metadata) ---------------------------------
_ARROW = {
    "boolean": pa.bool_(),
    "unsignedByte": pa.uint8(),
    "short": pa.int16(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
}


def _number(text: str, meta: ColumnMeta) -> int | float | None:
    if meta.datatype in INTEGERS:
        return None if text.lower() == "nan" else int(text)
    value = float(text)
    return float(np.float32(value)) if meta.datatype == "float" else value


def _numbers(text: str | None, meta: ColumnMeta) -> list[int | float | None] | None:
    """A DALI array or geometry value (numbers separated by blanks) as a list."""
    if text is None:
        return None
    return [_number(word, meta) for word in text.split()]


def _delimited(data: bytes, columns: list[ColumnMeta], tsv: bool) -> ReadBack:
    types = {c.name: pa.string() if _is_array(c) else _ARROW.get(c.datatype, pa.string()) for c in columns}
    table = pa_csv.read_csv(
        io.BytesIO(data),
        parse_options=pa_csv.ParseOptions(delimiter="\t", quote_char=False)
        if tsv
        else pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types=types,
            null_values=[""],  # not pyarrow's default, which reads "nan" as a null
            true_values=["true"],
            false_values=["false"],
            strings_can_be_null=not tsv,  # TSV cannot tell an empty text from a null one
            quoted_strings_can_be_null=False,  # CSV: "" is the empty text, nothing at all is null
        ),
    )
    names = table.column_names
    by_name = {c.name: c for c in columns}
    rows = []
    for row in table.to_pylist():
        rows.append({k: _numbers(v, by_name[k]) if _is_array(by_name[k]) else v for k, v in row.items()})
    return ReadBack(names, rows)


def read_csv(data: bytes, columns: list[ColumnMeta]) -> ReadBack:
    return _delimited(data, columns, tsv=False)


def read_tsv(data: bytes, columns: list[ColumnMeta]) -> ReadBack:
    return _delimited(data, columns, tsv=True)


# --- JSON (numbers read as decimals, so nothing is rounded on the way in) -----------------------
def _json_value(value: Any, meta: ColumnMeta) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_json_value(v, ColumnMeta(meta.name, meta.datatype)) for v in value]
    if isinstance(value, Decimal):
        if meta.datatype in INTEGERS:
            assert value == value.to_integral_value(), value
            return int(value)
        number = float(value)  # correctly rounded, and -0 stays negative
        return float(np.float32(number)) if meta.datatype == "float" else number
    return value


def read_json(data: bytes, columns: list[ColumnMeta]) -> ReadBack:
    doc = json.loads(data, parse_float=Decimal, parse_int=Decimal)
    assert set(doc) <= {"metadata", "data", "overflow", "error"}, set(doc)
    names = [m["name"] for m in doc["metadata"]]
    rows = [{c.name: _json_value(v, c) for c, v in zip(columns, row, strict=True)} for row in doc["data"]]
    status = "ERROR" if "error" in doc else ("OVERFLOW" if doc["overflow"] else "OK")
    meta = {m["name"]: {k: m[k] for k in META_KEYS if m.get(k) is not None} for m in doc["metadata"]}
    return ReadBack(names, rows, status, doc.get("error"), meta)


# --- FITS (astropy, with the raw bytes of text and logical values) -------------------------------
def _fits_cell(value: Any, meta: ColumnMeta, null: int | None) -> Any:
    if isinstance(value, bytes):
        if meta.datatype == "boolean":
            return {b"T": True, b"F": False, b"": None, b"\x00": None}[value]
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return [_python(v) for v in value]
    value = _python(value)
    if null is not None and value == null:
        return None
    return value


def read_fits(data: bytes, columns: list[ColumnMeta]) -> ReadBack:
    assert len(data) % 2880 == 0, "a FITS file is made of 2880-byte blocks"
    with fits.open(io.BytesIO(data), logical_as_bytes=True, character_as_bytes=True) as hdus:
        assert isinstance(hdus[0], fits.PrimaryHDU) and isinstance(hdus[1], fits.BinTableHDU)
        header = hdus[1].header
        table = hdus[1].data
        count = header["TFIELDS"]
        names = [header[f"TTYPE{i}"] for i in range(1, count + 1)]
        nulls = [header.get(f"TNULL{i}") for i in range(1, count + 1)]
        rows = []
        for r in range(header["NAXIS2"]):
            rows.append(
                {
                    name: _fits_cell(table[name][r], meta, null)
                    for name, meta, null in zip(names, columns, nulls, strict=True)
                }
            )
        meta = {}
        for i, name in enumerate(names, start=1):
            found = {
                "unit": header.get(f"TUNIT{i}"),
                "ucd": header.get(f"TUCD{i}"),
                "utype": header.get(f"TUTYP{i}"),
                "description": header.get(f"TCOMM{i}"),
            }
            meta[name] = {k: v for k, v in found.items() if v}
        status = header["QUERY_STATUS"]
        comments = [str(c) for c in header.get("COMMENT", [])]
    return ReadBack(names, rows, status, " ".join(comments) if status == "ERROR" else None, meta)


# --- Parquet ---------------------------------------------------------------------------------------
def read_parquet(data: bytes, columns: list[ColumnMeta]) -> ReadBack:
    parquet = pq.ParquetFile(io.BytesIO(data))
    table = parquet.read()
    footer = parquet.metadata.metadata
    meta = {f.name: {k.decode(): v.decode() for k, v in (f.metadata or {}).items()} for f in table.schema}
    message = footer.get(b"QUERY_STATUS_MESSAGE")
    return ReadBack(
        table.column_names,
        table.to_pylist(),
        footer[b"QUERY_STATUS"].decode(),
        message.decode() if message is not None else None,
        meta,
    )


READERS: dict[str, Callable[[bytes, list[ColumnMeta]], ReadBack]] = {
    "votable": read_votable,
    "votable/b2": read_votable,
    "csv": read_csv,
    "tsv": read_tsv,
    "json": read_json,
    "fits": read_fits,
    "parquet": read_parquet,
}
# The formats with a place for the query status (OVERFLOW, ERROR): CSV and TSV have none.
WITH_STATUS = ("votable", "votable/b2", "json", "fits", "parquet")


def read(name: str, data: bytes, columns: list[ColumnMeta]) -> ReadBack:
    return READERS[name](data, columns)


def same_float(a: float | None, b: float | None) -> bool:
    """Equal bit for bit (the sign of zero included); any NaN equals any NaN."""
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
