"""Build one survey: a band survey from its images, or a colour survey from three band surveys.

A band survey's build: inspect the images that are new or changed since the last build (the
others' facts are in its manifest), choose the deepest order from their pixel scale, find the
deepest tiles the changed images touch (all of them on a first or ``full`` build), render those
in the worker processes, then their parents order by order down to 0, the Allsky of order 3,
the MOC, the properties and the manifest, into a staged copy of the previous build (hard links:
unchanged tiles cost nothing), and publish it in one rename (``publish.HipsStore``).
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from archive_io.coverage import footprints_moc
from hips_build import properties as props
from hips_build import tile_files
from hips_build.geometry import cell_size_deg, footprint_tiles, order_for_pixel_scale, parents, shift_order, tile_path
from hips_build.images import ImageFacts, ImageSkipped, SourceImage, inspect_image, unit_vectors
from hips_build.manifest import ImageRecord, Manifest
from hips_build.plan import BandSurvey, ColourSurvey, creator_did
from hips_build.properties import hips_date
from hips_build.publish import HipsStore
from hips_build.tiler import deepest_tile, parent_tile

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
    """Who publishes the surveys: the IVOID authority and the builder's name."""

    authority: str
    builder: str = "dalserver"


@dataclass
class _Work:
    """Dirty tiles per order, and what was rendered."""

    dirty: dict[int, set[int]] = field(default_factory=dict)
    present: dict[int, set[int]] = field(default_factory=dict)
    ranges: dict[str, list[float]] = field(default_factory=dict)
    written: int = 0


# ----------------------------------------------------------------------------- worker tasks
# Top-level functions: they run in the worker processes and get only picklable arguments.


def _inspect(path: Path) -> ImageFacts | str:
    try:
        return inspect_image(path)
    except ImageSkipped as exc:
        return str(exc)


def _remove_tile(root: Path, order: int, tile: int, extensions: Iterable[str]) -> None:
    for extension in extensions:
        tile_path(root, order, tile, extension).unlink(missing_ok=True)


def _write_band_tile(
    root: Path, order: int, tile: int, values: np.ndarray, dtype: str, cut: tuple[float, float]
) -> tuple[int, bool, list[float] | None]:
    finite = np.isfinite(values)
    if not finite.any():
        _remove_tile(root, order, tile, ("fits", "png"))
        return tile, False, None
    tile_files.write_fits_tile(tile_path(root, order, tile, "fits"), values, np.dtype(dtype), order, tile)
    tile_files.write_png_tile(tile_path(root, order, tile, "png"), values, cut)
    return tile, True, [float(values[finite].min()), float(values[finite].max())]


def _deepest_task(
    root: Path, order: int, tile: int, width: int, images: Sequence[Path], dtype: str, cut: tuple[float, float]
) -> tuple[int, bool, list[float] | None]:
    return _write_band_tile(root, order, tile, deepest_tile(order, tile, width, images), dtype, cut)


def _parent_task(
    root: Path, order: int, tile: int, width: int, dtype: str, cut: tuple[float, float]
) -> tuple[int, bool, list[float] | None]:
    children = [tile_files.read_fits_tile(tile_path(root, order + 1, 4 * tile + k, "fits")) for k in range(4)]
    return _write_band_tile(root, order, tile, parent_tile(children, width), dtype, cut)


def _colour_task(
    root: Path, order: int, tile: int, width: int, bands: Sequence[Path], cuts: Sequence[tuple[float, float]]
) -> tuple[int, bool, list[float] | None]:
    values = [tile_files.read_fits_tile(tile_path(b, order, tile, "fits")) for b in bands]
    if all(v is None for v in values):
        _remove_tile(root, order, tile, ("png", "jpg"))
        return tile, False, None
    rgb, covered = tile_files.colour_levels(values, cuts, (width, width))
    tile_files.write_colour_tiles(
        tile_path(root, order, tile, "png"), tile_path(root, order, tile, "jpg"), rgb, covered
    )
    return tile, True, None


# ----------------------------------------------------------------------------- shared steps


def _run_orders(
    executor: Executor,
    work: _Work,
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


def _dirty_chain(deepest_dirty: set[int], deepest: int) -> dict[int, set[int]]:
    dirty = {deepest: set(deepest_dirty)}
    for order in range(deepest - 1, -1, -1):
        dirty[order] = parents(dirty[order + 1])
    return dirty


def _stage(store: HipsStore, name: str, previous: Path | None) -> Path:
    """A staged build: a hard-linked copy of the previous build, or empty."""
    staged = store.stage(name)
    if previous is not None:
        shutil.copytree(previous, staged, copy_function=os.link, dirs_exist_ok=True, symlinks=True)
    return staged


def _write_moc(staged: Path, footprints: Iterable[Sequence[tuple[float, float]]]) -> float:
    """``Moc.fits`` of the footprints (``archive_io.coverage``: the collection's MOC); its sky fraction."""
    moc = footprints_moc(list(footprints))
    tile_files.write_atomically(staged / "Moc.fits", lambda tmp: moc.save(tmp, format="fits", overwrite=True))
    return float(moc.sky_fraction)


def _initial_view(footprints: Sequence[Sequence[tuple[float, float]]]) -> tuple[float, float, float]:
    """(ra, dec, fov): the centre of the footprints' vertices and a field that shows them all."""
    vertices = np.array([v for f in footprints for v in f], dtype=float)
    vectors = unit_vectors(vertices[:, 0], vertices[:, 1])
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if norm < 1e-9:  # the whole sky
        return 0.0, 0.0, 180.0
    centre = mean / norm
    ra = math.degrees(math.atan2(centre[1], centre[0])) % 360.0
    dec = math.degrees(math.asin(max(-1.0, min(1.0, centre[2]))))
    radius = math.degrees(float(np.max(np.arccos(np.clip(vectors @ centre, -1.0, 1.0)))))
    return ra, dec, min(180.0, max(2.2 * radius, 0.01))


def _regime(em_min: float | None, em_max: float | None) -> str | None:
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


def _time_range(images: Sequence[SourceImage]) -> tuple[float | None, float | None]:
    starts = [i.t_min for i in images if i.t_min is not None]
    ends = [i.t_max for i in images if i.t_max is not None]
    return (min(starts) if starts else None, max(ends) if ends else None)


def _write_properties(staged: Path, values: dict[str, object]) -> None:
    missing = [k for k in props.REQUIRED if values.get(k) is None]
    if missing:
        raise ValueError(f"properties without {', '.join(missing)}")
    text = props.render(values)
    tile_files.write_atomically(staged / "properties", lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _size_kb(directory: Path) -> tuple[int, int]:
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


def _cut(levels: dict[str, float], percentiles: tuple[float, float]) -> tuple[float, float]:
    low, high = levels.get(f"{percentiles[0]:g}", 0.0), levels.get(f"{percentiles[1]:g}", 1.0)
    return (low, high) if high > low else (low, low + 1.0)


# ----------------------------------------------------------------------------- band surveys


def build_band_survey(
    survey: BandSurvey,
    store: HipsStore,
    site: Site,
    options: BuildOptions,
    executor: Executor,
    warn: Callable[[str], None],
) -> SurveyResult:
    previous = store.current(survey.name)
    old = Manifest.read(previous) if previous is not None and not options.full else None
    known = old.images if old is not None else {}

    # Facts of the images: from the manifest when unchanged, else read (in the workers).
    records: dict[str, ImageRecord] = {}
    samples: list[float] = []
    pending = {}
    for image in survey.images:
        record = known.get(image.did)
        if record is not None and record.fingerprint == image.fingerprint and record.path == str(image.path):
            records[image.did] = record
        else:
            pending[image.did] = executor.submit(_inspect, image.path)
    by_did = {i.did: i for i in survey.images}
    for did, future in pending.items():
        facts = future.result()
        if isinstance(facts, str):
            warn(f"skipped: {facts}")
            continue
        records[did] = ImageRecord.of(by_did[did].fingerprint, by_did[did].path, by_did[did].footprint, facts)
        samples.extend(facts.sample)
    if not records:
        if previous is not None:
            store.unpublish(survey.name)
            return SurveyResult(survey.name, "removed", "no usable images left: the survey is no longer served")
        return SurveyResult(survey.name, "skipped", f"band {survey.band}: no usable images, so no survey")

    images = [by_did[did] for did in records]
    scales = sorted(r.pixel_scale for r in records.values())
    pixel_scale = scales[len(scales) // 2]
    width = options.tile_width
    order = options.order if options.order is not None else order_for_pixel_scale(pixel_scale, width)
    dtype = tile_files.storage_dtype([r.dtype for r in records.values()]).str
    incremental = (
        old is not None
        and old.kind == "band"
        and (old.order, old.tile_width, old.dtype) == (order, width, dtype)
        and (options.cut is None or tuple(old.cut) == tuple(options.cut))
    )
    if not incremental and pending.keys() != {i.did for i in survey.images}:
        # A whole rebuild needs every image's pixels for the cut: read the ones taken from the manifest.
        for did in set(records) - set(pending):
            facts = _inspect(by_did[did].path)
            if isinstance(facts, str):
                warn(f"skipped: {facts}")
                records.pop(did)
                continue
            samples.extend(facts.sample)
        images = [by_did[did] for did in records]

    # Which deepest tiles to render.
    tiles_of: dict[str, np.ndarray] = {i.did: footprint_tiles(i.footprint, order) for i in images}
    images_of_tile: dict[int, list[Path]] = {}
    for image in images:
        for tile in tiles_of[image.did]:
            images_of_tile.setdefault(int(tile), []).append(image.path)
    if incremental:
        assert old is not None
        changed = {d for d, r in records.items() if d not in old.images or old.images[d].fingerprint != r.fingerprint}
        gone = set(old.images) - set(records)
        if not changed and not gone:
            return SurveyResult(survey.name, "up to date", directory=previous, manifest=old)
        deepest_dirty: set[int] = set()
        for did in changed:
            deepest_dirty.update(int(t) for t in tiles_of[did])
        for did in changed | gone:
            if did in old.images:
                deepest_dirty.update(
                    int(t) for t in footprint_tiles([tuple(v) for v in old.images[did].footprint], order)
                )
        cut = (old.cut[0], old.cut[1])
        levels = old.levels
    else:
        deepest_dirty = set(images_of_tile)
        levels = pixel_levels(samples)
        cut = options.cut or _cut(levels, CUT_PERCENTILES)

    work = _Work(dirty=_dirty_chain(deepest_dirty, order))
    if incremental and old is not None:
        work.present = {k: set(v) for k, v in old.tiles.items()}
        work.ranges = dict(old.ranges)
    staged = _stage(store, survey.name, previous if incremental else None)
    try:

        def submit(tile_order: int, tile: int) -> Future[tuple[int, bool, list[float] | None]]:
            if tile_order == order:
                return executor.submit(
                    _deepest_task, staged, order, tile, width, images_of_tile.get(tile, []), dtype, cut
                )
            return executor.submit(_parent_task, staged, tile_order, tile, width, dtype, cut)

        _run_orders(executor, work, survey.name, options.progress, submit, order)
        if order >= ALLSKY_ORDER:
            _band_allsky(staged, work.present.get(ALLSKY_ORDER, set()), width, np.dtype(dtype), cut)
        sky_fraction = _write_moc(staged, [i.footprint for i in images])
        created = old.created if incremental and old is not None else hips_date()
        em_min, em_max = BandSurvey(survey.name, survey.collection, survey.band, tuple(images)).em_range
        t_min, t_max = _time_range(images)
        ra, dec, fov = _initial_view([i.footprint for i in images])
        bunits = {r.bunit for r in records.values()}
        ranges = list(work.ranges.values())
        size_kb, tile_count = _size_kb(staged)
        _write_properties(
            staged,
            {
                "creator_did": creator_did(site.authority, survey.collection, survey.band),
                "publisher_did": f"ivo://{site.authority}",
                "obs_collection": survey.collection,
                "obs_title": f"{survey.collection} {survey.band}",
                "obs_description": (
                    f"HiPS of the {len(images)} {survey.collection} images in {survey.band} published "
                    f"in ivoa.obscore, each cell the mean of the images covering it"
                ),
                "obs_regime": _regime(em_min, em_max),
                "dataproduct_type": "image",
                "em_min": em_min,
                "em_max": em_max,
                "t_min": t_min,
                "t_max": t_max,
                "hips_builder": site.builder,
                "hips_creation_date": created,
                "hips_release_date": hips_date(),
                "hips_version": props.HIPS_VERSION,
                "hips_status": "public master clonableOnce",
                "hips_frame": "equatorial",
                "hips_order": order,
                "hips_order_min": 0,
                "hips_tile_width": width,
                "hips_tile_format": "png fits",
                "hips_pixel_bitpix": _bitpix(np.dtype(dtype)),
                "data_pixel_bitpix": _bitpix(np.dtype(dtype)),
                "hips_pixel_cut": [cut[0], cut[1]],
                "hips_data_range": [min(r[0] for r in ranges), max(r[1] for r in ranges)] if ranges else None,
                "hips_bunit": bunits.pop() if len(bunits) == 1 else None,
                "hips_pixel_scale": cell_size_deg(order + shift_order(width)),
                "s_pixel_scale": pixel_scale,
                "hips_initial_ra": ra,
                "hips_initial_dec": dec,
                "hips_initial_fov": fov,
                "hips_sampling": "bilinear",
                "hips_overlay": "mean",
                "hips_hierarchy": "mean",
                "hips_skyval": "none",
                "moc_sky_fraction": sky_fraction,
                "hips_estsize": size_kb,
                "hips_nb_tiles": tile_count,
            },
        )
        manifest = Manifest(
            kind="band",
            order=order,
            tile_width=width,
            dtype=dtype,
            cut=[cut[0], cut[1]],
            created=created,
            images=records,
            tiles={k: sorted(v) for k, v in work.present.items()},
            ranges=work.ranges,
            levels=levels,
        )
        manifest.write(staged)
        final = store.publish(survey.name, staged)
    except BaseException:
        store.discard(staged)
        raise
    status = "updated" if incremental else "built"
    return SurveyResult(survey.name, status, f"{work.written} tiles written", work.written, final, manifest)


def _bitpix(dtype: np.dtype) -> int:
    return {"f": -8, "i": 8, "u": 8}[dtype.kind] * dtype.itemsize


def _band_allsky(staged: Path, tiles: set[int], width: int, dtype: np.dtype, cut: tuple[float, float]) -> None:
    values = {
        t: v
        for t in sorted(tiles)
        if (v := tile_files.read_fits_tile(tile_path(staged, ALLSKY_ORDER, t, "fits"))) is not None
    }
    mosaic = tile_files.allsky_mosaic(values, ALLSKY_ORDER, width)
    folder = staged / f"Norder{ALLSKY_ORDER}"
    folder.mkdir(parents=True, exist_ok=True)
    tile_files.write_allsky_fits(folder / "Allsky.fits", mosaic, dtype)
    tile_files.write_allsky_png(folder / "Allsky.png", mosaic, cut)


# ----------------------------------------------------------------------------- colour surveys


def build_colour_survey(
    survey: ColourSurvey,
    bands: Sequence[SurveyResult],
    store: HipsStore,
    site: Site,
    options: BuildOptions,
    executor: Executor,
) -> SurveyResult:
    """The colour survey of three built band surveys (``bands``: red, green, blue)."""
    if any(b.directory is None or b.manifest is None for b in bands):
        missing = ", ".join(s.name for s, b in zip(survey.bands, bands, strict=True) if b.directory is None)
        return SurveyResult(survey.name, "skipped", f"no colour survey: {missing} not built")
    manifests = [b.manifest for b in bands if b.manifest is not None]
    directories = [b.directory for b in bands if b.directory is not None]
    widths = {m.tile_width for m in manifests}
    if len(widths) > 1:
        return SurveyResult(survey.name, "skipped", "no colour survey: its bands have different tile widths")
    width = widths.pop()
    order = min(m.order for m in manifests)
    sources = {s.name: d.name for s, d in zip(survey.bands, directories, strict=True)}
    previous = store.current(survey.name)
    old = Manifest.read(previous) if previous is not None and not options.full else None
    if old is not None and old.sources == sources and (old.order, old.tile_width) == (order, width):
        return SurveyResult(survey.name, "up to date", directory=previous, manifest=old)
    cuts = [_cut(m.levels, COLOUR_PERCENTILES) if m.levels else (m.cut[0], m.cut[1]) for m in manifests]

    everything = {k: set().union(*(set(m.tiles.get(k, ())) for m in manifests)) for k in range(order + 1)}
    incremental = (
        old is not None
        and (old.order, old.tile_width) == (order, width)
        and old.cut == [c for cut in cuts for c in cut]
    )
    if incremental and old is not None:
        dirty = _changed_tiles(
            store, old.sources, survey, directories, everything | {k: set(v) for k, v in old.tiles.items()}
        )
    else:
        dirty = everything
    if incremental and dirty is None:
        incremental = False
        dirty = everything
    assert dirty is not None
    work = _Work(dirty=dirty)
    if incremental and old is not None:
        work.present = {k: set(v) for k, v in old.tiles.items()}
    staged = _stage(store, survey.name, previous if incremental else None)
    try:

        def submit(tile_order: int, tile: int) -> Future[tuple[int, bool, list[float] | None]]:
            return executor.submit(_colour_task, staged, tile_order, tile, width, directories, cuts)

        _run_orders(executor, work, survey.name, options.progress, submit, order)
        if order >= ALLSKY_ORDER:
            mosaics: list[np.ndarray | None] = []
            for directory in directories:
                values = tile_files.read_fits_tile(directory / f"Norder{ALLSKY_ORDER}" / "Allsky.fits")
                mosaics.append(values[::-1] if values is not None else None)  # FITS rows bottom up
            shape = next(m.shape for m in mosaics if m is not None)
            rgb, covered = tile_files.colour_levels(mosaics, cuts, shape)
            folder = staged / f"Norder{ALLSKY_ORDER}"
            folder.mkdir(parents=True, exist_ok=True)
            tile_files.write_allsky_colour(folder / "Allsky.png", folder / "Allsky.jpg", rgb, covered)
        used = {did for m in manifests for did in m.images}
        images = [i for s in survey.bands for i in s.images if i.did in used]
        footprints = [i.footprint for i in images]
        sky_fraction = _write_moc(staged, footprints)
        created = old.created if old is not None else hips_date()
        lows = [m for s in survey.bands if (m := s.em_range[0]) is not None]
        highs = [m for s in survey.bands if (m := s.em_range[1]) is not None]
        t_min, t_max = _time_range(images)
        ra, dec, fov = _initial_view(footprints)
        size_kb, tile_count = _size_kb(staged)
        rgb_names = {"red": survey.red, "green": survey.green, "blue": survey.blue}
        _write_properties(
            staged,
            {
                "creator_did": creator_did(site.authority, survey.collection, "color"),
                "publisher_did": f"ivo://{site.authority}",
                "obs_collection": survey.collection,
                "obs_title": f"{survey.collection} colour ({survey.red.band}, {survey.green.band}, {survey.blue.band})",
                "obs_description": (
                    f"Colour composite of the {survey.collection} surveys in {survey.red.band} (red), "
                    f"{survey.green.band} (green) and {survey.blue.band} (blue), each scaled linearly between the cut "
                    "hips_rgb_red, hips_rgb_green and hips_rgb_blue give"
                ),
                "obs_regime": _regime(min(lows) if lows else None, max(highs) if highs else None),
                "dataproduct_type": "image",
                "dataproduct_subtype": "color",
                "em_min": min(lows) if lows else None,
                "em_max": max(highs) if highs else None,
                "t_min": t_min,
                "t_max": t_max,
                "hips_builder": site.builder,
                "hips_creation_date": created,
                "hips_release_date": hips_date(),
                "hips_version": props.HIPS_VERSION,
                "hips_status": "public master clonableOnce",
                "hips_frame": "equatorial",
                "hips_order": order,
                "hips_order_min": 0,
                "hips_tile_width": width,
                "hips_tile_format": "png jpeg",
                **{
                    f"hips_rgb_{colour}": f"{band.name} [{cut[0]:.6g} {cut[1]:.6g}]"
                    for (colour, band), cut in zip(rgb_names.items(), cuts, strict=True)
                },
                "hips_pixel_scale": cell_size_deg(order + shift_order(width)),
                "s_pixel_scale": min(float(r.pixel_scale) for m in manifests for r in m.images.values()),
                "hips_initial_ra": ra,
                "hips_initial_dec": dec,
                "hips_initial_fov": fov,
                "moc_sky_fraction": sky_fraction,
                "hips_estsize": size_kb,
                "hips_nb_tiles": tile_count,
            },
        )
        manifest = Manifest(
            kind="colour",
            order=order,
            tile_width=width,
            dtype="",
            cut=[c for cut in cuts for c in cut],
            created=created,
            tiles={k: sorted(v) for k, v in work.present.items()},
            sources=sources,
        )
        manifest.write(staged)
        final = store.publish(survey.name, staged)
    except BaseException:
        store.discard(staged)
        raise
    status = "updated" if incremental else "built"
    return SurveyResult(survey.name, status, f"{work.written} tiles written", work.written, final, manifest)


def _changed_tiles(
    store: HipsStore,
    old_sources: dict[str, str],
    survey: ColourSurvey,
    directories: Sequence[Path],
    candidates: dict[int, set[int]],
) -> dict[int, set[int]] | None:
    """The tiles whose band tiles differ between the band builds the colour survey was made from
    and the current ones (an unchanged tile is the same file, hard-linked); None when an old band
    build is gone and this cannot be told."""
    olds = []
    for band in survey.bands:
        name = old_sources.get(band.name)
        directory = store.builds / name if name else None
        if directory is None or not directory.is_dir():
            return None
        olds.append(directory)
    dirty: dict[int, set[int]] = {}
    for order, tiles in candidates.items():
        dirty[order] = set()
        for tile in tiles:
            for before, now in zip(olds, directories, strict=True):
                if _identity(tile_path(before, order, tile, "fits")) != _identity(tile_path(now, order, tile, "fits")):
                    dirty[order].add(tile)
                    break
    return dirty


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino
