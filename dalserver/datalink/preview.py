"""PNG quick-looks of archive images, rendered once and kept in the cache directory.

The image is sampled down to at most ``max_pixels`` a side (every n-th pixel of a memory-mapped
file, so a large mosaic is never read whole), scaled between astropy's ZScale limits (the DS9
default astronomers know) and written as 8-bit grey with Pillow, north up as FITS displays it.
A cached file is named by the source's path and then its size and modification time, so a
re-ingested image gets a new preview and a retracted one's previews are found by its path alone;
files are written under a temporary name and renamed into place.

The cache is bounded: a hit refreshes the file's modification time, and after a write (at most
once a minute per process, since it lists the whole cache) the least recently used previews are
removed until the cache is back under 90 % of its limit. Several server processes may share it:
removal tolerates files another process removed first.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.visualization import ZScaleInterval
from PIL import Image

from archive_io.image_hdu import image_hdu

_VERSION = "1"  # part of the cache key: bump when the rendering changes
_PRUNE_INTERVAL = 60.0  # seconds between two looks at the cache's size (per process)
_last_prune = -math.inf
_prune_lock = threading.Lock()


def _source_key(source: Path) -> str:
    return hashlib.sha256(str(source.resolve()).encode()).hexdigest()


def preview_path(source: Path, cache_dir: Path, max_pixels: int) -> Path:
    stat = source.stat()
    version = hashlib.sha256(f"{stat.st_size}|{stat.st_mtime_ns}|{max_pixels}|{_VERSION}".encode()).hexdigest()
    key = _source_key(source)
    return cache_dir / "previews" / key[:2] / f"{key}-{version[:16]}.png"


def remove_previews(source: Path, cache_dir: Path) -> int:
    """Remove every cached preview of ``source`` (a file that may be gone already), whatever its
    size, date and preview size were; how many."""
    key = _source_key(source)
    removed = 0
    for path in (cache_dir / "previews" / key[:2]).glob(f"{key}-*.png"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


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


def cached_preview(source: Path, cache_dir: Path, max_pixels: int, max_bytes: int) -> bytes:
    """The preview PNG of ``source``, rendered and cached if it is not cached yet.

    Bytes, not a path: another server process may prune the file before a response opens it."""
    target = preview_path(source, cache_dir, max_pixels)
    try:
        png = target.read_bytes()
    except FileNotFoundError:
        pass
    else:
        with contextlib.suppress(OSError):  # pruned by another process meanwhile: still served
            os.utime(target)  # "recently used", for the pruning
        return png
    buffer = io.BytesIO()
    render(source, max_pixels).save(buffer, format="PNG")
    png = buffer.getvalue()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(png)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _maybe_prune(cache_dir / "previews", max_bytes, keep=target)
    return png


def _maybe_prune(root: Path, max_bytes: int, keep: Path) -> None:
    global _last_prune
    with _prune_lock:
        now = time.monotonic()
        if now - _last_prune < _PRUNE_INTERVAL:
            return
        _last_prune = now
    prune(root, max_bytes, keep)


def prune(root: Path, max_bytes: int, keep: Path | None = None) -> int:
    """Remove the least recently used previews until they take under 90 % of ``max_bytes``
    (nothing when they are within ``max_bytes``); the number removed. ``keep`` stays."""
    files: list[tuple[float, int, Path]] = []
    for path in root.glob("*/*.png"):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        files.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in files)
    if total <= max_bytes:
        return 0
    removed = 0
    for _, size, path in sorted(files):
        if total <= max_bytes * 0.9:
            break
        if path == keep:
            continue
        path.unlink(missing_ok=True)
        total -= size
        removed += 1
    return removed
