"""Ingest a directory of FITS images into ivoa.obscore, all or nothing, with a progress bar.

Files that cannot be described are reported by name and skipped; the rows of the others are
upserted in one transaction (keyed on obs_publisher_did), so re-ingesting updates rather than
duplicates, and a failure while writing leaves the table as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from tqdm import tqdm

from archive_io.registry_state import record_collections
from data_ingest.fits_images import ArchiveContext, IngestError, describe_fits
from data_ingest.image_warnings import ImageWarning, Missing, image_warnings
from data_ingest.instruments import InstrumentProfiles, shipped_profiles
from data_ingest.provenance import file_provenance, write_provenance
from data_ingest.release_policy import ReleaseOverride
from data_ingest.spellings import Spelling, profile_spellings, record_spellings
from pgsql_text.quoting import quote_ident
from schemas.model import TableDef

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz")
PGSPHERE_TYPES = ("spoint", "scircle", "spoly", "sbox")


@dataclass
class IngestReport:
    ingested: int = 0
    skipped: list[str] = field(default_factory=list)  # one line per file, naming it and saying why
    seconds: float = 0.0
    files: int = 0  # FITS files found under the paths given
    # What ingested images lack that users will miss (no profile, filter or time), per file.
    warnings: list[ImageWarning] = field(default_factory=list)

    def summary(self) -> list[str]:
        """What to tell the operator after an ingest, line by line."""
        rate = self.ingested / self.seconds if self.seconds else 0.0
        return [
            f"ingested {self.ingested} images into ivoa.obscore in {self.seconds:.1f} s "
            f"({rate:.0f} files/s); {len(self.skipped)} skipped"
        ]

    def warning_lines(self, listed: int = 5) -> list[str]:
        """The warnings, grouped by what is missing: a headline saying what follows, then the
        first ``listed`` files."""
        lines: list[str] = []
        for missing in Missing:
            details = [w.detail for w in self.warnings if w.missing is missing]
            if not details:
                continue
            lines.append(f"warning: {missing.headline(len(details))}")
            lines += [f"  {line}" for line in details[:listed]]
            if len(details) > listed:
                lines.append(f"  ... and {len(details) - listed} more")
        return lines


def find_fits(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.name.lower().endswith(FITS_SUFFIXES))
        else:
            found.append(path)
    return found


def _upsert_sql(table: TableDef, columns: list[str]) -> str:
    names = ", ".join(quote_ident(c) for c in columns)
    values = ", ".join(
        f"%({c})s::{table.column(c).sql_type}" if table.column(c).sql_type in PGSPHERE_TYPES else f"%({c})s"
        for c in columns
    )
    key = ", ".join(quote_ident(c) for c in table.primary_key)
    updates = ", ".join(f"{quote_ident(c)} = EXCLUDED.{quote_ident(c)}" for c in columns if c not in table.primary_key)
    return (
        f"INSERT INTO {quote_ident(table.schema)}.{quote_ident(table.name)} ({names}) VALUES ({values}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


def ingest_images(
    conn: psycopg.Connection,
    paths: Iterable[Path],
    context: ArchiveContext,
    obscore: TableDef,
    progress: bool = True,
    warn: Callable[[str], None] | None = None,
    profiles: InstrumentProfiles | None = None,
    release: ReleaseOverride | None = None,
) -> IngestReport:
    """Describe every FITS file under ``paths`` and upsert the rows into ``obscore``; instruments
    are described by ``profiles`` (default: the shipped ones), release dates and proposals by
    their policies unless ``release`` overrides them. ``warn`` hears of each skipped
    file as it is skipped, in one line naming it and saying why."""
    started = time.monotonic()
    profiles = profiles or shipped_profiles()
    report = IngestReport()
    files = find_fits(paths)
    report.files = len(files)
    rows: list[dict[str, Any]] = []
    sources: list[dict[str, Any]] = []
    spellings: set[Spelling] = set()
    root = context.archive_root.resolve()
    for path in tqdm(files, desc="reading FITS headers", unit="file", disable=not progress):
        try:
            if not path.resolve().is_relative_to(root):
                raise IngestError(
                    f"{path}: outside the archive directory {root}; move it there or set DALSERVER_ARCHIVE_DIR"
                )
            row, values = describe_fits(path, context, profiles, release)
        except IngestError as exc:
            line = " ".join(str(exc).splitlines())
            report.skipped.append(line)
            if warn:
                warn(line)
            continue
        sources.append(file_provenance(path, root, row["obs_publisher_did"], values))
        rows.append(row)
        profile = profiles.profile_for(values.get("INSTRUME"))
        if profile is not None:
            spellings |= profile_spellings(profile, values.get("INSTRUME"))
        report.warnings += image_warnings(path, row, values, profile)
    known = {c.name for c in obscore.columns}
    if rows:
        columns = [c for c in rows[0] if c in known]
        sql = _upsert_sql(obscore, columns)
        with conn.transaction(), conn.cursor() as cur:
            for start in tqdm(
                range(0, len(rows), 500), desc="writing ObsCore rows", unit="batch", disable=not progress
            ):
                cur.executemany(sql, [{c: r.get(c) for c in columns} for r in rows[start : start + 500]])
            write_provenance(cur, sources)
            record_spellings(cur, spellings)
            record_collections(cur, {r["obs_collection"] for r in rows})
        report.ingested = len(rows)
    report.seconds = time.monotonic() - started
    return report
