"""Cut sky regions out of a FITS image: the pixel box of region ∩ image, through astropy's Cutout2D.

The box is found on the sphere, not in pixel space alone: the region's outline is sampled and
kept where it falls on the image, and the image's edge is sampled and kept where it lies inside
the region. The extremes of region ∩ image lie on one of the two, so their bounding box (in the
image's own WCS, distortions included) is the cutout, already clipped to the image. A region that
does not touch the image gives no cutout at all.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from astropy.io import fits
from astropy.nddata import Cutout2D
from astropy.wcs import WCS, FITSFixedWarning

from archive_io.image_hdu import image_hdu
from dalserver.dali.values import Circle, Polygon, Range, Shape

_OUTLINE_POINTS = 720  # samples along a circle, a range, or all edges of a polygon
_EDGE_POINTS = 512  # samples along each edge of the image (fewer if it has fewer pixels)


class UnsupportedData(Exception):
    """A dataset this service cannot cut (the message says why)."""


@dataclass(frozen=True)
class PixelBox:
    x0: int  # first and last pixel index (inclusive), 0-based, along each axis
    x1: int
    y0: int
    y1: int


def _unit_vectors(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    r, d = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(d) * np.cos(r), np.cos(d) * np.sin(r), np.sin(d)], axis=-1)


def _ra_dec(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y, z = vectors[..., 0], vectors[..., 1], vectors[..., 2]
    return np.degrees(np.arctan2(y, x)) % 360.0, np.degrees(np.arctan2(z, np.hypot(x, y)))


def _separation(ra1: float, dec1: float, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    centre = _unit_vectors(np.array(ra1), np.array(dec1))
    degrees: np.ndarray = np.degrees(np.arccos(np.clip(_unit_vectors(ra, dec) @ centre, -1.0, 1.0)))
    return degrees


def outline(shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    """Points along the region's boundary, in degrees."""
    if isinstance(shape, Circle):
        bearing = np.linspace(0.0, 2 * math.pi, _OUTLINE_POINTS, endpoint=False)
        d0, r = math.radians(shape.dec), math.radians(shape.radius)
        dec = np.arcsin(math.sin(d0) * math.cos(r) + math.cos(d0) * math.sin(r) * np.cos(bearing))
        ra = math.radians(shape.ra) + np.arctan2(
            np.sin(bearing) * math.sin(r) * math.cos(d0), math.cos(r) - math.sin(d0) * np.sin(dec)
        )
        return np.degrees(ra) % 360.0, np.degrees(dec)
    if isinstance(shape, Polygon):
        vertices = np.array(shape.vertices)
        corners = _unit_vectors(vertices[:, 0], vertices[:, 1])
        per_edge = max(8, _OUTLINE_POINTS // len(corners))
        t = np.linspace(0.0, 1.0, per_edge, endpoint=False)[:, None]
        # Along each great-circle edge: normalised linear blends of its ends (edges < 180 degrees).
        edges = [a * (1 - t) + b * t for a, b in zip(corners, np.roll(corners, -1, axis=0), strict=True)]
        points = np.concatenate(edges)
        return _ra_dec(points / np.linalg.norm(points, axis=1, keepdims=True))
    assert isinstance(shape, Range)
    width = (shape.ra_max - shape.ra_min) % 360.0 or (360.0 if shape.full_ra else 0.0)
    n = _OUTLINE_POINTS // 4
    ra_line = (shape.ra_min + np.linspace(0.0, width, n)) % 360.0
    dec_line = np.linspace(shape.dec_min, shape.dec_max, n)
    ra = np.concatenate([ra_line, ra_line, np.full(n, shape.ra_min), np.full(n, shape.ra_max)])
    dec = np.concatenate([np.full(n, shape.dec_min), np.full(n, shape.dec_max), dec_line, dec_line])
    return ra, dec


def _inside_polygon(shape: Polygon, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    # Gnomonic projection about the polygon's centre maps great circles to straight lines, so the
    # plane's even-odd rule decides exactly; the polygon is smaller than a hemisphere (SIA 2.0).
    vertices = np.array(shape.vertices)
    corners = _unit_vectors(vertices[:, 0], vertices[:, 1])
    centre = corners.sum(axis=0)
    centre /= np.linalg.norm(centre)
    east = np.cross([0.0, 0.0, 1.0], centre)
    east = east / np.linalg.norm(east) if np.linalg.norm(east) > 1e-12 else np.array([0.0, 1.0, 0.0])
    north = np.cross(centre, east)

    def project(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        depth = v @ centre
        with np.errstate(divide="ignore", invalid="ignore"):
            return (v @ east) / depth, (v @ north) / depth, depth

    px, py, _ = project(corners)
    x, y, depth = project(_unit_vectors(ra, dec))
    inside = np.zeros(x.shape, dtype=bool)
    for i in range(len(px)):
        x1, y1, x2, y2 = px[i - 1], py[i - 1], px[i], py[i]
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < at)
    return inside & (depth > 0)


def contains(shape: Shape, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    if isinstance(shape, Circle):
        return _separation(shape.ra, shape.dec, ra, dec) <= shape.radius
    if isinstance(shape, Polygon):
        return _inside_polygon(shape, ra, dec)
    assert isinstance(shape, Range)
    in_dec = (dec >= shape.dec_min) & (dec <= shape.dec_max)
    if shape.full_ra:
        return in_dec
    return in_dec & ((ra - shape.ra_min) % 360.0 <= (shape.ra_max - shape.ra_min) % 360.0)


def _image_edge(nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    xs = np.linspace(-0.5, nx - 0.5, min(nx + 1, _EDGE_POINTS))
    ys = np.linspace(-0.5, ny - 0.5, min(ny + 1, _EDGE_POINTS))
    x = np.concatenate([xs, xs, np.full(ys.size, -0.5), np.full(ys.size, nx - 0.5)])
    y = np.concatenate([np.full(xs.size, -0.5), np.full(xs.size, ny - 0.5), ys, ys])
    return x, y


def pixel_box(shape: Shape, wcs: WCS, nx: int, ny: int) -> PixelBox | None:
    """The pixels of region ∩ image, or None when the region misses the image."""
    centre_ra, centre_dec = (float(v) for v in wcs.pixel_to_world_values((nx - 1) / 2, (ny - 1) / 2))
    ra, dec = outline(shape)
    # A projection also maps points behind the sky's tangent plane somewhere: keep the near side.
    near = _separation(centre_ra, centre_dec, ra, dec) < 90.0
    x, y = wcs.world_to_pixel_values(ra[near], dec[near])
    on_image = np.isfinite(x) & np.isfinite(y) & (x >= -0.5) & (x <= nx - 0.5) & (y >= -0.5) & (y <= ny - 0.5)
    ex, ey = _image_edge(nx, ny)
    edge_ra, edge_dec = wcs.pixel_to_world_values(ex, ey)
    covered = contains(shape, np.asarray(edge_ra) % 360.0, np.asarray(edge_dec))
    xs = np.concatenate([x[on_image], ex[covered]])
    ys = np.concatenate([y[on_image], ey[covered]])
    if xs.size == 0:
        return None
    # Pixel i spans [i - 0.5, i + 0.5]. The samples lie up to about half a pixel apart, so an
    # extreme between two of them can reach into the next pixel: one pixel of margin keeps the
    # whole region in the cutout.
    x0 = int(np.clip(math.floor(xs.min() + 0.5) - 1, 0, nx - 1))
    x1 = int(np.clip(math.floor(xs.max() + 0.5) + 1, 0, nx - 1))
    y0 = int(np.clip(math.floor(ys.min() + 0.5) - 1, 0, ny - 1))
    y1 = int(np.clip(math.floor(ys.max() + 0.5) + 1, 0, ny - 1))
    return PixelBox(x0, x1, y0, y1)


# The original's WCS keywords go before the cutout's are written: a CD matrix left next to the new
# PC matrix, or SIP terms of another reference pixel, would describe another sky.
_WCS_KEY = re.compile(
    r"^(WCSAXES|CRPIX\d|CRVAL\d|CDELT\d|CTYPE\d|CUNIT\d|CROTA\d|PC\d_\d|CD\d_\d|PV\d_\d+|PS\d_\d+"
    r"|LONPOLE|LATPOLE|A_ORDER|B_ORDER|AP_ORDER|BP_ORDER|A_\d+_\d+|B_\d+_\d+|AP_\d+_\d+|BP_\d+_\d+)$"
)


def _without_wcs(header: fits.Header) -> fits.Header:
    out = header.copy()
    for key in [k for k in out if _WCS_KEY.match(k)]:
        out.remove(key, remove_all=True)
    return out


@dataclass(frozen=True)
class Cutout:
    data: np.ndarray
    header: fits.Header
    region: str  # the request's text, for the header


def _cut(data: np.ndarray, wcs: WCS, header: fits.Header, box: PixelBox, region: str) -> Cutout:
    size = (box.y1 - box.y0 + 1, box.x1 - box.x0 + 1)
    position = ((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2)
    cut = Cutout2D(data, position, size, wcs=wcs, mode="trim", copy=True)
    out = _without_wcs(header)
    out.update(cut.wcs.to_header(relax=True))
    out["SODAREG"] = (region[:60], "SODA region this cutout was made for")
    out["SODABOX"] = (f"{box.x0 + 1}:{box.x1 + 1},{box.y0 + 1}:{box.y1 + 1}", "pixels of the original (1-based)")
    return Cutout(cut.data, out, region)


def cutouts(path: Path, regions: list[tuple[Shape, str]]) -> list[Cutout]:
    """One cutout per region that touches the image (regions that miss it give none)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        with fits.open(path, memmap=True) as hdul:
            hdu = image_hdu(hdul, path)
            header = hdu.header.copy()
            wcs = WCS(header, naxis=2)
            data = hdu.data
            if data.ndim != 2:
                raise UnsupportedData(f"the dataset has {data.ndim} axes; only 2-d images can be cut yet")
            ny, nx = data.shape
            result = []
            for shape, text in regions:
                box = pixel_box(shape, wcs, nx, ny)
                if box is not None:
                    result.append(_cut(data, wcs, header, box, text))
    return result


def write_cutouts(found: list[Cutout], did: str, target: Path | BinaryIO) -> None:
    """One cutout: a plain image FITS file. Several: an empty primary HDU, one extension each."""
    if len(found) == 1:
        hdu = fits.PrimaryHDU(found[0].data, found[0].header)
        hdu.header["SODAID"] = (did[:68], "dataset this was cut from")
        hdu.writeto(target)
        return
    primary = fits.PrimaryHDU()
    primary.header["SODAID"] = (did[:68], "dataset these were cut from")
    primary.header["NCUTOUTS"] = (len(found), "one image extension per requested region")
    hdus: list[fits.PrimaryHDU | fits.ImageHDU] = [primary]
    for number, cut in enumerate(found, start=1):
        header = cut.header.copy()
        for key in ("SIMPLE", "EXTEND"):
            header.remove(key, ignore_missing=True)
        hdus.append(fits.ImageHDU(cut.data, header, name=f"CUTOUT{number}"))
    fits.HDUList(hdus).writeto(target)
