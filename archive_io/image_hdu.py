"""Which HDU of a FITS file is the image: the ingest describes it, the preview draws it, SODA cuts
it. One rule for all three, so a cutout is always of the pixels the ObsCore row describes.
"""

from __future__ import annotations

from pathlib import Path

from astropy.io import fits


class NoImageHDU(ValueError):
    """The file has no image HDU with two or more axes."""


def image_hdu(hdul: fits.HDUList, path: Path) -> fits.ImageHDU | fits.PrimaryHDU:
    """The first primary or image HDU with at least two axes."""
    for hdu in hdul:
        if isinstance(hdu, fits.PrimaryHDU | fits.ImageHDU) and hdu.header.get("NAXIS", 0) >= 2:
            return hdu
    raise NoImageHDU(f"{path}: no image extension with two or more axes")
