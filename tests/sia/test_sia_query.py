"""SIA 2.0 parameters to SQL (dalserver.sia.query.build_query), over the ObsCore table as the
builtin schemas define it (catalog_of, no database): the fragments each parameter gives, how
values combine, and the UsageFaults. That the SQL finds the right images is tested on the
database in test_sia."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dalserver.dali.faults import DALIError, ErrorStyle, Fault, UsageFault
from dalserver.sia.query import build_query, obscore_table, select_list
from schemas.model import builtin_schemas, catalog_of

OBSCORE = obscore_table(catalog_of(builtin_schemas()).tables)
ALWAYS = "o.\"dataproduct_type\" IN ('image', 'cube')"


def where(**values: list[str]) -> str:
    sql = build_query(values, OBSCORE, 100).sql
    clause = sql.split(" WHERE ", 1)[1]
    assert clause.startswith(ALWAYS) and clause.endswith(" LIMIT 101")
    return clause[len(ALWAYS) : -len(" LIMIT 101")].removeprefix(" AND ")


def deg(value: float) -> str:
    return f"radians(CAST({value!r} AS double precision))"


def test_no_parameters_select_every_image_and_cube_up_to_the_limit() -> None:
    query = build_query({}, OBSCORE, 0)
    assert query.sql.endswith(f'FROM "ivoa"."obscore" AS o WHERE {ALWAYS} LIMIT 0')
    assert query.columns == list(OBSCORE.columns)


def test_geometry_columns_are_selected_as_their_text_and_the_rest_as_they_are() -> None:
    columns = select_list(OBSCORE.columns)
    assert 'CAST(o."s_region" AS text) AS "s_region"' in columns and 'o."s_ra", o."s_dec"' in columns


def test_the_select_list_kept_for_a_column_set_is_never_given_for_another() -> None:
    # select_list keeps its text by the identity of the columns' tuple: a catalogue that changes
    # (a column gone, one renamed, many caller-specific tables) gets its own.
    first = select_list(OBSCORE.columns)
    assert select_list(OBSCORE.columns) == first
    renamed = tuple(replace(c, name="s_ra_renamed") if c.name == "s_ra" else c for c in OBSCORE.columns)
    assert 'o."s_ra_renamed"' in select_list(renamed) and 'o."s_ra",' not in select_list(renamed)
    for dropped in range(len(OBSCORE.columns)):  # more sets than are kept at once
        columns = OBSCORE.columns[:dropped] + OBSCORE.columns[dropped + 1 :]
        assert select_list(columns) == ", ".join(select_list((c,)) for c in columns)
    assert select_list(tuple(OBSCORE.columns)) == first == select_list(OBSCORE.columns)


def test_pos_circle_and_polygon_overlap_the_footprint_through_its_index() -> None:
    circle = f'o."s_region" && scircle(spoint({deg(34.5)}, {deg(-5.0)}), {deg(0.1)})'
    assert where(POS=["CIRCLE 34.5 -5 0.1"]) == circle
    assert (
        where(POS=["POLYGON 1 2 3 4 5 6"]) == "o.\"s_region\" && CAST('{(1.0d,2.0d),(3.0d,4.0d),(5.0d,6.0d)}' AS spoly)"
    )


def test_pos_range_is_polygons_pieces_and_caps_never_an_sbox() -> None:
    assert where(POS=["RANGE -Inf +Inf -90 90"]) == 'o."s_region" IS NOT NULL'
    band = where(POS=["RANGE 0 360 -10 10"])
    assert band.startswith('(NOT (o."s_region" <@ scircle(') and " AND NOT (" in band and "sbox" not in band
    wrapped = where(POS=["RANGE 350 10 -1 1"])
    assert wrapped.startswith('o."s_region" && CAST(\'{(350.0d,-1.0d),(351.0d,-1.0d)') and "(0.0d,-1.0d)" in wrapped
    wide = where(POS=["RANGE 0 300 -1 1"])  # pieces of at most 90 degrees, OR-ed
    assert wide.startswith("(") and wide.count(" OR ") == 3 and wide.count("AS spoly)") == 4


def test_values_of_one_parameter_are_or_ed_and_different_parameters_and_ed() -> None:
    clause = where(TARGET=["A", "B"], CALIB=["2"])
    assert clause == 'o."calib_level" = 2 AND (o."target_name" = \'A\' OR o."target_name" = \'B\')'


@pytest.mark.parametrize(("parameter", "column"), [("INSTRUMENT", "instrument_name"), ("FACILITY", "facility_name")])
def test_instrument_and_facility_match_the_name_or_a_spelling_the_ingest_recorded(parameter: str, column: str) -> None:
    assert where(**{parameter: ["SuprimeCam"]}) == (
        f"o.\"{column}\" IN (SELECT 'SuprimeCam' UNION SELECT s.published FROM ingest.spellings AS s "
        f"WHERE s.column_name = '{column}' AND s.spelling = 'SuprimeCam')"
    )


def test_overlap_intervals_compare_the_bounds_with_open_ends_as_not_null() -> None:
    assert where(BAND=["-Inf 5e-7"]) == '(o."em_min" <= CAST(5e-07 AS double precision) AND o."em_max" IS NOT NULL)'
    assert where(TIME=["55000"]) == (
        '(o."t_min" <= CAST(55000.0 AS double precision) AND o."t_max" >= CAST(55000.0 AS double precision))'
    )


def test_containing_intervals_bound_the_column_and_a_fully_open_one_asks_for_a_value() -> None:
    assert where(FOV=["1 +Inf"]) == '(o."s_fov" >= CAST(1.0 AS double precision))'
    assert where(EXPTIME=["-Inf +Inf"]) == '(o."t_exptime" IS NOT NULL)'
    assert where(SPATRES=["0.5 1"]) == (
        '(o."s_resolution" >= CAST(0.5 AS double precision) AND o."s_resolution" <= CAST(1.0 AS double precision))'
    )


def test_string_values_are_quoted_so_they_cannot_become_sql() -> None:
    assert where(TARGET=["x' OR '1'='1"]) == "o.\"target_name\" = 'x'' OR ''1''=''1'"
    assert where(ID=["IVO://Example/X?1"]) == "lower(o.\"obs_publisher_did\") = lower('IVO://Example/X?1')"
    assert where(POL=["I"]) == "strpos(o.\"pol_states\", '/I/') > 0"


def test_release_dates_match_nothing_where_obscore_has_no_release_date_column() -> None:
    undated = replace(OBSCORE, columns=tuple(c for c in OBSCORE.columns if c.name != "obs_release_date"))
    assert build_query({"RELEASEDATE": ["2020-01-01"]}, undated, 5).sql.endswith("AND FALSE LIMIT 6")
    sql = build_query({"RELEASEDATE": ["2020-01-01T00:00:00Z 2021-01-01"]}, OBSCORE, 5).sql
    assert "CAST(o.\"obs_release_date\" AS timestamptz) BETWEEN CAST('2020-01-01T00:00:00Z' AS timestamptz)" in sql


@pytest.mark.parametrize(
    "values, message",
    [
        ({"POS": ["CIRCLE 1 2"]}, "UsageFault: POS CIRCLE: a circle is 'ra dec radius'"),
        ({"BAND": ["2 1"]}, "UsageFault: BAND: the lower bound 2 is greater than the upper bound 1"),
        ({"POL": ["Z"]}, "UsageFault: POL: 'Z' is not an ObsCore polarization state"),
        ({"CALIB": ["5"]}, "UsageFault: CALIB: 5 is not an ObsCore calibration level"),
        ({"CALIB": ["two"]}, "UsageFault: CALIB: 'two' is not an integer"),
        ({"DPTYPE": ["picture"]}, "UsageFault: DPTYPE: 'picture' is not an ObsCore data product type"),
        ({"RELEASEDATE": ["yesterday"]}, "UsageFault: RELEASEDATE: 'yesterday' is not an ISO 8601 date"),
        ({"RELEASEDATE": ["2020 2021 2022"]}, "UsageFault: RELEASEDATE: expected one ISO 8601 date or two"),
        ({"TARGET": ["a\x00b"]}, "UsageFault: TARGET: a text value cannot contain the NUL character (U+0000)"),
    ],
)
def test_bad_values_are_usage_faults_naming_the_parameter(values: dict[str, list[str]], message: str) -> None:
    with pytest.raises(UsageFault) as refused:
        build_query(values, OBSCORE, 10)
    # The fault's name is written by the error handler, in SIA's style (SIA 2.0 sec. 4.2).
    assert ErrorStyle.DAL_VOTABLE.message(refused.value).startswith(message)


def test_an_archive_without_obscore_is_a_transient_fault() -> None:
    others = [t for t in catalog_of(builtin_schemas()).tables if t.name != "obscore"]
    with pytest.raises(DALIError) as refused:
        obscore_table(others)
    assert refused.value.status_code == 503 and refused.value.fault is Fault.TRANSIENT
