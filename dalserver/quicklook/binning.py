"""Block averages of a box of an image, and the header that describes them: the WCS moved to the
binned grid (CRPIX and CD for the linear part, SIP coefficients rescaled; TPV/PV terms act after
CD and need no change), and the box's place in the original image for the viewer (QL* cards)
and for IRAF-style tools (LTV/LTM: physical = original pixels)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from astropy.io import fits

STRIP_ROWS = 512  # original rows averaged at a time: bounded memory for any image height
_SIP = re.compile(r"^(A|B|AP|BP)_(\d+)_(\d+)$")
_CD = re.compile(r"^CD([12])_([12])$")


@dataclass(frozen=True)
class Box:
    """Pixels x0..x1, y0..y1 of the original (0-based, inclusive), averaged ``step`` by ``step``."""

    x0: int
    x1: int
    y0: int
    y1: int
    step: int

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the binned image; a partial block at an edge is one pixel too."""
        return (-(-(self.y1 - self.y0 + 1) // self.step), -(-(self.x1 - self.x0 + 1) // self.step))


def overview_step(nx: int, ny: int, longest: int) -> int:
    """The smallest power of two that brings the image's longest side to ``longest`` or fewer."""
    return 1 << max(0, math.ceil(math.log2(max(nx, ny) / longest))) if max(nx, ny) > longest else 1


def _native_float32(block: Any) -> np.ndarray:
    """The pixels as native-order float32: FITS is big-endian, and numpy sums native arrays
    several times faster (a byte swap is one cheap pass)."""
    array = np.asarray(block)
    if not array.dtype.isnative:
        array = array.byteswap().view(array.dtype.newbyteorder())
    return array.astype(np.float32, copy=False)


def _block_sums(array: np.ndarray, step: int) -> np.ndarray:
    """Sums of step x step blocks of an array whose sides are multiples of ``step``."""
    rows, columns = array.shape
    sums: np.ndarray = (
        array.reshape(rows, columns // step, step).sum(axis=2).reshape(rows // step, step, columns // step).sum(axis=1)
    )
    return sums


def block_means(data: Any, box: Box) -> np.ndarray:
    """Mean of each step x step block of ``data[y0:y1+1, x0:x1+1]`` (``data``: an array or an
    astropy section, which reads only the rows asked for; NaN and inf pixels left out; a block
    with none finite is NaN; a partial block at an edge is the mean of the pixels it has), as
    float32, read a strip of rows at a time."""
    rows, columns = box.shape
    out = np.empty((rows, columns), dtype=np.float32)
    s = box.step
    strip = max(1, STRIP_ROWS // s) * s
    width = columns * s
    for top in range(box.y0, box.y1 + 1, strip):
        bottom = min(top + strip, box.y1 + 1)
        block = _native_float32(data[top:bottom, box.x0 : box.x1 + 1])
        height = -(-(bottom - top) // s) * s
        first = (top - box.y0) // s
        if s == 1:
            means = np.where(np.isfinite(block), block, np.float32(np.nan))
        elif block.shape == (height, width) and np.isfinite(block).all():
            means = _block_sums(block, s) / np.float32(s * s)  # the common case: one fast pass
        else:
            finite = np.zeros((height, width), dtype=np.float32)
            values = np.zeros((height, width), dtype=np.float32)
            good = np.isfinite(block)
            finite[: block.shape[0], : block.shape[1]] = good
            values[: block.shape[0], : block.shape[1]] = np.where(good, block, np.float32(0))
            counts = _block_sums(finite, s)
            with np.errstate(invalid="ignore", divide="ignore"):
                means = np.where(counts > 0, _block_sums(values, s) / counts, np.float32(np.nan))
        out[first : first + means.shape[0]] = means
    return out


def binned_header(original: fits.Header, box: Box, nx: int, ny: int) -> fits.Header:
    """The original's WCS for the binned box. Original 1-based pixel p and binned pixel q:
    p = x0 + step (q - 1) + (step + 1) / 2."""
    s = box.step
    header = fits.Header()
    offsets = {1: box.x0 + (s + 1) / 2, 2: box.y0 + (s + 1) / 2}
    for card in original.cards:
        key = card.keyword
        if key in ("SIMPLE", "BITPIX", "EXTEND", "BSCALE", "BZERO", "BLANK", "CHECKSUM", "DATASUM") or key.startswith(
            "NAXIS"
        ):
            continue
        if key in ("", "COMMENT", "HISTORY"):
            continue
        value = card.value
        if key in ("CRPIX1", "CRPIX2"):
            value = (float(value) - offsets[int(key[-1])]) / s + 1
        elif key in ("CDELT1", "CDELT2"):
            value = float(value) * s
        elif _CD.match(key):
            value = float(value) * s  # CDi_j multiplies pixel axis j
        elif (match := _SIP.match(key)) and s != 1:
            # The polynomial maps pixel offsets u, v to an offset in pixels: with u = s u',
            # A'_pq = A_pq s^(p+q-1).
            value = float(value) * s ** (int(match.group(2)) + int(match.group(3)) - 1)
        header[key] = (value, card.comment)
    if "CD1_1" not in original and "PC1_1" in original and "CDELT1" not in original:
        header["CDELT1"], header["CDELT2"] = float(s), float(s)  # PC with CDELT's default of 1
    header["LTM1_1"] = (1 / s, "binned = LTM * original + LTV")
    header["LTM2_2"] = (1 / s, "binned = LTM * original + LTV")
    header["LTV1"] = (1 - offsets[1] / s, "binned = LTM * original + LTV")
    header["LTV2"] = (1 - offsets[2] / s, "binned = LTM * original + LTV")
    header["QLBIN"] = (s, "mean of QLBIN x QLBIN original pixels")
    header["QLX0"] = (box.x0, "first original column (0-based)")
    header["QLY0"] = (box.y0, "first original row (0-based)")
    header["QLNX"] = (nx, "columns of the original image")
    header["QLNY"] = (ny, "rows of the original image")
    return header
