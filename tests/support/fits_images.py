"""Small FITS images with the header cards a test needs, for ingest tests: a 16 x 16 TAN image
near the sample's field, and whatever cards the test adds or removes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits

BASE_CARDS: dict[str, object] = {
    "CTYPE1": "RA---TAN",
    "CTYPE2": "DEC--TAN",
    "CRVAL1": 34.5,
    "CRVAL2": -5.0,
    "CRPIX1": 8.5,
    "CRPIX2": 8.5,
    "CDELT1": -0.001,
    "CDELT2": 0.001,
    "MJD-OBS": 53000.0,
    "EXPTIME": 600.0,
}


def small_image(path: Path, *, without: tuple[str, ...] = (), **cards: Any) -> Path:
    """Write the image to ``path`` (FRAMEID its stem), with ``cards`` and without ``without``."""
    header = fits.Header()
    for key, value in {**BASE_CARDS, "FRAMEID": path.stem, **cards}.items():
        if key not in without:
            header[key] = value
    fits.PrimaryHDU(np.zeros((16, 16), dtype=np.float32), header).writeto(path)
    return path
