"""What building a band survey and a colour survey share: the options and results, the
rendering of dirty tiles order by order in the worker processes, staging, and the MOC and the
properties every survey has.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from archive_io import hips_properties as props
from archive_io.coverage import footprints_moc
from archive_io.hips_store import HipsStore
from hips_build import tile_files
from hips_build.geometry import parents, tile_path
from hips_build.images import SourceImage
from hips_build.manifest import Manifest

ALLSKY_ORDER = 3
# The display cut of PNG tiles: these percentiles of the images' pixels (the sky is grey with its
# noise visible, the brightest percent saturates), unless the operator gives one. A colour survey
# scales each band from its median (the sky goes black) to its 99.5th percentile.
CUT_PERCENTILES = (1.0, 99.0)
COLOUR_PERCENTILES = (50.0, 99.5)
LEVELS = sorted({*CUT_PERCENTILES, *COLOUR_PERCENTILES})


@dataclass(frozen=True)
class BuildOptions:
    order: int | None = None  # deepest order; default: the images' pixel scale
    tile_width: int = 512
    full: bool = False  # rebuild every tile, even of images unchanged since the last build
    cut: tuple[float, float] | None = None  # PNG display cut; default: CUT_PERCENTILES of the pixels
    progress: bool = True


@dataclass
class SurveyResult:
    name: str
    status: str  # "built", "updated", "up to date", "removed", "skipped"
    message: str = ""
    tiles_written: int = 0
    directory: Path | None = None
    manifest: Manifest | None = None


@dataclass(frozen=True)
class Site:
    """Who publishes the surveys and how they are shown: the IVOID authority, the builder's name,
    and the URL of Aladin Lite's ``aladin.js`` as a survey's ``index.html`` reaches it (relative
    to the page, on the server that serves the surveys; None: a page with the preview instead)."""

    authority: str
    builder: str = "dalserver"
    viewer: str | None = None


@dataclass
class Work:
    """Dirty tiles per order, and what was rendered."""

    dirty: dict[int, set[int]] = field(default_factory=dict)
    present: dict[int, set[int]] = field(default_factory=dict)
    ranges: dict[str, list[float]] = field(default_factory=dict)
    written: int = 0


def remove_tile(root: Path, order: int, tile: int, extensions: Iterable[str]) -> None:
    for extension in extensions:
        tile_path(root, order, tile, extension).unlink(missing_ok=True)


def run_orders(
    executor: Executor,
    work: Work,
    name: str,
    progress: bool,
    submit: Callable[[int, int], Future[tuple[int, bool, list[float] | None]]],
    deepest: int,
) -> None:
    """Render the dirty tiles order by order, deepest first (a parent reads its children)."""
    total = sum(len(t) for t in work.dirty.values())
    with tqdm(total=total, desc=name, unit="tile", disable=not progress, leave=False) as bar:
        for order in range(deepest, -1, -1):
            futures = [submit(order, tile) for tile in sorted(work.dirty.get(order, ()))]
            present = work.present.setdefault(order, set())
            for future in as_completed(futures):
                tile, has_data, value_range = future.result()
                bar.update()
                if has_data:
                    present.add(tile)
                    work.written += 1
                    if order == deepest and value_range is not None:
                        work.ranges[str(tile)] = value_range
                else:
                    present.discard(tile)
                    if order == deepest:
                        work.ranges.pop(str(tile), None)


def merge_tiles(*tile_sets: Mapping[int, Iterable[int]]) -> dict[int, set[int]]:
    """The union, order by order, of tile sets (``{order: tiles}``): a dict union (``a | b``)
    would keep only one side's tiles of an order both have."""
    merged: dict[int, set[int]] = {}
    for tiles in tile_sets:
        for order, members in tiles.items():
            merged.setdefault(int(order), set()).update(int(t) for t in members)
    return merged


def dirty_chain(deepest_dirty: set[int], deepest: int) -> dict[int, set[int]]:
    dirty = {deepest: set(deepest_dirty)}
    for order in range(deepest - 1, -1, -1):
        dirty[order] = parents(dirty[order + 1])
    return dirty


def stage(store: HipsStore, name: str, previous: Path | None) -> Path:
    """A staged build: a hard-linked copy of the previous build, or empty."""
    staged = store.stage(name)
    if previous is not None:
        shutil.copytree(previous, staged, copy_function=os.link, dirs_exist_ok=True, symlinks=True)
    return staged


def write_moc(staged: Path, footprints: Iterable[Sequence[tuple[float, float]]]) -> float:
    """``Moc.fits`` of the footprints (``archive_io.coverage``: the collection's MOC); its sky fraction."""
    moc = footprints_moc(list(footprints))
    tile_files.write_atomically(staged / "Moc.fits", lambda tmp: moc.save(tmp, format="fits", overwrite=True))
    return float(moc.sky_fraction)


def regime(em_min: float | None, em_max: float | None) -> str | None:
    """obs_regime of a spectral range's centre (the IVOA messenger vocabulary's boundaries)."""
    if em_min is None or em_max is None:
        return None
    centre = (em_min + em_max) / 2
    for limit, name in (
        (1e-11, "Gamma-ray"),
        (1e-8, "X-ray"),
        (1e-7, "EUV"),
        (3e-7, "UV"),
        (1e-6, "Optical"),
        (1e-4, "Infrared"),
        (1e-2, "Millimeter"),
    ):
        if centre < limit:
            return name
    return "Radio"


def time_range(images: Sequence[SourceImage]) -> tuple[float | None, float | None]:
    starts = [i.t_min for i in images if i.t_min is not None]
    ends = [i.t_max for i in images if i.t_max is not None]
    return (min(starts) if starts else None, max(ends) if ends else None)


def write_properties(staged: Path, values: dict[str, object]) -> None:
    missing = [k for k in props.REQUIRED if values.get(k) is None]
    if missing:
        raise ValueError(f"properties without {', '.join(missing)}")
    text = props.render(values)
    tile_files.write_atomically(staged / "properties", lambda tmp: tmp.write_text(text, encoding="utf-8"))


def build_size(directory: Path) -> tuple[int, int]:
    """(estimated size in KB, number of tile files) of a build."""
    size, tiles = 0, 0
    for path in directory.rglob("Npix*"):
        size += path.stat().st_size
        tiles += 1
    return max(1, size // 1024), tiles


def pixel_levels(samples: Sequence[float]) -> dict[str, float]:
    """The images' pixel values at the percentiles ``LEVELS`` (keys like ``"99.5"``)."""
    values = np.asarray(samples, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {}
    return {f"{p:g}": float(v) for p, v in zip(LEVELS, np.percentile(values, LEVELS), strict=True)}


def cut_of(levels: dict[str, float], percentiles: tuple[float, float]) -> tuple[float, float]:
    low, high = levels.get(f"{percentiles[0]:g}", 0.0), levels.get(f"{percentiles[1]:g}", 1.0)
    return (low, high) if high > low else (low, low + 1.0)
