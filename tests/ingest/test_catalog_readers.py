"""The catalogue readers of the ingest (data_ingest/catalogs/sources.py, votable_stream.py) on
small files written to tmp_path by astropy, pyarrow and by hand: the columns they describe and
the CSV they hand to COPY (read back with pyarrow, which tells a null from an empty text as COPY
does). No database: publishing is tested in test_catalogs."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import astropy.units as u
import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.io.votable import from_table
from astropy.table import MaskedColumn, QTable, Table
from astropy.time import Time
from astropy.utils.masked import Masked

from adql.catalog import ColumnMeta
from archive_io.table_readers import CatalogError, CatalogSource, duplicate_column, open_catalog
from data_ingest.catalogs.publish import Sidecar, describe_table, parse_table_name
from schemas.model import ColumnDef
from tests.support.results import batch, format_named, write

_ARROW = {"boolean": pa.bool_(), "short": pa.int16(), "int": pa.int32(), "long": pa.int64(), "float": pa.float32()}


def copied(source: CatalogSource) -> list[dict[str, object]]:
    """The rows COPY ... (FORMAT csv) would load from the source's chunks."""
    types = {
        c.name: _ARROW.get(c.datatype, pa.float64() if c.datatype == "double" else pa.string()) for c in source.columns
    }
    data = b"".join(source.chunks())
    options = pa_csv.ReadOptions(column_names=None if source.header else [c.name for c in source.columns])
    table = pa_csv.read_csv(
        io.BytesIO(data),
        read_options=options,
        parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),  # one null column
        convert_options=pa_csv.ConvertOptions(
            column_types=types,
            null_values=[""],
            true_values=["true"],
            false_values=["false"],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    return table.to_pylist()


def described(source: CatalogSource) -> dict[str, tuple[str, str | None, str | None, str]]:
    return {c.name: (c.datatype, c.unit, c.ucd, c.description) for c in source.columns}


def stars() -> Table:
    t = Table()
    t["id"] = np.array([2**53 + 1, 2, -(2**62)], dtype=np.int64)
    t["ra"] = np.array([0.1, 359.999, -0.0]) * u.deg
    t["ra"].description = "Right ascension (ICRS)"
    t["mag"] = np.array([18.5, 21.25, 30.0], dtype=np.float32) * u.mag
    t["flag"] = np.array([1, -2, 3], dtype=np.int16)
    t["name"] = ['Ωμέγα, "quoted"', "plain", "line\nbreak"]
    return t


STARS_ROWS = [
    {"id": 2**53 + 1, "ra": 0.1, "mag": 18.5, "flag": 1, "name": 'Ωμέγα, "quoted"'},
    {"id": 2, "ra": 359.999, "mag": 21.25, "flag": -2, "name": "plain"},
    {"id": -(2**62), "ra": -0.0, "mag": 30.0, "flag": 3, "name": "line\nbreak"},
]


# --- CSV -----------------------------------------------------------------------------------------
def test_csv_columns_are_typed_from_the_file_and_its_bytes_go_to_copy_untouched(tmp_path: Path) -> None:
    path = tmp_path / "cat.csv"
    path.write_bytes(b'id,ra,name,ok\n9007199254740993,0.1,"a,b",true\n2,,,false\n')
    source = open_catalog(path)
    assert source.header and source.unit == "B" and source.total == path.stat().st_size
    assert [(c.name, c.datatype) for c in source.columns] == [
        ("id", "long"),
        ("ra", "double"),
        ("name", "char"),
        ("ok", "boolean"),
    ]
    assert b"".join(source.chunks()) == path.read_bytes()


# --- Parquet -------------------------------------------------------------------------------------
def test_parquet_rows_and_astropy_units_and_descriptions_are_read(tmp_path: Path) -> None:
    path = tmp_path / "cat.parquet"
    stars().write(path)
    source = open_catalog(path)
    assert described(source)["ra"] == ("double", "deg", None, "Right ascension (ICRS)")
    assert described(source)["mag"][:2] == ("float", "mag") and described(source)["flag"][0] == "short"
    assert copied(source) == STARS_ROWS


def test_parquet_field_metadata_wins_over_astropys(tmp_path: Path) -> None:
    path = tmp_path / "cat.parquet"
    schema = pa.schema(
        [pa.field("x", pa.float64(), metadata={"unit": "arcsec", "ucd": "pos.angDistance", "description": "sep"})]
    )
    pq.write_table(pa.table({"x": [1.5, None]}, schema=schema), path)
    source = open_catalog(path)
    assert described(source)["x"] == ("double", "arcsec", "pos.angDistance", "sep")
    assert copied(source) == [{"x": 1.5}, {"x": None}]


def test_parquet_keeps_the_table_description_astropy_writes(tmp_path: Path) -> None:
    path = tmp_path / "cat.parquet"
    table = stars()
    table.meta["description"] = "Synthetic stars"
    table.write(path)
    assert open_catalog(path).description == "Synthetic stars"


def test_parquet_of_a_masked_astropy_table_gives_nulls_and_keeps_the_metadata(tmp_path: Path) -> None:
    path = tmp_path / "cat.parquet"
    table = stars()
    table["flag"] = MaskedColumn(table["flag"], mask=[False, True, False])
    table.write(path)
    source = open_catalog(path)
    assert list(described(source)) == ["id", "ra", "mag", "flag", "name"]
    assert described(source)["ra"][1] == "deg" and [r["flag"] for r in copied(source)] == [1, None, 3]


def test_parquet_of_a_masked_quantity_and_masked_text_gives_nulls_and_column_meta(tmp_path: Path) -> None:
    path = tmp_path / "cat.parquet"
    table = QTable()
    table["flux"] = Masked([1.5, 2.5, 3.5] * u.mJy, mask=[False, True, False])
    table["flux"].info.description = "Flux density"
    table["flux"].info.meta = {"ucd": "phot.flux.density", "utype": "x:flux"}
    table["name"] = MaskedColumn(["a", "", "c"], mask=[True, False, False])
    table.write(path)
    source = open_catalog(path)
    assert described(source) == {
        "flux": ("double", "mJy", "phot.flux.density", "Flux density"),
        "name": ("char", None, None, ""),
    }
    assert source.columns[0].utype == "x:flux"
    assert copied(source) == [{"flux": 1.5, "name": None}, {"flux": None, "name": ""}, {"flux": 3.5, "name": "c"}]


def test_parquet_of_astropy_time_and_skycoord_keeps_the_columns_astropy_wrote(tmp_path: Path) -> None:
    path = tmp_path / "cat.parquet"
    table = QTable()
    table["when"] = Time([59000.5, 59001.25], format="mjd")
    table["where"] = SkyCoord([10.0, 20.0] * u.deg, [-5.0, 5.0] * u.deg)
    table.write(path)
    source = open_catalog(path)
    assert list(described(source)) == ["when.jd1", "when.jd2", "where.ra", "where.dec"]
    assert described(source)["where.ra"][1] == "deg" and [r["where.dec"] for r in copied(source)] == [-5.0, 5.0]


def test_parquet_whose_astropy_header_cannot_be_read_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cat.parquet"
    schema = pa.schema([pa.field("x", pa.float64())], metadata={"table_meta_yaml": "datatype: [\n- {name: x"})
    pq.write_table(pa.table({"x": [1.0]}, schema=schema), path)
    with pytest.raises(CatalogError, match=f"{path}: cannot read the astropy table description"):
        open_catalog(path)


# --- FITS ----------------------------------------------------------------------------------------
def test_fits_tnull_and_nan_are_nulls_and_header_metadata_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cat.fits"
    columns = [
        fits.Column("id", "K", array=np.array([2**53 + 1, -1, 3]), null=-1),
        fits.Column("ra", "D", unit="deg", array=np.array([0.1, np.nan, -0.0])),
        fits.Column("name", "12A", array=np.array(["Ωμέγα".encode(), b"plain", b""])),
        fits.Column("ok", "L", array=np.array([True, False, True])),
    ]
    hdu = fits.BinTableHDU.from_columns(columns)
    hdu.header["TUCD2"] = "pos.eq.ra;meta.main"
    hdu.header["TCOMM2"] = "Right ascension"
    hdu.header["TUTYP2"] = "x:ra"
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    source = open_catalog(path)
    assert source.total == 3 and source.unit == "rows"
    assert described(source) == {
        "id": ("long", None, None, ""),
        "ra": ("double", "deg", "pos.eq.ra;meta.main", "Right ascension"),
        "name": ("char", None, None, ""),
        "ok": ("boolean", None, None, ""),
    }
    assert source.columns[1].utype == "x:ra"
    assert copied(source) == [
        {"id": 2**53 + 1, "ra": 0.1, "name": "Ωμέγα", "ok": True},
        {"id": None, "ra": None, "name": "plain", "ok": False},
        {"id": 3, "ra": -0.0, "name": "", "ok": True},
    ]


def test_fits_without_a_binary_table_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "image.fits"
    fits.PrimaryHDU(np.zeros((2, 2))).writeto(path)
    with pytest.raises(CatalogError, match=f"{path}: no binary table extension"):
        open_catalog(path)


# --- VOTable -------------------------------------------------------------------------------------
def votable(table: Table, path: Path, serialisation: str) -> Path:
    document = from_table(table)
    document.get_first_table().format = serialisation
    for f in document.get_first_table().fields:
        if f.datatype in ("short", "int", "long"):
            f.values.null = -99  # BINARY has no null flags: integers need a null value
    document.to_xml(str(path))
    return path


@pytest.mark.parametrize("serialisation", ["tabledata", "binary", "binary2"])
def test_votables_of_every_serialisation_give_the_rows_and_field_metadata(tmp_path: Path, serialisation: str) -> None:
    table = stars()
    table["ra"].meta["ucd"] = "pos.eq.ra;meta.main"
    source = open_catalog(votable(table, tmp_path / f"cat-{serialisation}.vot", serialisation))
    assert described(source)["ra"] == ("double", "deg", "pos.eq.ra;meta.main", "Right ascension (ICRS)")
    assert described(source)["mag"][:2] == ("float", "mag") and described(source)["name"][0] == "unicodeChar"
    assert copied(source) == STARS_ROWS


@pytest.mark.parametrize("serialisation", ["tabledata", "binary", "binary2"])
def test_votable_nulls_come_from_values_null_flags_and_empty_cells(tmp_path: Path, serialisation: str) -> None:
    table = Table()
    table["n"] = MaskedColumn(np.array([1, 2, 3], dtype=np.int32), mask=[False, True, False])
    table["x"] = MaskedColumn([1.5, 2.5, 3.5], mask=[True, False, False])
    table["s"] = MaskedColumn(["a", "b", "c"], mask=[False, False, True])
    rows = copied(open_catalog(votable(table, tmp_path / "nulls.vot", serialisation)))
    assert [r["n"] for r in rows] == [1, None, 3] and [r["x"] for r in rows] == [None, 2.5, 3.5]
    assert [r["s"] for r in rows] == ["a", "b", None]


def test_a_nan_float_ingests_alike_from_every_votable_serialisation(tmp_path: Path) -> None:
    table = Table()
    table["x"] = np.array([np.nan, 1.0])
    loaded = []
    for serialisation in ("tabledata", "binary2"):
        rows = copied(open_catalog(votable(table, tmp_path / f"{serialisation}.vot", serialisation)))
        loaded.append(["NaN" if isinstance(r["x"], float) and r["x"] != r["x"] else r["x"] for r in rows])
    assert loaded[0] == loaded[1] == ["NaN", 1.0]


def test_a_nan_float_in_binary_is_a_null_because_binary_has_no_other(tmp_path: Path) -> None:
    # BINARY has no null flags; a null float is written as NaN there (astropy, STILTS).
    table = Table()
    table["x"] = MaskedColumn([np.nan, 1.0, 2.0], mask=[False, False, True])
    rows = copied(open_catalog(votable(table, tmp_path / "binary.vot", "binary")))
    assert [r["x"] for r in rows] == [None, 1.0, None]


@pytest.mark.parametrize("serialisation", ["tabledata", "binary", "binary2"])
def test_a_float_values_null_is_honoured_as_a_number(tmp_path: Path, serialisation: str) -> None:
    path = tmp_path / f"{serialisation}.vot"
    votable(Table({"x": np.array([-99.0, 1.5, -99.5])}), path, serialisation)
    path.write_text(
        path.read_text().replace(
            'datatype="double" name="x"/>', 'datatype="double" name="x"><VALUES null="-99"/></FIELD>'
        )
    )
    assert '<VALUES null="-99"/>' in path.read_text()
    assert [r["x"] for r in copied(open_catalog(path))] == [None, 1.5, -99.5]


def test_votables_this_service_writes_ingest_back_to_the_same_rows(tmp_path: Path) -> None:
    """A TAP result saved to a file and published as a catalogue keeps its values and metadata."""
    columns = [
        ColumnMeta("id", "long", ucd="meta.id;meta.main"),
        ColumnMeta("ra", "double", unit="deg", ucd="pos.eq.ra;meta.main", description="R.A."),
        ColumnMeta("name", "char", "*"),
        ColumnMeta("ok", "boolean"),
        ColumnMeta("when", "char", "*", xtype="timestamp"),
    ]
    data = batch(
        columns,
        pa.array([2**53 + 1, None, 3], pa.int64()),
        pa.array([0.1, 2.5, None]),
        pa.array(["Ωμέγα 😀 <&>", "b", None]),
        pa.array([True, None, False]),
        pa.array([datetime.datetime(2021, 3, 4, 5, 6, 7), None, None], pa.timestamp("us")),
    )
    expected = [
        {"id": 2**53 + 1, "ra": 0.1, "name": "Ωμέγα 😀 <&>", "ok": True, "when": "2021-03-04T05:06:07"},
        {"id": None, "ra": 2.5, "name": "b", "ok": None, "when": None},
        {"id": 3, "ra": None, "name": None, "ok": False, "when": None},
    ]
    for name in ("votable", "votable/b2"):
        path = tmp_path / f"result-{name.replace('/', '-')}.vot"
        path.write_bytes(write(format_named(name), columns, [data]))
        source = open_catalog(path)
        assert described(source)["ra"] == ("double", "deg", "pos.eq.ra;meta.main", "R.A."), name
        assert source.columns[4].xtype == "timestamp", name
        assert copied(source) == expected, name


@pytest.mark.parametrize(
    "document, message",
    [
        ("<VOTABLE><RESOURCE><TABLE><FIELD name='a' datatype='int'/><DATA><TABLEDATA><TR><TD>1</TD>", "truncated"),
        (
            "<VOTABLE><RESOURCE><TABLE><FIELD name='a' datatype='int'/><DATA><TABLEDATA><TR><TD>1</TD><TD>2</TD></TR>"
            "</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>",
            "row 1 has 2 cells for 1 FIELDs",
        ),
        (
            "<VOTABLE><RESOURCE><TABLE><FIELD name='a' datatype='int' arraysize='3'/><DATA><TABLEDATA/></DATA></TABLE>"
            "</RESOURCE></VOTABLE>",
            "holds arrays",
        ),
        (
            "<VOTABLE><RESOURCE><TABLE><FIELD name='a' datatype='floatComplex'/><DATA><TABLEDATA/></DATA></TABLE>"
            "</RESOURCE></VOTABLE>",
            "datatype 'floatComplex' is not supported",
        ),
        ("<VOTABLE><RESOURCE/></VOTABLE>", "no TABLE with DATA"),
        ("not xml at all", "not well-formed XML"),
    ],
    ids=["truncated", "extra-cell", "array", "complex", "no-table", "not-xml"],
)
def test_bad_votables_are_refused_naming_the_file_and_the_problem(tmp_path: Path, document: str, message: str) -> None:
    path = tmp_path / "bad.vot"
    path.write_text(document)
    with pytest.raises(CatalogError, match=message) as refused:
        source = open_catalog(path)
        b"".join(source.chunks())
    assert str(path) in str(refused.value)


def test_unknown_suffixes_and_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="unknown catalogue format"):
        open_catalog(tmp_path / "cat.xlsx")
    with pytest.raises(CatalogError, match="no such file"):
        open_catalog(tmp_path / "missing.csv")


# --- describing the table to publish ---------------------------------------------------------------
def test_columns_differing_only_in_case_are_found() -> None:
    columns = [ColumnDef("RA", "double"), ColumnDef("dec", "double"), ColumnDef("ra", "double")]
    assert duplicate_column(columns) == ("RA", "ra") and duplicate_column(columns[:2]) is None


def test_the_position_comes_from_main_ucds_and_the_sidecar_corrects_columns(tmp_path: Path) -> None:
    path = tmp_path / "cat.parquet"
    table = stars()
    table["dec"] = np.array([1.0, 2.0, 3.0]) * u.deg
    table.write(path)
    source = open_catalog(path)
    sidecar = Sidecar(
        description="Stars",
        columns={
            "ra": {"ucd": "pos.eq.ra;meta.main"},
            "dec": {"ucd": "pos.eq.dec;meta.main"},
            "flag": {"datatype": "int"},
        },
    )
    definition, notes = describe_table(source, "cats", "stars", sidecar)
    assert definition.position == ("ra", "dec") and definition.description == "Stars" and notes == []
    assert (
        definition.column("ra").indexed and definition.column("ra").principal and definition.column("ra").unit == "deg"
    )
    assert definition.column("flag").datatype == "int"
    with pytest.raises(CatalogError, match="does not have: nothing"):
        describe_table(source, "cats", "stars", Sidecar(columns={"nothing": {"ucd": "x"}}))


@pytest.mark.parametrize("name", ["stars", "ivoa.stars", "tap_schema.x", "pg_catalog.x", "cats.1x", "a.b.c"])
def test_table_names_must_be_schema_dot_table_outside_the_reserved_schemas(name: str) -> None:
    with pytest.raises(CatalogError):
        parse_table_name(name)
    assert parse_table_name("Cats.Stars_2") == ("cats", "stars_2")
