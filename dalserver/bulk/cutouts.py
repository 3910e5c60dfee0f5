"""Cutouts of one sky region from many images, zipped: SODA's cutter (dalserver.soda.cutout) on
each image in turn, one image in memory at a time. Before anything is cut, each image's header
says whether the region touches it and how large its cutout will be, so an image the region
misses is listed (not an error) and a request past the size limit is refused before it starts."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

from archive_io.image_hdu import NoImageHDU, image_hdu
from dalserver.bulk.selection import Product
from dalserver.dali.values import Shape
from dalserver.soda.cutout import PixelBox, UnsupportedData, cutouts, pixel_box, write_cutouts

if TYPE_CHECKING:
    from zipstream import ZipStream

_FITS_BLOCK = 2880


@dataclass(frozen=True)
class PlannedCutout:
    product: Product
    box: PixelBox | None  # None: nothing to cut (``reason`` says why)
    bytes: int  # the cutout file's size, near enough (header and padding estimated)
    reason: str | None = None

    @property
    def name(self) -> str:
        path = PurePosixPath(self.product.name)
        return str(path.with_name(f"{path.stem}-cutout.fits"))

    @property
    def pixels(self) -> tuple[int, int] | None:
        if self.box is None:
            return None
        return (self.box.x1 - self.box.x0 + 1, self.box.y1 - self.box.y0 + 1)


def _plan_one(product: Product, shape: Shape) -> PlannedCutout:
    if product.dataproduct_type not in ("image", "cube"):
        return PlannedCutout(product, None, 0, f"it is not an image ({product.dataproduct_type or 'no product type'})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        try:
            with fits.open(product.path, memmap=True) as hdul:
                hdu = image_hdu(hdul, product.path)
                header = hdu.header
                if header.get("NAXIS") != 2:
                    return PlannedCutout(
                        product, None, 0, f"it has {header.get('NAXIS')} axes; only 2-d images are cut"
                    )
                nx, ny = int(header["NAXIS1"]), int(header["NAXIS2"])
                box = pixel_box(shape, WCS(header, naxis=2), nx, ny)
                bitpix = abs(int(header["BITPIX"]))
        except (OSError, NoImageHDU, KeyError, ValueError) as exc:
            return PlannedCutout(product, None, 0, f"it cannot be read as a FITS image ({exc})")
    if box is None:
        return PlannedCutout(product, None, 0, "the region misses it")
    data = (box.x1 - box.x0 + 1) * (box.y1 - box.y0 + 1) * bitpix // 8
    return PlannedCutout(product, box, -(-data // _FITS_BLOCK) * _FITS_BLOCK + 4 * _FITS_BLOCK)


def plan_cutouts(products: tuple[Product, ...], shape: Shape) -> list[PlannedCutout]:
    """Which images the region touches, from their headers (the pixels stay on disk)."""
    return [_plan_one(p, shape) for p in products]


def _cutout_file(planned: PlannedCutout, shape: Shape, region_text: str) -> Iterator[bytes]:
    found = cutouts(planned.product.path, [(shape, region_text)])
    buffer = io.BytesIO()
    write_cutouts(found, planned.product.did, buffer)
    yield buffer.getvalue()


def report(plans: list[PlannedCutout], region_text: str) -> str:
    made = [p for p in plans if p.box is not None]
    missed = [p for p in plans if p.box is None]
    lines = [f"Cutouts of {region_text} from {len(plans)} datasets: {len(made)} made, {len(missed)} not.", ""]
    for p in made:
        assert p.box is not None and p.pixels is not None
        box = f"x {p.box.x0 + 1}-{p.box.x1 + 1}, y {p.box.y0 + 1}-{p.box.y1 + 1}"
        lines.append(f"cut     {p.name}  ({p.pixels[0]} x {p.pixels[1]} pixels of {p.product.name}: {box}, 1-based)")
    for p in missed:
        lines.append(f"missed  {p.product.did}  ({p.product.name}): {p.reason}")
    return "\n".join(lines) + "\n"


def cutouts_zip(plans: list[PlannedCutout], shape: Shape, region_text: str) -> ZipStream:
    """Each cutout is made when the stream reaches it; cutouts.txt says what was cut and what
    was missed, and why."""
    from zipstream import ZIP_STORED, ZipStream  # imported by a zip download, not at start (2 MB)

    stream = ZipStream(compress_type=ZIP_STORED)
    for planned in plans:
        if planned.box is not None:
            stream.add(_cutout_file(planned, shape, region_text), planned.name)
    stream.add(report(plans, region_text), "cutouts.txt")
    return stream


__all__ = ["PlannedCutout", "UnsupportedData", "cutouts_zip", "plan_cutouts", "report"]
