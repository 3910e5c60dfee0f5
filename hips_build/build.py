"""Build a band survey: inspect the images that are new or changed since the last build (the
others' facts are in its manifest), choose the deepest order from their pixel scale, find the
deepest tiles the changed images touch (all of them on a first or ``full`` build), render those
in the worker processes, then their parents order by order down to 0, the Allsky of order 3,
the MOC, the properties and the manifest, into a staged copy of the previous build (hard links:
unchanged tiles cost nothing), and publish it in one rename (``publish.HipsStore``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from pathlib import Path

import numpy as np

from archive_io import hips_properties as props
from archive_io.hips_properties import hips_date
from archive_io.hips_store import HipsStore
from hips_build import tile_files
from hips_build.geometry import cell_size_deg, footprint_tiles, order_for_pixel_scale, shift_order, tile_path
from hips_build.images import ImageFacts, ImageSkipped, inspect_image
from hips_build.index_page import write_index
from hips_build.initial_view import initial_view
from hips_build.manifest import ImageRecord, Manifest
from hips_build.plan import BandSurvey, creator_did
from hips_build.preview import write_preview
from hips_build.survey_steps import (
    ALLSKY_ORDER,
    CUT_PERCENTILES,
    BuildOptions,
    Site,
    SurveyResult,
    Work,
    build_size,
    cut_of,
    dirty_chain,
    pixel_levels,
    regime,
    remove_tile,
    run_orders,
    stage,
    time_range,
    write_moc,
    write_properties,
)
from hips_build.tiler import deepest_tile, parent_tile

# Worker tasks: top-level functions, run in the worker processes with picklable arguments.


def _inspect(path: Path) -> ImageFacts | str:
    try:
        return inspect_image(path)
    except ImageSkipped as exc:
        return str(exc)


def _write_band_tile(
    root: Path, order: int, tile: int, values: np.ndarray, dtype: str, cut: tuple[float, float]
) -> tuple[int, bool, list[float] | None]:
    finite = np.isfinite(values)
    if not finite.any():
        remove_tile(root, order, tile, ("fits", "png"))
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
    width = options.tile_width
    new = {
        d
        for d, r in records.items()
        if old is None or d not in old.images or old.images[d].fingerprint != r.fingerprint
    }
    order = _survey_order(survey.name, options, old, records, new, warn)
    pixel_scale = min(r.pixel_scale for r in records.values())  # s_pixel_scale: the finest images'
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
        changed = new
        gone = set(old.images) - set(records)
        if not changed and not gone:
            return SurveyResult(survey.name, "up to date", directory=previous, manifest=old)
        deepest_dirty: set[int] = set()
        for did in changed:
            deepest_dirty.update(int(t) for t in tiles_of[did])
        for did in changed | gone:
            if did in old.images:
                deepest_dirty.update(
                    int(t) for t in footprint_tiles([(ra, dec) for ra, dec in old.images[did].footprint], order)
                )
        cut = (old.cut[0], old.cut[1])
        levels = old.levels
    else:
        deepest_dirty = set(images_of_tile)
        levels = pixel_levels(samples)
        cut = options.cut or cut_of(levels, CUT_PERCENTILES)

    work = Work(dirty=dirty_chain(deepest_dirty, order))
    if incremental and old is not None:
        work.present = {k: set(v) for k, v in old.tiles.items()}
        work.ranges = dict(old.ranges)
    staged = stage(store, survey.name, previous if incremental else None)
    try:

        def submit(tile_order: int, tile: int) -> Future[tuple[int, bool, list[float] | None]]:
            if tile_order == order:
                return executor.submit(
                    _deepest_task, staged, order, tile, width, images_of_tile.get(tile, []), dtype, cut
                )
            return executor.submit(_parent_task, staged, tile_order, tile, width, dtype, cut)

        run_orders(executor, work, survey.name, options.progress, submit, order)
        if order >= ALLSKY_ORDER:
            _band_allsky(staged, work.present.get(ALLSKY_ORDER, set()), width, np.dtype(dtype), cut)
        sky_fraction = write_moc(staged, [i.footprint for i in images])
        created = old.created if incremental and old is not None else hips_date()
        em_min, em_max = BandSurvey(survey.name, survey.collection, survey.band, tuple(images)).em_range
        t_min, t_max = time_range(images)
        ra, dec, fov = initial_view([i.footprint for i in images])
        write_preview(staged, order, width, (ra, dec, fov))
        bunits = {r.bunit for r in records.values()}
        ranges = list(work.ranges.values())
        size_kb, tile_count = build_size(staged)
        write_properties(
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
                "prov_progenitor": f"the {survey.collection} images in {survey.band} of ivo://{site.authority}",
                "obs_regime": regime(em_min, em_max),
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
        write_index(staged, site.viewer)
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
    message = f"{work.written} tiles written, order {order}"
    return SurveyResult(survey.name, status, message, work.written, final, manifest)


def _arcsec(degrees: float) -> str:
    return f"{degrees * 3600:.3g}\u2033"


def _survey_order(
    name: str,
    options: BuildOptions,
    old: Manifest | None,
    records: dict[str, ImageRecord],
    new: set[str],
    warn: Callable[[str], None],
) -> int:
    """The deepest order: the operator's, else the order of the survey being updated (an
    incremental build never changes it: that would redo every tile), else the one whose cells
    match the finest images' pixels. New images finer than the survey's order are named, with
    the order they need and how to rebuild at it."""
    width = options.tile_width
    wanted = order_for_pixel_scale(min(r.pixel_scale for r in records.values()), width)
    if options.order is not None:
        return options.order
    if old is None or old.kind != "band" or old.tile_width != width:
        return wanted
    finer = sorted(
        (r for d, r in records.items() if d in new and order_for_pixel_scale(r.pixel_scale, width) > old.order),
        key=lambda r: (r.pixel_scale, r.path),
    )
    if finer:
        finest = finer[0].pixel_scale
        named = ", ".join(Path(r.path).name for r in finer[:3]) + (", ..." if len(finer) > 3 else "")
        warn(
            f"{name}: {len(finer)} new image{'s are' if len(finer) > 1 else ' is'} finer than the survey's "
            f"order {old.order} ({_arcsec(cell_size_deg(old.order + shift_order(width)))} cells): pixels of "
            f"{_arcsec(finest)} need order {order_for_pixel_scale(finest, width)} ({named}). This build keeps "
            f"order {old.order}; `dalserver hips build --full` rebuilds the survey at order {wanted}."
        )
    return old.order


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
