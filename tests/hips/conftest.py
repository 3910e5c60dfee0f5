"""One small survey set per session, built from a few of the sample's images (the four central
stacks of three narrow and intermediate bands) with 64-pixel tiles: the deepest order (9) then
has the same 6.4 arcsec cells as the demo's order 6 of 512-pixel tiles, at a fraction of the cost."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from hips_build.images import SourceImage
from hips_build.run import RunReport, build_surveys
from hips_build.survey_steps import BuildOptions, Site
from tests.support.hips import sample_images

BANDS = ("I-A-L598", "N-A-L503", "N-B-L497")
TILE_WIDTH = 64
AUTHORITY = "dalserver.test"


@dataclass
class BuiltSurveys:
    archive: Path
    hips: Path
    images: list[SourceImage]
    report: RunReport

    def survey(self, name: str) -> Path:
        return self.hips / name


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[SourceImage]]:
    archive = tmp_path_factory.mktemp("hips-archive")
    return archive, sample_images(archive, BANDS)


@pytest.fixture(scope="session")
def built(sample_dir: tuple[Path, list[SourceImage]], tmp_path_factory: pytest.TempPathFactory) -> BuiltSurveys:
    archive, images = sample_dir
    hips = tmp_path_factory.mktemp("hips")
    report = build_surveys(
        images, hips, Site(AUTHORITY), BuildOptions(tile_width=TILE_WIDTH, progress=False), workers=2, warn=print
    )
    return BuiltSurveys(archive, hips, images, report)
