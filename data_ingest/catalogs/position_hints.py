"""What to tell an operator whose catalogue was published without position columns: which
columns look like a right ascension and declination (by name and by UCD), and the sidecar key
that makes them the position.

Only suggestions: a guessed position would be indexed and served by cone search, and a wrong
guess is worse than none.
"""

from __future__ import annotations

import re

from schemas.model import ColumnDef

NUMERIC = {"short", "int", "long", "float", "double"}
# A right ascension and a declination with the same ending: ra/dec, RAJ2000/DEJ2000,
# ALPHA_J2000/DELTA_J2000, RA_ICRS/DE_ICRS, _RAJ2000/_DEJ2000, raMean/decMean.
_RA = re.compile(r"^(_?)(ra|alpha)(.*)$", re.IGNORECASE)
_DEC_WORDS = ("dec", "de", "delta")
_NOT_A_POSITION = re.compile(r"err|sig|unc|rms|var|std", re.IGNORECASE)  # ra_err/dec_err are errors


def _numeric(columns: list[ColumnDef]) -> list[ColumnDef]:
    return [c for c in columns if c.datatype in NUMERIC and not c.arraysize]


def pairs_by_name(columns: list[ColumnDef]) -> list[tuple[str, str]]:
    """(ra, dec) pairs whose names say so, in the order of the columns."""
    names = {c.name.lower(): c.name for c in _numeric(columns)}
    found = []
    for column in _numeric(columns):
        match = _RA.match(column.name)
        if not match:
            continue
        lead, _, ending = match.groups()
        if _NOT_A_POSITION.search(ending):
            continue
        for word in _DEC_WORDS:
            dec = names.get(f"{lead}{word}{ending}".lower())
            if dec is not None:
                found.append((column.name, dec))
                break
    return found


def pairs_by_ucd(columns: list[ColumnDef]) -> list[tuple[str, str]]:
    """(ra, dec) pairs by UCD pos.eq.ra / pos.eq.dec, matched in column order."""
    numeric = _numeric(columns)
    ras = [c.name for c in numeric if (c.ucd or "").lower().split(";")[0] == "pos.eq.ra"]
    decs = [c.name for c in numeric if (c.ucd or "").lower().split(";")[0] == "pos.eq.dec"]
    return list(zip(ras, decs, strict=False))


def no_position_note(columns: list[ColumnDef]) -> str:
    """The warning for a catalogue published without position columns."""
    consequence = (
        "published without position columns: no spatial index, no cone search (/scs) and no coverage map for it"
    )
    named = pairs_by_name(columns)
    by_ucd = [p for p in pairs_by_ucd(columns) if p not in named]
    candidates = [f"{ra}/{dec} (by name)" for ra, dec in named] + [f"{ra}/{dec} (by UCD)" for ra, dec in by_ucd]
    if not candidates:
        return (
            f"{consequence}; no column looks like a right ascension and declination by name or UCD. "
            "If it has them, name them in the metadata file (--meta): position: [RA_COLUMN, DEC_COLUMN]"
        )
    ra, dec = (named or by_ucd)[0]
    return (
        f"{consequence}; columns that look like positions: {', '.join(candidates)}. "
        f"Name them in the metadata file (--meta): position: [{ra}, {dec}] "
        "(or give them the UCDs pos.eq.ra;meta.main and pos.eq.dec;meta.main)"
    )
