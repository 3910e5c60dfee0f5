"""HiPS build time and pixels against CDS Hipsgen, in the same run, on the same images.

Needs Hipsgen: Debian's ``aladin`` package (``apt-get install aladin``: Aladin Desktop, whose jar
runs Hipsgen as ``java -jar /usr/share/java/aladin.jar -hipsgen in=... out=...``). Writes the
sample (132 Suprime-Cam stacks, 9 bands), builds every band at order 6 with 512-pixel tiles
(Hipsgen reads the sample's PC+CDELT WCS as 1-degree pixels when it chooses an order, so the order
is given to both) with Hipsgen (one run per band, as it builds one survey per run) and with
dalserver's builder (the same 9 surveys, no colour), then compares the FITS tiles of every order.
For the V band it also times reproject 0.21's route (``reproject_and_coadd`` into one mosaic,
since its HiPS writer takes one image, then ``reproject_to_hips``).

    .venv/bin/python bench/hips.py
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
from astropy.io import fits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data_ingest.sample import write_sample  # noqa: E402
from hips_build.run import build_surveys  # noqa: E402
from hips_build.survey_steps import BuildOptions, Site  # noqa: E402
from tests.support.hips import source_images  # noqa: E402

ALADIN = Path("/usr/share/java/aladin.jar")
ORDER = 6


def hipsgen(source: Path, out: Path, band: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [
            "java",
            "-Xmx2g",
            "-jar",
            str(ALADIN),
            "-hipsgen",
            f"in={source}",
            f"out={out}",
            f"hips_order={ORDER}",
            f"creator_did=ivo://bench/P/{band}",
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or not (out / "properties").is_file():
        raise SystemExit(f"Hipsgen failed on {band}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def correlations(ours: Path, theirs: Path) -> dict[int, list[float]]:
    found: dict[int, list[float]] = defaultdict(list)
    for tile in theirs.glob("Norder*/Dir*/Npix*.fits"):
        mine = ours / tile.relative_to(theirs)
        if not mine.is_file():
            continue
        order = int(tile.parts[-3].removeprefix("Norder"))
        a, b = fits.getdata(mine).astype(float), fits.getdata(tile).astype(float)
        both = np.isfinite(a) & np.isfinite(b)
        if both.sum() > 100:
            found[order].append(float(np.corrcoef(a[both], b[both])[0, 1]))
    return found


def reproject_route(paths: list[Path], out: Path) -> float:
    from reproject import reproject_interp
    from reproject.hips import reproject_to_hips
    from reproject.mosaicking import find_optimal_celestial_wcs, reproject_and_coadd

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hdus = [fits.open(p)[0] for p in paths]
        wcs, shape = find_optimal_celestial_wcs(hdus)
        mosaic, _ = reproject_and_coadd(
            hdus, wcs, shape_out=shape, reproject_function=reproject_interp, combine_function="mean"
        )
        reproject_to_hips(
            (mosaic, wcs),
            coord_system_out="equatorial",
            reproject_function=reproject_interp,
            output_directory=out,
            level=ORDER,
            tile_size=512,
            threads=2,
        )
    return time.perf_counter() - started


def main() -> None:
    if shutil.which("java") is None or not ALADIN.is_file():
        raise SystemExit("needs Hipsgen: apt-get install aladin (Debian's Aladin Desktop package)")
    work = Path(tempfile.mkdtemp(prefix="dalserver-hips-bench-"))
    try:
        archive = work / "archive"
        paths = write_sample(archive / "suprimecam")
        images = source_images(paths, archive)
        bands: dict[str, list[Path]] = defaultdict(list)
        for image in images:
            bands[image.band or ""].append(image.path)
        print(f"{len(images)} stacks in {len(bands)} bands; order {ORDER}, 512-pixel tiles, both cores")

        hipsgen_seconds: dict[str, float] = {}
        for band, files in sorted(bands.items()):
            source = work / "in" / band
            source.mkdir(parents=True)
            for f in files:
                (source / f.name).symlink_to(f)
            hipsgen_seconds[band] = hipsgen(source, work / "hipsgen" / band, band)

        options = BuildOptions(order=ORDER, tile_width=512, progress=False)
        started = time.perf_counter()
        build_surveys(images, work / "ours", Site("bench"), options, colours=[], workers=2, warn=lambda m: None)
        ours_total = time.perf_counter() - started
        # The V band three times each way, alternating, so that a busy moment of the machine
        # weighs on both: medians.
        v_images = [i for i in images if i.band == "W-J-V"]
        hipsgen_v, ours_v_runs = [hipsgen_seconds["W-J-V"]], []
        for run in range(3):
            started = time.perf_counter()
            build_surveys(
                v_images, work / f"ours-v{run}", Site("bench"), options, colours=[], workers=2, warn=lambda m: None
            )
            ours_v_runs.append(time.perf_counter() - started)
            if run < 2:
                hipsgen_v.append(hipsgen(work / "in" / "W-J-V", work / f"hipsgen-v{run}", "W-J-V"))
        ours_v = statistics.median(ours_v_runs)
        hipsgen_seconds["W-J-V (median)"] = statistics.median(hipsgen_v)
        reproject_v = reproject_route(bands["W-J-V"], work / "reproject-v")

        total = sum(v for k, v in hipsgen_seconds.items() if "median" not in k)
        print(f"all 9 bands: Hipsgen {total:.1f} s, dalserver {ours_total:.1f} s ({total / ours_total:.2f} x faster)")
        print(
            f"V alone (36 stacks, median of 3): Hipsgen {hipsgen_seconds['W-J-V (median)']:.1f} s, dalserver {ours_v:.1f} s "
            f"({hipsgen_seconds['W-J-V (median)'] / ours_v:.2f} x faster), reproject mosaic + reproject_to_hips {reproject_v:.1f} s"
        )
        per_order: dict[int, list[float]] = defaultdict(list)
        for band in bands:
            name = next(
                p.name
                for p in (work / "ours").iterdir()
                if p.is_symlink() and p.name.endswith(band.lower().replace("+", "-plus"))
            )
            for order, values in correlations(work / "ours" / name, work / "hipsgen" / band).items():
                per_order[order].extend(values)
        print("FITS tiles against Hipsgen's (Pearson correlation over cells both have):")
        for order in sorted(per_order, reverse=True):
            values = per_order[order]
            print(
                f"  order {order}: {len(values)} tiles, median {statistics.median(values):.4f}, lowest {min(values):.4f}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
