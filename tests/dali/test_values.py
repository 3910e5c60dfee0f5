"""DALI literal values as SIA and SODA parse them (dalserver.dali.values): shapes, ranges and
intervals, and the messages that name what is wrong. The cutout geometry built on them is checked
in tests/soda/test_cutout_geometry.py."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dalserver.dali.values import (
    Circle,
    Interval,
    Polygon,
    Range,
    parse_circle,
    parse_interval,
    parse_polygon,
    parse_pos,
)


@pytest.mark.parametrize(
    "text, shape",
    [
        ("CIRCLE 34.5 -5 0.1", Circle(34.5, -5.0, 0.1)),
        ("circle\t0 90 180", Circle(0.0, 90.0, 180.0)),
        ("  Circle  360 -90  1e-3 ", Circle(360.0, -90.0, 0.001)),
        ("POLYGON 1 2 3 4 5 -6", Polygon(((1.0, 2.0), (3.0, 4.0), (5.0, -6.0)))),
        ("RANGE 10 20 -5 5", Range(10.0, 20.0, -5.0, 5.0)),
        ("RANGE 350 10 -5 5", Range(350.0, 10.0, -5.0, 5.0)),  # through RA 0
        ("RANGE -Inf +Inf -Inf 0", Range(0.0, 360.0, -90.0, 0.0)),
        ("RANGE 0 360 -100 100", Range(0.0, 360.0, -90.0, 90.0)),  # declinations clamped to the sphere
    ],
)
def test_pos_shapes_are_parsed_in_any_case_and_spacing(text: str, shape: object) -> None:
    assert parse_pos(text) == shape


def test_a_full_range_of_right_ascension_is_known_as_such() -> None:
    full, partial = parse_pos("RANGE -Inf +Inf -1 1"), parse_pos("RANGE 0 359 -1 1")
    assert isinstance(full, Range) and isinstance(partial, Range) and full.full_ra and not partial.full_ra


@pytest.mark.parametrize(
    "text, message",
    [
        ("CIRCLE 361 0 1", "POS CIRCLE: right ascension 361 is outside [0, 360] degrees"),
        ("CIRCLE 1 -91 1", "POS CIRCLE: declination -91 is outside [-90, 90] degrees"),
        ("CIRCLE 1 2 181", "the radius must be in (0, 180] degrees, not 181"),
        ("CIRCLE 1 2 -Inf", "only RANGE and intervals may use -Inf or +Inf"),
        ("CIRCLE 1 2 abc", "'abc' is not a number"),
        ("CIRCLE 1 NaN 2", "NaN is not a usable value"),
        ("POLYGON 1 2 3 4 5", "pairs of numbers"),
        ("RANGE 10 20 5", "got 3 numbers"),
        ("RANGE 10 400 0 1", "right ascension 400 is outside"),
        ("BOX 1 2 3 4", "unknown shape 'BOX'"),
        ("   ", "empty value"),
    ],
)
def test_bad_pos_values_are_refused_with_a_message_naming_the_parameter_and_the_problem(
    text: str, message: str
) -> None:
    with pytest.raises(ValueError) as refused:
        parse_pos(text)
    assert message in str(refused.value) and str(refused.value).startswith("POS")


def test_circle_and_polygon_parameters_name_themselves_in_their_messages() -> None:
    with pytest.raises(ValueError, match="^CIRCLE: "):
        parse_circle("1 2")
    with pytest.raises(ValueError, match="^POLYGON: "):
        parse_polygon("1 2 3 4")


@pytest.mark.parametrize(
    "text, interval",
    [
        ("1 2", Interval(1.0, 2.0)),
        ("5", Interval(5.0, 5.0)),
        ("-Inf 5e-7", Interval(-math.inf, 5e-7)),
        ("3 +Inf", Interval(3.0, math.inf)),
        ("-Inf +Inf", Interval(-math.inf, math.inf)),
        (" 2  2 ", Interval(2.0, 2.0)),
    ],
)
def test_intervals_take_two_bounds_open_ends_or_a_single_value(text: str, interval: Interval) -> None:
    assert parse_interval(text, "BAND") == interval


@pytest.mark.parametrize(
    "text, message",
    [
        ("2 1", "BAND: the lower bound 2 is greater than the upper bound 1"),
        ("+Inf +Inf", "is empty"),
        ("-Inf -Inf", "is empty"),
        ("+Inf", "a single value must be finite"),
        ("1 2 3", "expected one number or two"),
        ("", "expected one number or two"),
        ("NaN 1", "NaN is not a usable value"),
    ],
)
def test_bad_intervals_are_refused_naming_the_parameter(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("+", r"\+")):
        parse_interval(text, "BAND")


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(finite, finite)
def test_any_two_ordered_numbers_are_an_interval_that_reads_back_exactly(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert parse_interval(f"{low!r} {high!r}", "X") == Interval(low, high)


@given(
    st.floats(0, 360),
    st.floats(-90, 90),
    st.floats(0, 180, exclude_min=True),
)
def test_any_circle_on_the_sphere_reads_back_exactly(ra: float, dec: float, radius: float) -> None:
    assert parse_pos(f"CIRCLE {ra!r} {dec!r} {radius!r}") == Circle(ra, dec, radius)
