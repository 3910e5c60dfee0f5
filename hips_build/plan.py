"""Which surveys an archive's images make: one per collection and band (``em_band_name``, or the
spectral range where a collection names no bands), and per collection one colour survey from
three of its bands, reddest as red. Names are what the surveys are published under
(``/hips/<name>``); identifiers are IVOIDs under the archive's authority.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hips_build.images import SourceImage


@dataclass(frozen=True)
class BandSurvey:
    name: str  # directory and URL name
    collection: str
    band: str  # em_band_name, or the spectral range as text
    images: tuple[SourceImage, ...]

    @property
    def em_range(self) -> tuple[float | None, float | None]:
        lows = [i.em_min for i in self.images if i.em_min is not None]
        highs = [i.em_max for i in self.images if i.em_max is not None]
        return (min(lows) if lows else None, max(highs) if highs else None)

    @property
    def centre(self) -> float:
        low, high = self.em_range
        return (low + high) / 2 if low is not None and high is not None else 0.0


@dataclass(frozen=True)
class ColourSurvey:
    name: str
    collection: str
    red: BandSurvey
    green: BandSurvey
    blue: BandSurvey

    @property
    def bands(self) -> tuple[BandSurvey, BandSurvey, BandSurvey]:
        return (self.red, self.green, self.blue)


@dataclass
class Plan:
    bands: list[BandSurvey] = field(default_factory=list)
    colours: list[ColourSurvey] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # bands asked for that have no images, and why


def slug(text: str) -> str:
    """A name for URLs and directories: lower case letters, digits and single dashes; a '+'
    (Suprime-Cam's W-S-I+) is spelt 'plus' so that W-S-I+ and W-S-I stay apart."""
    text = text.lower().replace("+", "-plus")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "images"


def ivoid_path(text: str) -> str:
    """A piece of an IVOID path: spaces and characters IVOIDs do not allow become '_'."""
    return re.sub(r"[^A-Za-z0-9._~!$&'()*+,;=:@/-]", "_", text).strip("/") or "images"


def band_key(image: SourceImage) -> str:
    if image.band:
        return image.band.strip()
    if image.em_min is not None and image.em_max is not None:
        return f"{image.em_min * 1e9:.0f}-{image.em_max * 1e9:.0f}nm"
    return "all"


def creator_did(authority: str, collection: str, band: str) -> str:
    return f"ivo://{authority}/P/{ivoid_path(collection)}/{ivoid_path(band)}"


def band_survey_name(collection: str, band: str) -> str:
    return f"{slug(collection)}-{slug(band)}"


def colour_survey_name(collection: str) -> str:
    return f"{slug(collection)}-color"


def plan_surveys(
    images: Iterable[SourceImage],
    bands: Sequence[str] = (),
    collections: Sequence[str] = (),
    colours: Sequence[tuple[str, str, str]] | None = None,
) -> Plan:
    """The surveys ``images`` make. ``bands`` and ``collections`` keep only those (names as in
    ObsCore, case-insensitive); ``colours`` gives (red, green, blue) bands, ``None`` picks three
    per collection (the three with most images, ordered by wavelength), ``[]`` makes none."""
    wanted_bands = {b.lower() for b in bands}
    wanted_collections = {c.lower() for c in collections}
    groups: dict[tuple[str, str], list[SourceImage]] = defaultdict(list)
    for image in images:
        if wanted_collections and image.collection.lower() not in wanted_collections:
            continue
        key = band_key(image)
        if wanted_bands and key.lower() not in wanted_bands:
            continue
        groups[(image.collection, key)].append(image)
    plan = Plan()
    for (collection, band), members in sorted(groups.items()):
        plan.bands.append(BandSurvey(band_survey_name(collection, band), collection, band, tuple(members)))
    found = {s.band.lower() for s in plan.bands}
    for band in bands:
        if band.lower() not in found:
            plan.notes.append(f"band {band}: no images in ivoa.obscore, so no survey")
    by_collection: dict[str, list[BandSurvey]] = defaultdict(list)
    for survey in plan.bands:
        by_collection[survey.collection].append(survey)
    if colours is None:
        for collection, surveys in by_collection.items():
            if len(surveys) < 3:
                continue
            chosen = sorted(surveys, key=lambda s: (-len(s.images), s.centre))[:3]
            red, green, blue = sorted(chosen, key=lambda s: -s.centre)
            plan.colours.append(ColourSurvey(colour_survey_name(collection), collection, red, green, blue))
    else:
        for triple in colours:
            picked: list[BandSurvey] = []
            for band in triple:
                match = [s for s in plan.bands if s.band.lower() == band.lower()]
                if not match:
                    plan.notes.append(f"colour {'/'.join(triple)}: band {band} has no survey, so no colour survey")
                    break
                picked.append(match[0])
            else:
                red, green, blue = picked
                if len({red.collection, green.collection, blue.collection}) > 1:
                    plan.notes.append(f"colour {'/'.join(triple)}: the bands are of different collections")
                    continue
                name = colour_survey_name(red.collection)
                if len(colours) > 1:
                    name = f"{name}-{slug(red.band)}-{slug(green.band)}-{slug(blue.band)}"
                plan.colours.append(ColourSurvey(name, red.collection, red, green, blue))
    return plan
