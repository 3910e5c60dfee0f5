"""Read one instrument profile from YAML, checked: an operator's mistake is refused with the file,
the key and what is wrong, never half-applied.

The format (the manual, docs/operators-guide/instruments.md)::

    instrument: {name: Suprime-Cam, spellings: [SuprimeCam]}   # or just `instrument: Suprime-Cam`
    facility: {name: Subaru, spellings: [SUBARU]}
    collection: Subaru/Suprime-Cam
    filter_keywords: [FILTER01]          # optional; default FILTER, FILTER01, FILTNAME
    wavelength_unit: nm                  # for bounds written as bare numbers
    filters:
      W-J-V: [499.5, 596.5]              # or ["499.5 nm", "0.5965 um"], any spectral unit
    release:                             # optional; default: public at once
      proprietary_months: 18             # public this long after the observation (DATE-OBS, MJD-OBS)
      proposal_keyword: PROP-ID          # the header keyword naming the observing proposal
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import astropy.units as u
import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, field_validator

from data_ingest.instruments.base import FILTER_KEYWORDS, Filter, InstrumentProfile, instrument_key
from data_ingest.release_policy import ReleasePolicy


class ProfileError(Exception):
    """An instrument profile that cannot be used; the message names the file and the key."""


# A number in wavelength_unit, or a quantity with its own unit: checked by _metres, which says
# what is wrong in the profile's terms rather than in the three types of a union.
Bound = Any


class _Name(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: StrictStr = Field(min_length=1)
    spellings: list[StrictStr] = []


class _Release(BaseModel):
    model_config = ConfigDict(extra="forbid")

    proprietary_months: int = Field(default=0, ge=0, le=1200)
    proposal_keyword: StrictStr | None = Field(default=None, min_length=1, max_length=8)


class _ProfileFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instrument: _Name
    facility: _Name
    collection: StrictStr = Field(min_length=1)
    filter_keywords: list[StrictStr] = Field(default=list(FILTER_KEYWORDS), min_length=1)
    wavelength_unit: StrictStr | None = None
    filters: dict[str, tuple[Bound, Bound]] = Field(min_length=1)
    release: _Release = _Release()

    @field_validator("instrument", "facility", mode="before")
    @classmethod
    def _name_alone(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @field_validator("filter_keywords", mode="before")
    @classmethod
    def _one_keyword(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


def _place(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as the YAML key path: filters.W-J-V[1]."""
    text = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _message(error: Any) -> str:
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{_place(loc)}: unknown key (a typo?)"
    if error["type"] == "missing":
        return f"{_place(loc)}: required, but missing"
    if loc and loc[-1] == "[key]":  # YAML read a key as a number or a boolean (ON, yes, 1)
        return f"{_place(loc[:-2])}: a name that YAML reads as a number or a boolean (1, ON, yes) must be in quotes"
    if error["type"] == "model_type":
        return f"{_place(loc)}: expected a name, or a mapping with name: and spellings:"
    if loc[:1] == ("filters",) and len(loc) == 2:
        return f"{_place(loc)}: expected two bounds, [min, max]"
    if error["type"] == "too_short":
        return f"{_place(loc)}: must not be empty"
    return f"{_place(loc)}: {error['msg'].removeprefix('Value error, ')}"


def _errors(exc: ValidationError) -> str:
    # Unknown keys first: a misspelt key also makes the right one "missing".
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    return "; ".join(dict.fromkeys(_message(e) for e in errors))


def _unit(text: str | None, where: str) -> u.UnitBase | None:
    if text is None:
        return None
    try:
        unit = u.Unit(text)
        unit.to(u.m, equivalencies=u.spectral())
    except ValueError as exc:  # UnitConversionError is a ValueError too
        reason = str(exc).split(" If this is meant")[0]
        raise ProfileError(
            f"{where}: wavelength_unit: {text!r} is not a unit of wavelength, frequency or energy ({reason})"
        ) from None
    return unit


def _metres(value: Any, unit: u.UnitBase | None, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ProfileError(f"{where}: {value!r} is neither a number nor a quantity such as '500 nm'")
    try:
        if isinstance(value, str):
            quantity = u.Quantity(value)
            if quantity.unit == u.dimensionless_unscaled:
                if unit is None:
                    raise ValueError(f"{value!r} has no unit; write it with one, or give wavelength_unit")
                quantity = quantity.value * unit
        elif unit is None:
            raise ValueError(f"{value!r} has no unit; write it with one (e.g. '{value} nm'), or give wavelength_unit")
        else:
            quantity = value * unit
        metres = float(quantity.to(u.m, equivalencies=u.spectral()).value)
    except (TypeError, ValueError) as exc:
        message = str(exc).split(" If this is meant")[0]
        raise ProfileError(f"{where}: {message}") from None
    if not math.isfinite(metres) or metres <= 0:
        raise ProfileError(f"{where}: {value!r} is not a positive wavelength")
    return metres


def _filters(data: _ProfileFile, source: Path) -> dict[str, Filter]:
    unit = _unit(data.wavelength_unit, str(source))
    filters: dict[str, Filter] = {}
    for name, bounds in data.filters.items():
        where = f"{source}: filters.{name}"
        if not name.strip():
            raise ProfileError(f"{source}: filters: a filter has an empty name")
        # A frequency or energy range turns round in wavelength: the bounds are sorted.
        low, high = sorted(_metres(b, unit, f"{where}[{i}]") for i, b in enumerate(bounds))
        if low == high:
            raise ProfileError(f"{where}: the range is empty ({bounds[0]!r} to {bounds[1]!r})")
        key = name.strip().upper()
        if key in filters:
            raise ProfileError(f"{where}: the same filter as {filters[key].name!r} (filter names ignore case)")
        filters[key] = Filter(name.strip(), low, high)
    return filters


def _spellings(name: _Name, key: str, source: Path) -> tuple[str, ...]:
    for i, spelling in enumerate(name.spellings):
        if not spelling.strip():
            raise ProfileError(f"{source}: {key}.spellings[{i}]: an empty spelling")
    if key == "instrument" and not instrument_key(name.name):
        raise ProfileError(f"{source}: instrument.name: {name.name!r} has no letter or digit")
    return tuple(dict.fromkeys(s.strip() for s in name.spellings if s.strip() != name.name))


def load_profile(source: Path) -> InstrumentProfile:
    """The profile in the YAML file ``source``; ``ProfileError`` naming file and key if it is wrong."""
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{source}: cannot read the instrument profile: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ProfileError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProfileError(f"{source}: not valid YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise ProfileError(f"{source}: an instrument profile is a mapping (instrument:, facility:, filters: ...)")
    try:
        data = _ProfileFile.model_validate(raw)
    except ValidationError as exc:
        raise ProfileError(f"{source}: {_errors(exc)}") from None
    return InstrumentProfile(
        instrument_name=data.instrument.name.strip(),
        facility_name=data.facility.name.strip(),
        collection=data.collection.strip(),
        filters=_filters(data, source),
        filter_keywords=tuple(k.strip().upper() for k in data.filter_keywords),
        instrument_spellings=_spellings(data.instrument, "instrument", source),
        facility_spellings=_spellings(data.facility, "facility", source),
        source=source,
        release=ReleasePolicy(
            data.release.proprietary_months,
            data.release.proposal_keyword.strip().upper() if data.release.proposal_keyword else None,
        ),
    )
