"""The cutout box of region ∩ image, checked against brute force: 5 x 5 points in every pixel, and
50 per pixel along the image's border, tested for being inside the region. The box must hold every
pixel with a point inside and be at most two pixels larger: the one pixel of margin the cutout
keeps, and one that a corner may touch between the sample points.

The border samples matter: a region cut by the image's edge can leave a sliver thinner than the
grid's spacing along it, which the cutout rightly keeps (a hypothesis run found one 0.1 px thin)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dalserver.dali.values import Circle, Polygon, Range, parse_interval, parse_pos, parse_range
from dalserver.soda.cutout import contains, pixel_box
from data_ingest.sample import make_wcs

N = 110
WCS_ = make_wcs(34.5, -5.0, N, 6.0)
SUB = 5
Y, X = np.mgrid[0 : N * SUB, 0 : N * SUB]
RA, DEC = (
    np.asarray(v) for v in WCS_.pixel_to_world_values((X.ravel() + 0.5) / SUB - 0.5, (Y.ravel() + 0.5) / SUB - 0.5)
)
_ALONG = np.linspace(-0.5, N - 0.5, N * 50 + 1)
BORDER_X = np.concatenate([_ALONG, _ALONG, np.full(_ALONG.size, -0.5), np.full(_ALONG.size, N - 0.5)])
BORDER_Y = np.concatenate([np.full(_ALONG.size, -0.5), np.full(_ALONG.size, N - 0.5), _ALONG, _ALONG])
BORDER_RA, BORDER_DEC = (np.asarray(v) for v in WCS_.pixel_to_world_values(BORDER_X, BORDER_Y))


def brute_force_box(shape: Circle | Polygon | Range) -> tuple[int, int, int, int] | None:
    inside = contains(shape, RA % 360.0, DEC).reshape(N, SUB, N, SUB).any(axis=(1, 3))
    ys, xs = np.nonzero(inside)
    on_border = contains(shape, BORDER_RA % 360.0, BORDER_DEC)
    # A border point belongs to the pixel it bounds (clipped: the image's corners are on two edges).
    xs = np.concatenate([xs, np.clip(np.round(BORDER_X[on_border]), 0, N - 1).astype(int)])
    ys = np.concatenate([ys, np.clip(np.round(BORDER_Y[on_border]), 0, N - 1).astype(int)])
    if xs.size == 0:
        return None
    return int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())


def check(shape: Circle | Polygon | Range) -> None:
    expected = brute_force_box(shape)
    box = pixel_box(shape, WCS_, N, N)
    if expected is None:
        # No sample inside: at most a sliver at the edge may still be touched.
        assert box is None or (box.x1 - box.x0 <= 3 or box.y1 - box.y0 <= 3)
        return
    assert box is not None
    x0, x1, y0, y1 = expected
    assert box.x0 <= x0 and box.x1 >= x1 and box.y0 <= y0 and box.y1 >= y1
    assert x0 - box.x0 <= 2 and box.x1 - x1 <= 2 and y0 - box.y0 <= 2 and box.y1 - y1 <= 2


offsets = st.floats(-0.15, 0.15)


@given(offsets, offsets, st.floats(0.002, 0.3))
def test_circle_boxes_match_brute_force(dra: float, ddec: float, radius: float) -> None:
    check(Circle(34.5 + dra, -5.0 + ddec, radius))


@given(offsets, offsets, st.floats(0.005, 0.1), st.floats(0.3, 1.0), st.floats(0, 6.28))
def test_triangle_boxes_match_brute_force(dra: float, ddec: float, width: float, aspect: float, turn: float) -> None:
    # Not needles: a spike thinner than the brute force's sample spacing would escape it.
    ra, dec, height = 34.5 + dra, -5.0 + ddec, width * aspect
    corners = [(width * np.cos(turn + k * 2.1), height * np.sin(turn + k * 2.1)) for k in range(3)]
    check(Polygon(tuple((ra + x, dec + y) for x, y in corners)))


@given(offsets, offsets, st.floats(0.001, 0.2), st.floats(0.001, 0.2))
def test_range_boxes_match_brute_force(dra: float, ddec: float, width: float, height: float) -> None:
    ra, dec = 34.5 + dra, -5.0 + ddec
    check(Range(ra, ra + width, dec, dec + height))


def test_a_region_on_the_other_side_of_the_sky_misses_the_image() -> None:
    assert pixel_box(Circle(214.5, 5.0, 1.0), WCS_, N, N) is None  # antipode: projects, but is behind
    assert pixel_box(Circle(34.5, -5.0, 170.0), WCS_, N, N) is not None  # contains the whole image


def test_range_wraps_through_zero_and_full_circle_covers_all_longitudes() -> None:
    wrap = parse_range("350 10 -5 5")
    assert contains(wrap, np.array([355.0, 5.0, 20.0]), np.zeros(3)).tolist() == [True, True, False]
    band = parse_range("-Inf +Inf -1 1")
    assert band.full_ra and contains(band, np.array([123.0]), np.array([0.0])).tolist() == [True]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("CIRCLE 1 2", "three numbers"),
        ("CIRCLE 1 2 0", "radius"),
        ("POLYGON 1 2 3 4", "at least 3 vertices"),
        ("POLYGON 1 2 1 2 1 2", "3 distinct"),
        ("POLYGON 1 2 3 +Inf 5 6", r"-Inf or \+Inf"),
        ("RANGE 1 2 3", "got 3 numbers"),
        ("RANGE 1 2 5 3", "greater than the upper"),
        ("ELLIPSE 1 2 3", "unknown shape"),
        ("", "empty value"),
    ],
)
def test_bad_shapes_are_refused_with_a_message_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_pos(text)


def test_intervals_take_open_ends_and_single_values() -> None:
    assert parse_interval("-Inf 5", "X").high == 5 and parse_interval("3", "X").low == 3
    for bad in ("+Inf +Inf", "5 3", "1 2 3", "NaN 2", "+Inf"):
        with pytest.raises(ValueError):
            parse_interval(bad, "X")
