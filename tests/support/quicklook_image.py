"""The quick-look viewer's 4096 x 4096 float32 image: Gaussian noise, a TAN WCS and a catalogue's
sources drawn as small Gaussians (some outside it), for tests/web/test_viewer.py and bench/portal.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

SIDE = 4096
SCALE = 0.2 / 3600  # degrees per pixel: a 13.7-arcmin field
CENTRE = (150.1, 2.2)
FRAME_ID = "QL4K0001"


def write_image(path: Path) -> tuple[np.ndarray, WCS, Table]:
    """Write the image to ``path``; its pixels, its WCS and the sources' (ra, dec)."""
    rng = np.random.default_rng(25)
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = list(CENTRE)
    w.wcs.crpix = [(SIDE + 1) / 2, (SIDE + 1) / 2]
    w.wcs.cd = [[-SCALE, 0.0], [0.0, SCALE]]
    data = rng.normal(100.0, 5.0, size=(SIDE, SIDE)).astype(np.float32)
    half = SIDE * SCALE / 2 * 1.2
    sources = Table({"ra": CENTRE[0] + rng.uniform(-half, half, 300), "dec": CENTRE[1] + rng.uniform(-half, half, 300)})
    x, y = w.world_to_pixel_values(sources["ra"], sources["dec"])
    yy, xx = np.mgrid[-6:7, -6:7]
    for sx, sy in zip(x, y, strict=True):
        cx, cy = int(round(sx)), int(round(sy))
        if 6 <= cx < SIDE - 6 and 6 <= cy < SIDE - 6:
            data[cy - 6 : cy + 7, cx - 6 : cx + 7] += 500 * np.exp(-((xx + cx - sx) ** 2 + (yy + cy - sy) ** 2) / 4.0)
    header = w.to_header()
    header.update({"MJD-OBS": 60000.0, "EXPTIME": 300.0, "FRAMEID": FRAME_ID, "OBJECT": "quick-look field"})
    fits.PrimaryHDU(data, header).writeto(path)
    return data, w, sources
