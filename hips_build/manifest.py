"""What a build was made from, kept beside its tiles (``.dalserver-build.json``, never served):
the options, the display cut, each image's fingerprint and footprint, and the tiles of every
order. The next build compares it with what the archive holds now and redoes only the tiles of
the images that came, went or changed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hips_build.images import ImageFacts
from hips_build.tile_files import write_atomically

MANIFEST_NAME = ".dalserver-build.json"
# Bump when a build's layout changes: older builds are then rebuilt whole. 2: index.html and
# preview.jpg, and the order chosen from the finest images.
FORMAT = 2


@dataclass
class ImageRecord:
    fingerprint: str
    path: str
    footprint: list[list[float]]
    pixel_scale: float
    dtype: str
    bunit: str | None

    @classmethod
    def of(
        cls, fingerprint: str, path: Path, footprint: tuple[tuple[float, float], ...], facts: ImageFacts
    ) -> ImageRecord:
        return cls(fingerprint, str(path), [list(v) for v in footprint], facts.pixel_scale, facts.dtype, facts.bunit)


@dataclass
class Manifest:
    kind: str  # "band" or "colour"
    order: int
    tile_width: int
    dtype: str  # the FITS tiles' numpy type ("" for colour surveys)
    cut: list[float]  # the display cut of the PNG tiles (band surveys)
    created: str  # hips_creation_date
    images: dict[str, ImageRecord] = field(default_factory=dict)  # by publisher DID
    tiles: dict[int, list[int]] = field(default_factory=dict)  # order -> tiles with data
    sources: dict[str, str] = field(default_factory=dict)  # colour: band survey name -> its build directory
    ranges: dict[str, list[float]] = field(default_factory=dict)  # deepest tile -> [min, max] of its values
    levels: dict[str, float] = field(default_factory=dict)  # percentile -> pixel value, of the images
    format: int = FORMAT

    def write(self, directory: Path) -> None:
        data = asdict(self)
        data["tiles"] = {str(k): v for k, v in self.tiles.items()}
        text = json.dumps(data, indent=1, sort_keys=True)
        write_atomically(directory / MANIFEST_NAME, lambda tmp: tmp.write_text(text))

    @classmethod
    def read(cls, directory: Path) -> Manifest | None:
        """The manifest of a build, or None when there is none or it is of another format."""
        try:
            data = json.loads((directory / MANIFEST_NAME).read_text())
            if data.get("format") != FORMAT:
                return None
            data["images"] = {k: ImageRecord(**v) for k, v in data["images"].items()}
            data["tiles"] = {int(k): v for k, v in data["tiles"].items()}
            return cls(**data)
        except (OSError, ValueError, TypeError, KeyError):
            return None
