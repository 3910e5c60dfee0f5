"""An archive's state as the registry records see it, made by hand (no database), and reading
the records back: for the record and OAI-PMH tests of the fast tier."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table

from archive_io import registry_state as keys
from archive_io.coverage import REGISTRY_ORDER, degraded, footprints_moc, moc_to_ascii
from dalserver.records.state import ArchiveState, Collection, ResourceState
from dalserver.settings import Settings
from schemas.model import ColumnDef, SchemaDef, TableDef, builtin_schemas
from schemas.tableset import tableset_of

CREATED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
UPDATED = datetime(2025, 6, 7, 8, 9, 10, tzinfo=UTC)
SQUARE = [(34.0, -5.5), (35.0, -5.5), (35.0, -4.5), (34.0, -4.5)]
CATALOG = TableDef(
    schema="sxds",
    name="photometry",
    description="Photometric catalogue of the SXDS field",
    columns=(
        ColumnDef("source_id", "long", ucd="meta.id;meta.main", description="Source identifier"),
        ColumnDef("ra", "double", unit="deg", ucd="pos.eq.ra;meta.main"),
        ColumnDef("dec", "double", unit="deg", ucd="pos.eq.dec;meta.main"),
        ColumnDef("mag", "float", unit="mag", ucd="phot.mag"),
    ),
    position=("ra", "dec"),
)


def sample_settings(home: Path | None = None, authority: str = "example.org") -> Settings:
    """The settings of the hand-made archive. Its home is ``home``, else DALSERVER_HOME: give each
    test one of its own (tmp_path), so no survey or registry file of a real archive, or of another
    test, finds its way into the records."""
    where: dict[str, Any] = {} if home is None else {"home": home}
    return Settings(**where, base_url="http://archive.example.org", ivoid_authority=authority)


def sample_state(dropped: bool = False) -> ArchiveState:
    """The demo archive: one Suprime-Cam collection and one catalogue (or its deleted record)."""
    moc = degraded(moc_to_ascii(footprints_moc([SQUARE])), REGISTRY_ORDER)  # as the state holds it
    schemas = (
        *builtin_schemas(),
        SchemaDef("sxds", "Catalogues published in sxds", tables=() if dropped else (CATALOG,)),
    )
    rows = {key: ResourceState(key, CREATED, UPDATED) for key in keys.SERVICES}
    rows[keys.collection_state_key("Subaru/Suprime-Cam")] = ResourceState(
        keys.collection_state_key("Subaru/Suprime-Cam"),
        CREATED,
        UPDATED,
        False,
        moc,
        53000.5,
        53010.25,
        4e-7,
        1.05e-6,
        132,
    )
    rows[keys.catalog_state_key("sxds.photometry")] = ResourceState(
        keys.catalog_state_key("sxds.photometry"),
        CREATED,
        UPDATED,
        dropped,
        moc,
        row_count=1000,
        position=("ra", "dec"),
    )
    collections = {"Subaru/Suprime-Cam": Collection("Subaru/Suprime-Cam", ("Subaru",), ("Suprime-Cam",), ("image",))}
    return ArchiveState(rows, collections, tableset_of(schemas))


def write_catalog(
    directory: Path,
    name: str,
    centre: tuple[float, float],
    description: str,
    sources: int = 500,
    seed: int = 3,
    half_width: float = 0.45,
) -> tuple[Path, Path]:
    """A catalogue of sources in a square around ``centre`` (CSV) and its YAML sidecar: ids,
    positions with main-position UCDs, an R magnitude."""
    rng = np.random.default_rng(seed)
    ra = rng.uniform(centre[0] - half_width, centre[0] + half_width, sources)
    dec = rng.uniform(centre[1] - half_width, centre[1] + half_width, sources)
    table = Table(
        {
            "source_id": np.arange(1, sources + 1),
            "ra": ra,
            "dec": dec,
            "mag": rng.uniform(18, 26, sources).astype(np.float32),
        }
    )
    data = directory / f"{name}.csv"
    table.write(data, format="ascii.csv", overwrite=True)
    meta = directory / f"{name}.yaml"
    meta.write_text(
        f"description: {description}\n"
        "position: [ra, dec]\n"
        "columns:\n"
        "  source_id: {ucd: meta.id;meta.main, description: Source number}\n"
        "  ra: {unit: deg, ucd: pos.eq.ra;meta.main, description: Right ascension (ICRS)}\n"
        "  dec: {unit: deg, ucd: pos.eq.dec;meta.main, description: Declination (ICRS)}\n"
        "  mag: {unit: mag, ucd: phot.mag;em.opt.R, description: R magnitude}\n"
    )
    return data, meta


def write_sxds_catalog(directory: Path, sources: int = 500, seed: int = 3) -> tuple[Path, Path]:
    """A catalogue of galaxies inside the sample's SXDS field."""
    return write_catalog(
        directory,
        "sxds_sources",
        (34.5, -5.0),
        "Photometric catalogue of galaxies in the Subaru XMM-Newton Deep Survey field",
        sources,
        seed,
    )


def publish_catalog(env: dict[str, str], data: Path, table: str, meta: Path | None = None) -> None:
    """``dalserver ingest catalog`` as an operator runs it (the records and coverage follow)."""
    command = [sys.executable, "-m", "dalserver", "ingest", "catalog", str(data), "--table", table, "--quiet"]
    if meta is not None:
        command += ["--meta", str(meta)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def drop_catalog(env: dict[str, str], table: str) -> None:
    subprocess.run([sys.executable, "-m", "dalserver", "drop", "catalog", table], env=env, capture_output=True)


def refresh_records(env: dict[str, str]) -> None:
    """``dalserver registry refresh`` for the server ``env`` describes: the RegTAP records name its
    URLs again (another server started on the same archive, since stopped, wrote its own)."""
    done = subprocess.run(
        [sys.executable, "-m", "dalserver", "registry", "refresh"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
