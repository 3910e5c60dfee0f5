"""Every survey of an archive: list the images (ObsCore, or a list given), plan the surveys,
build each band survey and then the colour surveys, in worker processes on every core.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive_io.hips_store import HipsStore
from hips_build.build import build_band_survey
from hips_build.colour import build_colour_survey
from hips_build.images import SourceImage
from hips_build.manifest import Manifest
from hips_build.plan import plan_surveys
from hips_build.survey_steps import BuildOptions, Site, SurveyResult

DEFAULT_OPTIONS = BuildOptions()


@dataclass
class RunReport:
    results: list[SurveyResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def tiles_written(self) -> int:
        return sum(r.tiles_written for r in self.results)


class InlineExecutor(Executor):
    """Runs each task at once in this process: one worker, and no processes to start."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to whoever waits on it, as a pool would
            future.set_exception(exc)
        return future


def make_executor(workers: int | None) -> Executor:
    """Worker processes (one per core by default); forked where the platform can, so that they
    start in milliseconds rather than re-importing astropy."""
    count = workers or os.cpu_count() or 1
    if count <= 1:
        return InlineExecutor()
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else methods[0])
    return ProcessPoolExecutor(max_workers=count, mp_context=context)


def build_surveys(
    images: Sequence[SourceImage],
    hips_root: Path,
    site: Site,
    options: BuildOptions = DEFAULT_OPTIONS,
    bands: Sequence[str] = (),
    collections: Sequence[str] = (),
    colours: Sequence[tuple[str, str, str]] | None = None,
    workers: int | None = None,
    warn: Callable[[str], None] = print,
) -> RunReport:
    """Build (or bring up to date) the surveys ``images`` make under ``hips_root``."""
    started = time.monotonic()
    plan = plan_surveys(images, bands, collections, colours)
    report = RunReport(notes=list(plan.notes))
    store = HipsStore(hips_root)
    hips_root.mkdir(parents=True, exist_ok=True)
    by_name: dict[str, SurveyResult] = {}
    executor = make_executor(workers)
    try:
        for survey in plan.bands:
            result = build_band_survey(survey, store, site, options, executor, warn)
            by_name[survey.name] = result
            report.results.append(result)
        for colour in plan.colours:
            inputs = [by_name.get(b.name) or _published(store, b.name) for b in colour.bands]
            report.results.append(build_colour_survey(colour, inputs, store, site, options, executor))
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    if not bands and not collections:
        planned = {s.name for s in plan.bands} | {c.name for c in plan.colours}
        for name in store.names():
            manifest = Manifest.read(store.current(name) or hips_root / name)
            if name in planned or manifest is None:
                continue
            if manifest.kind == "band" or colours is None:
                store.unpublish(name)
                report.results.append(SurveyResult(name, "removed", "its images are no longer in ivoa.obscore"))
    report.seconds = time.monotonic() - started
    return report


def _published(store: HipsStore, name: str) -> SurveyResult:
    directory = store.current(name)
    manifest = Manifest.read(directory) if directory is not None else None
    if directory is None or manifest is None:
        return SurveyResult(name, "skipped", "not built")
    return SurveyResult(name, "up to date", directory=directory, manifest=manifest)
