"""Catalogue files as a column description plus a stream of CSV bytes for PostgreSQL COPY.

A CSV file is passed through untouched (its types inferred from the first megabyte), unless it
marks nulls with texts of its own (the sidecar's ``nulls``): then pyarrow reads it block by block
as text and writes it again with those cells empty. Parquet, FITS binary tables and VOTables are
converted batch by batch with pyarrow's CSV writer, so memory stays bounded by the batch size.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from archive_io.astropy_parquet import astropy_meta, published_batch
from schemas.model import ColumnDef

BATCH_ROWS = 100_000
CSV_BLOCK = 1 << 20


class CatalogError(Exception):
    """A catalogue that cannot be read or published; the message names the file and the place."""


@dataclass
class CatalogSource:
    path: Path
    columns: list[ColumnDef]
    chunks: Callable[[], Iterator[bytes]]  # CSV without header, or with one if header is True
    header: bool
    total: int | None  # for the progress bar: bytes for CSV, rows otherwise (None: unknown)
    unit: str  # "B" or "rows"
    description: str = ""
    null_markers: tuple[str, ...] = ()  # CSV cell texts read as NULL besides an empty cell


def duplicate_column(columns: list[ColumnDef]) -> tuple[str, str] | None:
    """The first pair of column names that differ only in case (SQL and ADQL would confuse them)."""
    seen: dict[str, str] = {}
    for column in columns:
        if column.name.lower() in seen:
            return seen[column.name.lower()], column.name
        seen[column.name.lower()] = column.name
    return None


def _datatype(arrow_type: pa.DataType) -> tuple[str, str | None, str | None]:
    """(VOTable datatype, arraysize, xtype) for an Arrow type."""
    if pa.types.is_boolean(arrow_type):
        return "boolean", None, None
    if pa.types.is_int8(arrow_type) or pa.types.is_int16(arrow_type) or pa.types.is_uint8(arrow_type):
        return "short", None, None
    if pa.types.is_int32(arrow_type) or pa.types.is_uint16(arrow_type):
        return "int", None, None
    if pa.types.is_integer(arrow_type):
        return "long", None, None
    if pa.types.is_float32(arrow_type) or pa.types.is_float16(arrow_type):
        return "float", None, None
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "double", None, None
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        return "char", "*", "timestamp"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_null(arrow_type):
        return "char", "*", None
    raise CatalogError(f"columns of type {arrow_type} are not supported")


def _column(name: str, arrow_type: pa.DataType, meta: dict[str, Any] | None = None, where: str = "") -> ColumnDef:
    try:
        datatype, arraysize, xtype = _datatype(arrow_type)
    except CatalogError as exc:
        raise CatalogError(f"{where}: column {name!r}: {exc}") from None
    meta = meta or {}
    return ColumnDef(
        name=name,
        datatype=datatype,
        arraysize=arraysize,
        xtype=xtype,
        unit=meta.get("unit") or None,
        ucd=meta.get("ucd") or None,
        utype=meta.get("utype") or None,
        description=str(meta.get("description") or ""),
    )


def _csv_bytes(batch: pa.RecordBatch | pa.Table) -> bytes:
    buffer = io.BytesIO()
    pa_csv.write_csv(batch, buffer, pa_csv.WriteOptions(include_header=False, batch_size=BATCH_ROWS))
    return buffer.getvalue()


# --- CSV -------------------------------------------------------------------------------------------
def csv_source(path: Path, nulls: tuple[str, ...] = ()) -> CatalogSource:
    """A CSV file with a header line; ``nulls`` are cell texts that mean NULL (unquoted, as
    COPY's own NULL marker: a quoted "-99" is the text -99), besides an empty cell."""
    convert = pa_csv.ConvertOptions(null_values=["", *nulls], strings_can_be_null=True) if nulls else None
    try:
        # Inference only: malformed rows are skipped here so that COPY, which knows line
        # numbers, is the one to report them.
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=CSV_BLOCK, use_threads=False),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=lambda row: "skip"),
            convert_options=convert,
        )
        schema = reader.schema
        reader.close()
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError) as exc:
        raise CatalogError(f"{path}: cannot read as CSV: {exc}") from None
    # Text that is not UTF-8 comes back as binary; COPY will name the line it is on.
    columns = [_column(f.name, pa.string() if pa.types.is_binary(f.type) else f.type, where=str(path)) for f in schema]
    if nulls:
        return CatalogSource(
            path,
            columns,
            lambda: _csv_without_markers(path, schema.names, nulls),
            header=False,
            total=None,
            unit="rows",
            null_markers=nulls,
        )

    def chunks() -> Iterator[bytes]:
        with path.open("rb") as fh:
            while block := fh.read(CSV_BLOCK):
                yield block

    return CatalogSource(path, columns, chunks, header=True, total=path.stat().st_size, unit="B")


def _csv_without_markers(path: Path, names: list[str], nulls: tuple[str, ...]) -> Iterator[bytes]:
    """The file's rows as CSV with every null marker an empty cell. Cells are read as text and
    written back as they were, so PostgreSQL parses the values as it would the file's own."""
    convert = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        null_values=["", *nulls],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,  # "" stays an empty text, "-99" the text -99
    )
    try:
        reader = pa_csv.open_csv(
            path, read_options=pa_csv.ReadOptions(block_size=CSV_BLOCK, use_threads=False), convert_options=convert
        )
        for batch in reader:
            yield _csv_bytes(batch)
    except pa.ArrowInvalid as exc:  # a malformed row or text that is not UTF-8
        raise CatalogError(f"{path}: {exc}") from None


# --- Parquet ---------------------------------------------------------------------------------------
def parquet_source(path: Path) -> CatalogSource:
    # Imported here: TAP uploads read VOTables through this module in every worker, and pyarrow's
    # Parquet module loads its file-system libraries (S3 among them), several MB.
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        astropy = astropy_meta(parquet.schema_arrow)
    except (pa.ArrowInvalid, OSError) as exc:
        raise CatalogError(f"{path}: cannot read as Parquet: {exc}") from None
    except ValueError as exc:
        raise CatalogError(f"{path}: {exc}") from None
    schema = parquet.schema_arrow
    hidden = astropy.mask_columns
    names = [name for name in schema.names if name not in hidden]
    columns = []
    for name in names:
        f = schema.field(name)
        meta = {k.decode(): v.decode() for k, v in (f.metadata or {}).items()}
        meta = {**astropy.columns.get(name, {}), **meta}  # the field's own metadata wins
        columns.append(_column(name, f.type, meta, str(path)))

    def chunks() -> Iterator[bytes]:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
            yield _csv_bytes(published_batch(batch, astropy, names) if hidden else batch)

    return CatalogSource(
        path,
        columns,
        chunks,
        header=False,
        total=parquet.metadata.num_rows,
        unit="rows",
        description=astropy.description,
    )


# --- FITS binary tables and VOTables, through numpy ------------------------------------------------
def _arrow_array(values: np.ndarray, mask: np.ndarray | None, name: str, where: str) -> pa.Array:
    if values.ndim > 1:
        raise CatalogError(f"{where}: column {name!r} holds arrays, which are not supported yet")
    if values.dtype.kind == "S":
        try:
            decoded = np.char.rstrip(np.char.decode(values, "utf-8"))
        except UnicodeDecodeError as exc:
            raise CatalogError(f"{where}: column {name!r} is not valid UTF-8 text: {exc}") from None
        return pa.array(decoded, mask=mask)
    if values.dtype.kind == "O":
        return pa.array([None if v is None else str(v) for v in values], mask=mask)
    if values.dtype.kind == "f" and mask is None:
        mask = np.isnan(values)  # NaN is how FITS marks a missing float
    return pa.array(values.astype(values.dtype.newbyteorder("=")), mask=mask)


def fits_source(path: Path) -> CatalogSource:
    from astropy.io import fits

    try:
        hdul = fits.open(path, memmap=True)
    except (OSError, ValueError) as exc:
        raise CatalogError(f"{path}: cannot read as FITS: {exc}") from None
    index = next((i for i, h in enumerate(hdul) if isinstance(h, fits.BinTableHDU)), None)
    if index is None:
        hdul.close()
        raise CatalogError(f"{path}: no binary table extension")
    hdu = hdul[index]
    header, nrows = hdu.header, hdu.header["NAXIS2"]
    columns, nulls = [], {}
    sample = hdu.data[:1]
    for i, col in enumerate(hdu.columns, start=1):
        arrow = _arrow_array(sample[col.name], None, col.name, str(path)).type if nrows else pa.float64()
        meta = {
            "unit": header.get(f"TUNIT{i}"),
            "ucd": header.get(f"TUCD{i}"),
            "utype": header.get(f"TUTYP{i}"),
            "description": header.get(f"TCOMM{i}") or header.comments[f"TTYPE{i}"],
        }
        columns.append(_column(col.name, arrow, meta, str(path)))
        if f"TNULL{i}" in header:
            nulls[col.name] = header[f"TNULL{i}"]
    hdul.close()

    def chunks() -> Iterator[bytes]:
        with fits.open(path, memmap=True) as hdus:
            data = hdus[index].data
            for start in range(0, nrows, BATCH_ROWS):
                part = data[start : start + BATCH_ROWS]
                arrays = []
                for col in columns:
                    values = np.asarray(part[col.name])
                    mask = values == nulls[col.name] if col.name in nulls else None
                    arrays.append(_arrow_array(values, mask, col.name, str(path)))
                yield _csv_bytes(pa.RecordBatch.from_arrays(arrays, names=[c.name for c in columns]))

    return CatalogSource(path, columns, chunks, header=False, total=nrows, unit="rows")


def votable_source(path: Path) -> CatalogSource:
    """TABLEDATA, BINARY and BINARY2 stream; the rare FITS serialisation is read whole by astropy."""
    from archive_io.votable_stream import (
        NotTableData,
        VOTableFormatError,
        column_defs,
        read_fields,
        stream_binary_rows,
        stream_rows,
    )

    try:
        fields, description, serialisation = read_fields(path)
        columns = column_defs(fields)
    except NotTableData:
        return _votable_source_astropy(path)
    except VOTableFormatError as exc:
        raise CatalogError(f"{path}: cannot read as VOTable: {exc}") from None

    def chunks() -> Iterator[bytes]:
        try:
            if serialisation == "TABLEDATA":
                yield from stream_rows(path, fields, BATCH_ROWS)
            else:
                yield from stream_binary_rows(path, fields, serialisation == "BINARY2", BATCH_ROWS)
        except (VOTableFormatError, UnicodeDecodeError, ValueError) as exc:
            raise CatalogError(f"{path}: {exc}") from None

    return CatalogSource(path, columns, chunks, header=False, total=None, unit="rows", description=description)


def _votable_source_astropy(path: Path) -> CatalogSource:
    from astropy.io.votable import parse
    from astropy.io.votable.exceptions import VOWarning

    # astropy reads a VOTable's table whole; VOTable has no block structure to stream from.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VOWarning)
            votable = parse(str(path))
            table = votable.get_first_table()
    except Exception as exc:  # astropy raises many kinds for malformed XML/VOTable
        raise CatalogError(f"{path}: cannot read as VOTable: {exc}") from None
    array = table.array
    columns = []
    for field in table.fields:
        values = np.asarray(array[field.name])
        arrow = _arrow_array(values[:1], None, field.name, str(path)).type if len(values) else pa.string()
        meta = {
            "unit": str(field.unit) if field.unit else None,
            "ucd": field.ucd,
            "utype": field.utype,
            "description": field.description,
        }
        columns.append(_column(field.name, arrow, meta, str(path)))
    nrows = len(array)

    def chunks() -> Iterator[bytes]:
        for start in range(0, nrows, BATCH_ROWS):
            part = array[start : start + BATCH_ROWS]
            arrays = [
                _arrow_array(np.asarray(part[c.name].data), np.ma.getmaskarray(part[c.name]), c.name, str(path))
                for c in columns
            ]
            yield _csv_bytes(pa.RecordBatch.from_arrays(arrays, names=[c.name for c in columns]))

    return CatalogSource(
        path, columns, chunks, header=False, total=nrows, unit="rows", description=str(table.description or "")
    )


READERS: dict[str, Callable[[Path], CatalogSource]] = {
    ".csv": csv_source,
    ".parquet": parquet_source,
    ".pq": parquet_source,
    ".fits": fits_source,
    ".fit": fits_source,
    ".fits.gz": fits_source,
    ".vot": votable_source,
    ".xml": votable_source,
    ".votable": votable_source,
}


def open_catalog(path: Path, csv_nulls: tuple[str, ...] = ()) -> CatalogSource:
    """The catalogue in ``path``, by its suffix; ``csv_nulls`` are a CSV file's null markers
    (the other formats mark nulls their own way)."""
    name = path.name.lower()
    reader = next((r for suffix, r in READERS.items() if name.endswith(suffix)), None)
    if reader is None:
        raise CatalogError(f"{path}: unknown catalogue format; use .csv, .parquet, .fits or .vot")
    if not path.is_file():
        raise CatalogError(f"{path}: no such file")
    if reader is csv_source:
        return csv_source(path, csv_nulls)
    return reader(path)
