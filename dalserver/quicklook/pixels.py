"""The quick look's pixels: a box of an image read through a memory map, block-averaged, written as
FITS with the WCS of the binned grid. Loaded by the route on first use (astropy, numpy)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from astropy.io import fits
from astropy.wcs import FITSFixedWarning

from archive_io.image_hdu import image_hdu
from dalserver.dali.faults import UsageFault
from dalserver.dali.params import DALIParams
from dalserver.quicklook.binning import Box, binned_header, block_means, overview_step
from dalserver.quicklook.limits import MAX_PIXELS, OVERVIEW_SIDE


def _integer(params: DALIParams, name: str, default: int) -> int:
    value = params.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise UsageFault(f"{name} must be a whole number of pixels, not {value!r}") from None


def _box(params: DALIParams, nx: int, ny: int) -> Box:
    step = _integer(params, "BIN", overview_step(nx, ny, OVERVIEW_SIDE))
    if step < 1:
        raise UsageFault(f"BIN must be 1 or more, not {step}")
    x0, x1 = _integer(params, "X0", 0), _integer(params, "X1", nx - 1)
    y0, y1 = _integer(params, "Y0", 0), _integer(params, "Y1", ny - 1)
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, nx - 1), min(y1, ny - 1)
    if x0 > x1 or y0 > y1:
        raise UsageFault(f"the box X0..X1, Y0..Y1 misses the image's {nx} x {ny} pixels")
    box = Box(x0, x1, y0, y1, step)
    rows, columns = box.shape
    if rows * columns > MAX_PIXELS:
        raise UsageFault(
            f"the box at BIN={step} is {columns} x {rows} pixels, more than one answer holds "
            f"({MAX_PIXELS:,} pixels): ask for a larger BIN or a smaller box"
        )
    return box


def binned_fits(path: Path, params: DALIParams) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        with fits.open(path, memmap=True) as hdul:
            hdu = image_hdu(hdul, path)
            if hdu.header.get("NAXIS") != 2:
                raise UsageFault(f"the image has {hdu.header.get('NAXIS')} axes; the quick look shows 2-d images")
            nx, ny = int(hdu.header["NAXIS1"]), int(hdu.header["NAXIS2"])
            box = _box(params, nx, ny)
            data = block_means(hdu.section, box)
            header = binned_header(hdu.header, box, nx, ny)
    buffer = io.BytesIO()
    fits.PrimaryHDU(data, header).writeto(buffer)
    return buffer.getvalue()
