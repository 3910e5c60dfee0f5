"""PNG quick-looks of archive images, rendered once and kept in the cache directory.

The image is sampled down to at most ``max_pixels`` a side (every n-th pixel of a memory-mapped
file, so a large mosaic is never read whole), scaled between astropy's ZScale limits (the DS9
default astronomers know) and written as 8-bit grey with Pillow, north up as FITS displays it.
A cached file is named by the source's path, size and modification time, so a re-ingested
image gets a new preview; files are written under a temporary name and renamed into place.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.visualization import ZScaleInterval
from PIL import Image

from data_ingest.fits_images import image_hdu

_VERSION = "1"  # part of the cache key: bump when the rendering changes


def preview_path(source: Path, cache_dir: Path, max_pixels: int) -> Path:
    stat = source.stat()
    key = f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{max_pixels}|{_VERSION}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    return cache_dir / "previews" / digest[:2] / f"{digest}.png"


def _plane(data: np.ndarray) -> np.ndarray:
    """The 2-d image to show: a cube's middle plane along each further axis."""
    while data.ndim > 2:
        data = data[data.shape[0] // 2]
    return data


def render(source: Path, max_pixels: int) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # header oddities do not matter for a picture
        with fits.open(source, memmap=True) as hdul:
            data = _plane(image_hdu(hdul, source).data)
            step = max(1, math.ceil(max(data.shape) / max_pixels))
            sampled = np.array(data[::step, ::step], dtype=np.float32)
    finite = np.isfinite(sampled)
    if finite.any():
        low, high = ZScaleInterval().get_limits(sampled[finite])
    else:
        low, high = 0.0, 1.0
    span = high - low if high > low else 1.0
    scaled = np.clip((np.nan_to_num(sampled, nan=low) - low) / span, 0.0, 1.0)
    # FITS rows run south to north; PNG rows top to bottom.
    return Image.fromarray(np.flipud(np.round(scaled * 255).astype(np.uint8)))


def cached_preview(source: Path, cache_dir: Path, max_pixels: int) -> Path:
    """The preview PNG of ``source``, rendering it if it is not cached yet."""
    target = preview_path(source, cache_dir, max_pixels)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    image = render(source, max_pixels)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            image.save(out, format="PNG")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
