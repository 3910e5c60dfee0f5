"""The other spellings of published instrument and facility names (``ingest.spellings``), kept at
ingest so that SIA's INSTRUMENT and FACILITY find images by the names their headers use: the
server reads this table and never the profiles (it does not import the ingest).

A row says: a search for ``spelling`` in ObsCore's ``column_name`` also finds ``published``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from data_ingest.instruments import InstrumentProfile

Spelling = tuple[str, str, str]  # (ObsCore column, spelling, published name)

INSERT = (
    "INSERT INTO ingest.spellings (column_name, spelling, published) VALUES (%s, %s, %s) "
    "ON CONFLICT (column_name, spelling, published) DO NOTHING"
)


def profile_spellings(profile: InstrumentProfile, header_instrume: object = None) -> set[Spelling]:
    """The spellings ``profile`` lists, and the INSTRUME value a header really wrote."""
    found = {("instrument_name", s, profile.instrument_name) for s in profile.instrument_spellings}
    found |= {("facility_name", s, profile.facility_name) for s in profile.facility_spellings}
    if isinstance(header_instrume, str) and header_instrume.strip():
        found.add(("instrument_name", header_instrume.strip(), profile.instrument_name))
    return {s for s in found if s[1] != s[2]}


def record_spellings(cur: psycopg.Cursor[Any], spellings: Iterable[Spelling]) -> None:
    """Add ``spellings`` (in the ingest's transaction); a spelling once recorded stays, since
    rows ingested under it may remain."""
    rows = sorted(spellings)
    if rows:
        cur.executemany(INSERT, rows)
