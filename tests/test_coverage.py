"""MOCs are made from the footprints themselves: covered where a footprint is, nowhere else."""

from __future__ import annotations

import astropy.units as u
import numpy as np
from mocpy import MOC

from archive_io.coverage import footprints_moc

SQUARE = [(34.0, -5.5), (34.2, -5.5), (34.2, -5.3), (34.0, -5.3)]
ACROSS_RA_ZERO = [(359.9, 1.0), (0.1, 1.0), (0.1, 1.2), (359.9, 1.2)]


def _covers(moc: MOC, ra: float, dec: float) -> bool:
    return bool(moc.contains_lonlat(np.array([ra]) * u.deg, np.array([dec]) * u.deg)[0])


def test_a_footprint_moc_covers_the_footprint_and_not_its_surroundings() -> None:
    moc = footprints_moc([SQUARE])
    assert _covers(moc, 34.1, -5.4) and not _covers(moc, 34.5, -5.4) and not _covers(moc, 200, 60)
    # a square of 0.2 deg (0.04 deg2): its MOC at order 10 adds at most a ring of 3.4 arcmin cells
    area = moc.sky_fraction * 4 * np.pi * (180 / np.pi) ** 2
    assert 0.04 <= area < 0.1


def test_the_moc_of_several_footprints_is_their_union_and_wraps_through_ra_zero() -> None:
    moc = footprints_moc([SQUARE, ACROSS_RA_ZERO])
    assert _covers(moc, 34.1, -5.4) and _covers(moc, 0.0, 1.1) and _covers(moc, 359.95, 1.1)
    assert not _covers(moc, 180.0, 1.1)


def test_no_footprints_give_an_empty_moc() -> None:
    assert footprints_moc([]).empty()
