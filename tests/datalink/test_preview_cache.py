"""The preview cache stays within its size: least recently used previews go first."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from astropy.io import fits

from dalserver.datalink.preview import cached_preview, preview_path, prune


def _fill(root: Path, count: int, size: int) -> list[Path]:
    paths = []
    for i in range(count):
        path = root / f"{i:02x}" / f"{i:064x}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
        os.utime(path, (1_000_000 + i, 1_000_000 + i))  # older first
        paths.append(path)
    return paths


def test_prune_removes_the_least_recently_used_until_under_ninety_percent(tmp_path: Path) -> None:
    paths = _fill(tmp_path, 10, 1000)
    assert prune(tmp_path, 10_000) == 0  # at the limit: nothing to do
    assert prune(tmp_path, 5000) == 6  # 10 kB -> 4 kB, the first under 4.5 kB
    assert [p.exists() for p in paths] == [False] * 6 + [True] * 4


def test_prune_never_removes_the_preview_just_written(tmp_path: Path) -> None:
    paths = _fill(tmp_path, 3, 1000)
    prune(tmp_path, 100, keep=paths[0])
    assert [p.exists() for p in paths] == [True, False, False]


def test_a_cache_hit_counts_as_recent_use(tmp_path: Path) -> None:
    fits_file = tmp_path / "image.fits"
    fits.PrimaryHDU(np.arange(400, dtype=np.float32).reshape(20, 20)).writeto(fits_file)
    first = cached_preview(fits_file, tmp_path / "cache", 64, 1 << 30)
    target = preview_path(fits_file, tmp_path / "cache", 64)
    os.utime(target, (1_000_000, 1_000_000))
    assert cached_preview(fits_file, tmp_path / "cache", 64, 1 << 30) == first
    assert target.stat().st_mtime > 1_000_000
