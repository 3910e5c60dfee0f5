"""The order-29 nested HEALPix index of sky positions: how the VO crawler assigns each remote row
to its cell, and how the server places the rows it fetches live (cdshealpix, vectorised)."""

from __future__ import annotations

import numpy as np

MAX_ORDER = 29  # the finest nested order: positions are stored as their order-29 cell


def order29(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """The order-29 nested index of each position (degrees, ICRS); int64."""
    import astropy.units as u
    from astropy.coordinates import Latitude, Longitude
    from cdshealpix import nested

    if ra.size == 0:
        return np.zeros(0, dtype=np.int64)
    ipix = nested.lonlat_to_healpix(
        Longitude(np.mod(ra, 360.0), unit=u.deg), Latitude(dec, unit=u.deg), MAX_ORDER, num_threads=1
    )
    return np.asarray(ipix, dtype=np.int64)
