"""Build a colour survey from three band surveys: each tile's red, green and blue are the bands'
FITS tiles of that order scaled between their colour cuts, written as PNG (transparent without
data) and JPEG. Only the tiles whose band tiles changed since the last colour build are redone
(an unchanged band tile is the same file, hard-linked from build to build).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor, Future
from pathlib import Path

import numpy as np

from archive_io import hips_properties as props
from archive_io.hips_properties import hips_date
from archive_io.hips_store import HipsStore
from hips_build import tile_files
from hips_build.geometry import cell_size_deg, shift_order, tile_path
from hips_build.index_page import write_index
from hips_build.initial_view import initial_view
from hips_build.manifest import Manifest
from hips_build.plan import ColourSurvey, creator_did
from hips_build.preview import write_preview
from hips_build.survey_steps import (
    ALLSKY_ORDER,
    COLOUR_PERCENTILES,
    BuildOptions,
    Site,
    SurveyResult,
    Work,
    build_size,
    cut_of,
    merge_tiles,
    regime,
    remove_tile,
    run_orders,
    stage,
    time_range,
    write_moc,
    write_properties,
)


def _colour_task(
    root: Path, order: int, tile: int, width: int, bands: Sequence[Path], cuts: Sequence[tuple[float, float]]
) -> tuple[int, bool, list[float] | None]:
    values = [tile_files.read_fits_tile(tile_path(b, order, tile, "fits")) for b in bands]
    if all(v is None for v in values):
        remove_tile(root, order, tile, ("png", "jpg"))
        return tile, False, None
    rgb, covered = tile_files.colour_levels(values, cuts, (width, width))
    tile_files.write_colour_tiles(
        tile_path(root, order, tile, "png"), tile_path(root, order, tile, "jpg"), rgb, covered
    )
    return tile, True, None


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
    cuts = [cut_of(m.levels, COLOUR_PERCENTILES) if m.levels else (m.cut[0], m.cut[1]) for m in manifests]

    everything = merge_tiles(*({k: v for k, v in m.tiles.items() if k <= order} for m in manifests))
    incremental = (
        old is not None
        and (old.order, old.tile_width) == (order, width)
        and old.cut == [c for cut in cuts for c in cut]
    )
    if incremental and old is not None:
        # The tiles of either build: a band tile that came (a new sky area), went or changed.
        dirty = _changed_tiles(store, old.sources, survey, directories, merge_tiles(everything, old.tiles))
    else:
        dirty = everything
    if incremental and dirty is None:
        incremental = False
        dirty = everything
    assert dirty is not None
    work = Work(dirty=dirty)
    if incremental and old is not None:
        work.present = {k: set(v) for k, v in old.tiles.items()}
    staged = stage(store, survey.name, previous if incremental else None)
    try:

        def submit(tile_order: int, tile: int) -> Future[tuple[int, bool, list[float] | None]]:
            return executor.submit(_colour_task, staged, tile_order, tile, width, directories, cuts)

        run_orders(executor, work, survey.name, options.progress, submit, order)
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
        sky_fraction = write_moc(staged, footprints)
        created = old.created if old is not None else hips_date()
        lows = [m for s in survey.bands if (m := s.em_range[0]) is not None]
        highs = [m for s in survey.bands if (m := s.em_range[1]) is not None]
        t_min, t_max = time_range(images)
        ra, dec, fov = initial_view(footprints)
        write_preview(staged, order, width, (ra, dec, fov))
        size_kb, tile_count = build_size(staged)
        rgb_names = {"red": survey.red, "green": survey.green, "blue": survey.blue}
        write_properties(
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
                "prov_progenitor": (
                    f"the band surveys {survey.red.name}, {survey.green.name} and {survey.blue.name} "
                    f"of ivo://{site.authority}"
                ),
                "obs_regime": regime(min(lows) if lows else None, max(highs) if highs else None),
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
        write_index(staged, site.viewer)
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
    message = f"{work.written} tiles written, order {order}"
    return SurveyResult(survey.name, status, message, work.written, final, manifest)


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
