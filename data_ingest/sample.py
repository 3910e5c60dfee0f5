"""Synthetic Subaru Suprime-Cam mosaic stacks of the Subaru/XMM-Newton Deep Survey (SXDS) field.

A 6 x 6 grid of 11-arcmin tiles covers RA 34.0-35.0, Dec -5.5 to -4.5. Every tile is stacked in
V, Rc and i'; the central four also in B, z' and four narrow/intermediate bands. Images are
noise plus the same deterministic sky of point sources, seen through a seeing that varies per
stack, so that a source appears at the same position in every band. Deterministic: the same
call writes byte-identical files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.time import Time
from astropy.wcs import WCS

from data_ingest.instruments import shipped_profile

RA_RANGE = (34.0, 35.0)
DEC_RANGE = (-5.5, -4.5)
GRID = 6
TILE_SIZE_DEG = 11 / 60
ALL_TILE_BANDS = ("W-J-V", "W-C-RC", "W-S-I+")
CENTRAL_TILE_BANDS = ("W-J-B", "W-S-Z+", "N-B-L497", "N-A-L503", "I-A-L598", "N-B-1010")
SUPRIMECAM = shipped_profile("Suprime-Cam")
_FIRST_NIGHT = Time("2002-09-29T10:30:00", scale="utc")


@dataclass(frozen=True)
class StackSpec:
    tile_i: int
    tile_j: int
    band: str
    ra: float
    dec: float
    mjd_start: float
    nights: int
    exptime: float
    seeing: float  # arcsec FWHM

    @property
    def data_id(self) -> str:
        # Shaped like Suprime-Cam stack identifiers: SUPM + field, date code, band code, version.
        band_code = list(SUPRIMECAM.filters).index(self.band)
        date = Time(self.mjd_start, format="mjd").datetime
        return f"SUPM{self.tile_i}{self.tile_j}{date:%y%m%d}C{band_code:02d}{int(self.exptime) % 10000:04d}F00"

    @property
    def filename(self) -> str:
        return f"{self.data_id}.fits"


def tile_centres() -> list[tuple[int, int, float, float]]:
    step_ra = (RA_RANGE[1] - RA_RANGE[0]) / GRID
    step_dec = (DEC_RANGE[1] - DEC_RANGE[0]) / GRID
    return [
        (i, j, RA_RANGE[0] + (i + 0.5) * step_ra, DEC_RANGE[0] + (j + 0.5) * step_dec)
        for j in range(GRID)
        for i in range(GRID)
    ]


def stack_specs(seed: int = 2002) -> list[StackSpec]:
    rng = np.random.default_rng(seed)
    specs = []
    central = {GRID // 2 - 1, GRID // 2}
    for i, j, ra, dec in tile_centres():
        bands = ALL_TILE_BANDS + (CENTRAL_TILE_BANDS if i in central and j in central else ())
        for band in bands:
            # Stacks do not land exactly on the grid: a few arcsec of dither residual.
            d_ra, d_dec = rng.normal(0, 3 / 3600, size=2)
            specs.append(
                StackSpec(
                    tile_i=i,
                    tile_j=j,
                    band=band,
                    ra=float(ra + d_ra),
                    dec=float(dec + d_dec),
                    mjd_start=float(_FIRST_NIGHT.mjd + rng.integers(0, 3 * 365) + rng.uniform(0, 0.2)),
                    nights=int(rng.integers(1, 4)),
                    exptime=float(rng.choice([1800.0, 3600.0, 5400.0, 7200.0, 12600.0])),
                    seeing=float(rng.uniform(0.55, 1.1)),
                )
            )
    return specs


def sky_sources(seed: int = 4242, count: int = 4000) -> np.ndarray:
    """One fixed list of (ra, dec, flux) shared by every band, so sources line up across stacks."""
    rng = np.random.default_rng(seed)
    pad = 0.2
    ra = rng.uniform(RA_RANGE[0] - pad, RA_RANGE[1] + pad, count)
    dec = rng.uniform(DEC_RANGE[0] - pad, DEC_RANGE[1] + pad, count)
    flux = 10 ** rng.uniform(1.5, 4.0, count)
    return np.stack([ra, dec, flux], axis=1)


def make_wcs(ra: float, dec: float, npix: int, scale_arcsec: float) -> WCS:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [ra, dec]
    w.wcs.crpix = [(npix + 1) / 2, (npix + 1) / 2]
    scale = scale_arcsec / 3600
    w.wcs.cd = [[-scale, 0.0], [0.0, scale]]
    w.wcs.cunit = ["deg", "deg"]
    w.wcs.radesys = "ICRS"
    return w


def render_image(spec: StackSpec, w: WCS, npix: int, scale_arcsec: float, sources: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.normal(100.0, 5.0, size=(npix, npix)).astype(np.float32)
    x, y = w.world_to_pixel_values(sources[:, 0], sources[:, 1])
    inside = (x > -5) & (x < npix + 4) & (y > -5) & (y < npix + 4)
    sigma = max(spec.seeing / scale_arcsec, 0.6) / 2.3548
    half = max(3, int(math.ceil(4 * sigma)))
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1]
    for sx, sy, flux in zip(x[inside], y[inside], sources[inside, 2], strict=True):
        cx, cy = int(round(sx)), int(round(sy))
        stamp = flux * np.exp(-((xx + cx - sx) ** 2 + (yy + cy - sy) ** 2) / (2 * sigma**2))
        stamp /= 2 * math.pi * sigma**2
        x0, x1 = max(cx - half, 0), min(cx + half + 1, npix)
        y0, y1 = max(cy - half, 0), min(cy + half + 1, npix)
        if x0 < x1 and y0 < y1:
            image[y0:y1, x0:x1] += stamp[
                y0 - (cy - half) : y1 - (cy - half), x0 - (cx - half) : x1 - (cx - half)
            ].astype(np.float32)
    return image


def stack_header(spec: StackSpec, w: WCS) -> fits.Header:
    header = w.to_header()
    start = Time(spec.mjd_start, format="mjd")
    end = Time(spec.mjd_start + spec.nights - 1 + spec.exptime / spec.nights / 86400, format="mjd")
    cards = [
        ("TELESCOP", "Subaru", "Telescope name"),
        ("INSTRUME", "Suprime-Cam", "Instrument name"),
        ("OBSERVAT", "NAOJ", "Observatory"),
        ("FILTER01", spec.band, "Filter name"),
        ("OBJECT", "SXDS", "Target name"),
        ("FRAMEID", spec.data_id, "Data identifier of this stack"),
        ("DATE-OBS", start.isot[:10], "Date of the first exposure (UT)"),
        ("MJD-OBS", round(spec.mjd_start, 6), "MJD at the start of the first exposure"),
        ("MJD-END", round(end.mjd, 6), "MJD at the end of the last exposure"),
        ("EXPTIME", spec.exptime, "[s] Total exposure time of the stack"),
        ("SEEING", round(spec.seeing, 3), "[arcsec] FWHM of the point-spread function"),
        ("BUNIT", "ADU", "Pixel unit"),
        ("EQUINOX", 2000.0, "Equinox of the coordinates"),
    ]
    for key, value, comment in cards:
        header[key] = (value, comment)
    return header


def write_sample(directory: Path, npix: int = 110, scale_arcsec: float = 6.0) -> list[Path]:
    """Write the sample stacks into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    sources = sky_sources()
    paths = []
    for index, spec in enumerate(stack_specs()):
        w = make_wcs(spec.ra, spec.dec, npix, scale_arcsec)
        data = render_image(spec, w, npix, scale_arcsec, sources, seed=index)
        hdu = fits.PrimaryHDU(data=data, header=stack_header(spec, w))
        path = directory / spec.filename
        hdu.writeto(path, overwrite=True, output_verify="exception")
        paths.append(path)
    return paths
