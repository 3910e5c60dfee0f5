"""The images a survey is made from: what the archive says of each (``SourceImage``), and their
pixels and WCS as the tiler reads them (``read_pixels``), with the checks that keep an unusable
image out of a survey: no celestial WCS, or no finite pixel.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning
from astropy.wcs.utils import proj_plane_pixel_scales

from archive_io.image_hdu import NoImageHDU, image_hdu


class ImageSkipped(Exception):
    """An image no survey can use; the message names the file and says why."""


@dataclass(frozen=True)
class SourceImage:
    """One image as ObsCore (and the ingest's provenance) describe it."""

    did: str  # obs_publisher_did
    path: Path  # the file
    fingerprint: str  # changes when the file does (SHA-256 from the ingest, else size and mtime)
    collection: str
    band: str | None  # em_band_name
    footprint: tuple[tuple[float, float], ...]  # s_region's vertices, degrees
    em_min: float | None = None
    em_max: float | None = None
    t_min: float | None = None
    t_max: float | None = None


@dataclass(frozen=True)
class ImageFacts:
    """What a survey needs to know of an image before it is tiled."""

    pixel_scale: float  # degrees, the geometric mean of the two axes at the reference pixel
    dtype: str  # numpy dtype of the physical values astropy reads (BSCALE/BZERO applied)
    bunit: str | None
    sample: list[float]  # a few thousand finite pixel values, for the display cut


@dataclass
class Pixels:
    data: np.ndarray  # 2-d, physical values as floats, NaN where blank
    wcs: WCS  # celestial, 2 axes
    centre: np.ndarray  # unit vector of the image centre
    cos_radius: float  # cos of the angle from the centre to the farthest corner, with a margin


_SAMPLE_SIZE = 4096


def _open(path: Path) -> tuple[np.ndarray, fits.Header]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            with fits.open(path, memmap=False, lazy_load_hdus=True) as hdul:
                hdu = image_hdu(hdul, path)
                data = hdu.data
                header = hdu.header.copy()
    except NoImageHDU as exc:
        raise ImageSkipped(str(exc)) from None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ImageSkipped(f"{path}: not a readable FITS image ({exc})") from None
    if data is None:
        raise ImageSkipped(f"{path}: the image HDU has no data")
    while data.ndim > 2:  # a cube or a degenerate axis: its first plane
        data = data[0]
    return np.asarray(data), header


def _celestial_wcs(path: Path, header: fits.Header) -> WCS:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(header).celestial
    except (ValueError, KeyError, MemoryError) as exc:
        raise ImageSkipped(f"{path}: the WCS cannot be read ({exc})") from None
    if wcs.naxis != 2 or not wcs.has_celestial:
        raise ImageSkipped(f"{path}: no celestial WCS in the header (CTYPE1/CTYPE2 missing)")
    return wcs


def inspect_image(path: Path) -> ImageFacts:
    """The facts a survey needs of ``path``; ``ImageSkipped`` when no survey can use it."""
    data, header = _open(path)
    wcs = _celestial_wcs(path, header)
    try:
        scales = proj_plane_pixel_scales(wcs)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise ImageSkipped(f"{path}: the WCS has no usable pixel scale ({exc})") from None
    pixel_scale = float(math.sqrt(abs(scales[0] * scales[1])))
    ny, nx = data.shape
    corners = wcs.pixel_to_world_values([-0.5, nx - 0.5, nx - 0.5, -0.5], [-0.5, -0.5, ny - 0.5, ny - 0.5])
    if not (math.isfinite(pixel_scale) and pixel_scale > 0 and np.all(np.isfinite(corners))):
        raise ImageSkipped(f"{path}: the WCS does not give finite sky positions for the image's corners")
    values = data.astype(np.float64, copy=False).ravel()
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ImageSkipped(f"{path}: every pixel is NaN or blank")
    step = max(1, finite.size // _SAMPLE_SIZE)
    bunit = header.get("BUNIT")
    return ImageFacts(
        pixel_scale=pixel_scale,
        dtype=data.dtype.newbyteorder("=").str,
        bunit=str(bunit).strip() if bunit else None,
        sample=finite[::step][:_SAMPLE_SIZE].tolist(),
    )


def unit_vectors(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    ra_r, dec_r = np.radians(ra), np.radians(dec)
    cos_dec = np.cos(dec_r)
    return np.stack([cos_dec * np.cos(ra_r), cos_dec * np.sin(ra_r), np.sin(dec_r)], axis=-1)


def read_pixels(path: Path) -> Pixels:
    """Pixels (as floats, blanks as NaN) and WCS of ``path``, and a cone around it for a quick
    test of which cells it may cover."""
    data, header = _open(path)
    wcs = _celestial_wcs(path, header)
    if np.issubdtype(data.dtype, np.integer):
        blank = header.get("BLANK")
        floats = data.astype(np.float64)
        if blank is not None and not ("BSCALE" in header or "BZERO" in header):
            floats[data == blank] = np.nan
        data = floats
    else:
        data = data.astype(np.float64 if data.dtype.itemsize > 4 else np.float32, copy=False)
    ny, nx = data.shape
    centre_ra, centre_dec = wcs.pixel_to_world_values((nx - 1) / 2, (ny - 1) / 2)
    corner_ra, corner_dec = wcs.pixel_to_world_values(
        [-0.5, nx - 0.5, nx - 0.5, -0.5], [-0.5, -0.5, ny - 0.5, ny - 0.5]
    )
    centre = unit_vectors(np.asarray(centre_ra), np.asarray(centre_dec))
    corners = unit_vectors(np.asarray(corner_ra), np.asarray(corner_dec))
    radius = float(np.max(np.arccos(np.clip(corners @ centre, -1.0, 1.0))))
    margin = 2 * math.radians(float(np.max(proj_plane_pixel_scales(wcs))))
    return Pixels(np.ascontiguousarray(data), wcs, centre, math.cos(min(math.pi, radius + margin)))
