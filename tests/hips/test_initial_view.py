"""Where a survey opens: on all of its data when they lie together, on its largest field when
fields lie far apart (not between them, on empty sky), never on whichever field came first."""

from __future__ import annotations

import math

import pytest

from hips_build.initial_view import COMPACT, initial_view, sky_fields, view_of


def _square(ra: float, dec: float, side: float) -> tuple[tuple[float, float], ...]:
    half = side / 2
    stretch = 1 / math.cos(math.radians(dec))
    return (
        (ra - half * stretch, dec - half),
        (ra + half * stretch, dec - half),
        (ra + half * stretch, dec + half),
        (ra - half * stretch, dec + half),
    )


def _grid(
    ra: float, dec: float, count: int, side: float = 0.18, step: float = 0.17
) -> list[tuple[tuple[float, float], ...]]:
    """A mosaic of ``count x count`` overlapping pointings, like the sample's SXDS stacks."""
    stretch = 1 / math.cos(math.radians(dec))
    return [
        _square(ra + (i - (count - 1) / 2) * step * stretch, dec + (j - (count - 1) / 2) * step, side)
        for i in range(count)
        for j in range(count)
    ]


def test_one_field_opens_on_all_of_it() -> None:
    footprints = _grid(34.5, -5.0, 3)
    ra, dec, fov = initial_view(footprints)
    assert (ra, dec) == pytest.approx((34.5, -5.0), abs=1e-3)
    assert 0.6 < fov < 1.0  # the 0.52 deg mosaic and a margin
    assert (ra, dec, fov) == view_of(footprints)


def test_a_mosaic_with_gaps_between_pointings_is_one_field() -> None:
    assert sky_fields(_grid(150.0, 2.0, 3, side=0.18, step=0.25)) == [list(range(9))]


def test_fields_close_together_open_together() -> None:
    sxds = _grid(34.5, -5.0, 2)
    neighbour = _grid(35.2, -5.0, 2)  # 0.7 deg away: two fields, but one view shows both well
    assert len(sky_fields(sxds + neighbour)) == 2
    ra, dec, fov = initial_view(sxds + neighbour)
    assert ra == pytest.approx(34.85, abs=0.01) and dec == pytest.approx(-5.0, abs=0.01)
    assert fov <= COMPACT * view_of(sxds)[2]


@pytest.mark.parametrize("first", ["small", "large"])
def test_fields_far_apart_open_on_the_largest_whichever_came_first(first: str) -> None:
    sxds = _grid(34.5, -5.0, 2)  # four pointings
    cosmos = _grid(150.1, 2.2, 3)  # nine: the larger field
    footprints = sxds + cosmos if first == "small" else cosmos + sxds
    ra, dec, fov = initial_view(footprints)
    assert (ra, dec) == pytest.approx((150.1, 2.2), abs=0.01)
    assert fov == pytest.approx(view_of(cosmos)[2])
    # The view of everything would be centred between them, on empty sky, tens of degrees from either.
    whole_ra, _, whole_fov = view_of(footprints)
    assert whole_fov > 100 and abs(whole_ra - 34.5) > 20 and abs(whole_ra - 150.1) > 20


def test_fields_of_equal_size_open_on_the_one_with_more_images_then_the_first() -> None:
    one = [_square(10.0, 0.0, 0.4)]
    four = _grid(100.0, 0.0, 2, side=0.2, step=0.2)  # the same 0.4 deg square in four images
    assert initial_view(one + four)[:2] == pytest.approx((100.0, 0.0), abs=0.01)
    assert initial_view(one + [_square(200.0, 10.0, 0.4)])[:2] == pytest.approx((10.0, 0.0), abs=0.01)


def test_images_covering_the_sky_open_on_the_whole_sky() -> None:
    footprints = [_square(ra, dec, 30.0) for ra in range(0, 360, 30) for dec in (-60, -30, 0, 30, 60)]
    assert len(sky_fields(footprints)) == 1
    assert initial_view(footprints)[2] == 180.0
