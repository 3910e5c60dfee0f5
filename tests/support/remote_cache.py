"""Other archives' datasets put into the session archive's crawler cache (vo.remote_obscore and
vo.remote_coverage) by the crawler's own writer: the rows go through the converter that reads a
remote answer (archive_io.remote_rows.RowConverter) and are stored cell by cell by vo_crawl.store, as a crawl
stores them, without a second server to crawl (tests/crawl does that, at a cost of minutes).

Two made-up sources: one whose access URLs are DataLink documents and which offers previews, and
one with plain files; their datasets lie around the sample's field (34.5, -5.0) and far from it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from archive_io.remote_rows import RowConverter, Source
from archive_io.remote_votable import Field
from archive_io.sky_cells import MAX_ORDER
from vo_crawl import store
from vo_crawl.healpix import Cell

DATALINK_SOURCE = Source("ivo://alpha.example/tap", "https://alpha.example/tap", "obscore-tap")
FILE_SOURCE = Source("ivo://beta.example/sia", "https://beta.example/sia/query", "sia2")
SOURCES = (DATALINK_SOURCE, FILE_SOURCE)
DATALINK_FORMAT = "application/x-votable+xml;content=datalink"

FIELDS = [
    Field("obs_publisher_did", "char", "*"),
    Field("obs_id", "char", "*"),
    Field("obs_collection", "char", "*"),
    Field("dataproduct_type", "char", "*"),
    Field("facility_name", "char", "*"),
    Field("instrument_name", "char", "*"),
    Field("s_ra", "double"),
    Field("s_dec", "double"),
    Field("s_fov", "double"),
    Field("s_region", "char", "*", xtype="adql:REGION"),
    Field("t_min", "double"),
    Field("t_max", "double"),
    Field("em_min", "double"),
    Field("em_max", "double"),
    Field("access_url", "char", "*"),
    Field("access_format", "char", "*"),
    Field("preview", "char", "*"),
]

# (source, facility, instrument, how many, centre ra, centre dec, spread in degrees)
GROUPS = (
    (DATALINK_SOURCE, "HST", "ACS", 9, 34.45, -5.05, 0.3),
    (DATALINK_SOURCE, "HST", "WFC3", 4, 34.6, -4.95, 0.25),
    (FILE_SOURCE, "GALEX", "GALEX", 6, 34.5, -5.0, 0.4),
    (FILE_SOURCE, "Chandra", "ACIS", 3, 34.3, -5.2, 0.2),
    (FILE_SOURCE, "Chandra", "ACIS", 7, 150.1, 2.2, 0.5),  # far away: never in the field's counts
    (DATALINK_SOURCE, "ALMA", "Band 6", 5, 201.4, -43.0, 0.3),
)


@dataclass(frozen=True)
class RemoteRow:
    source: Source
    did: str
    obs_id: str
    facility: str
    instrument: str
    ra: float
    dec: float
    access_url: str
    preview: str | None


def remote_rows() -> list[RemoteRow]:
    """The made-up datasets, the same every time (positions on a deterministic spiral)."""
    rows: list[RemoteRow] = []
    for g, (source, facility, instrument, count, ra0, dec0, spread) in enumerate(GROUPS):
        host = source.url.split("/")[2]
        for k in range(count):
            turn = (k + 1) / count
            ra = ra0 + spread * turn * (1 if k % 2 else -1) * (0.5 + (k % 3) / 4)
            dec = dec0 + spread * turn * (1 if k % 4 < 2 else -1) * (0.3 + (k % 5) / 8)
            obs_id = f"{facility.lower().replace(' ', '')}-{instrument.lower().replace(' ', '')}-{g}-{k}"
            datalink = source is DATALINK_SOURCE
            url = f"https://{host}/{'datalink?ID=' if datalink else 'files/'}{obs_id}{'' if datalink else '.fits'}"
            preview = f"https://{host}/previews/{obs_id}.png" if datalink else None
            rows.append(
                RemoteRow(source, f"ivo://{host}/obs?{obs_id}", obs_id, facility, instrument, ra, dec, url, preview)
            )
    return rows


def _answer_row(row: RemoteRow, t: int) -> list[Any]:
    half = 0.04
    region = (
        f"Polygon ICRS {row.ra - half:.6f} {row.dec - half:.6f} {row.ra + half:.6f} {row.dec - half:.6f} "
        f"{row.ra + half:.6f} {row.dec + half:.6f} {row.ra - half:.6f} {row.dec + half:.6f}"
    )
    return [
        row.did,
        row.obs_id,
        f"{row.facility}/{row.instrument}",
        "image",
        row.facility,
        row.instrument,
        row.ra,
        row.dec,
        2 * half,
        region,
        55000.0 + t,
        55000.02 + t,
        4.0e-7 + (t % 3) * 1.0e-7,
        6.0e-7 + (t % 3) * 1.0e-7,
        row.access_url,
        DATALINK_FORMAT if row.source is DATALINK_SOURCE else "image/fits",
        row.preview,
    ]


def _store(conn: psycopg.Connection, source: Source, rows: Sequence[RemoteRow]) -> None:
    """As a crawl stores one service's answer: converted, then one transaction per sky cell."""
    answer = [_answer_row(row, t) for t, row in enumerate(rows)]
    converted = RowConverter(FIELDS, source, datetime.now(UTC)).convert(answer)
    assert not converted.skipped, converted.examples
    by_cell: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for staged, h in zip(converted.rows, converted.healpix, strict=True):
        assert h is not None
        by_cell[h >> (2 * MAX_ORDER)].append(staged)  # the base cell (order 0) it lies in
    refresh = datetime.now(UTC) + timedelta(days=30)
    for base, staged_rows in sorted(by_cell.items()):
        store.discard_staged(conn)
        store.stage(conn, staged_rows)
        store.replace_cell(conn, source.ivoid, Cell(0, base), len(staged_rows), 1, Counter(), {}, refresh)


def forget(url: str) -> None:
    with psycopg.connect(url) as conn, conn.transaction():
        ivoids = [s.ivoid for s in SOURCES]
        conn.execute("DELETE FROM vo.remote_obscore WHERE source_ivoid = ANY(%s)", (ivoids,))
        conn.execute("DELETE FROM vo.remote_coverage WHERE source_ivoid = ANY(%s)", (ivoids,))
        conn.execute("DELETE FROM crawl.cell WHERE service_ivoid = ANY(%s)", (ivoids,))


@contextmanager
def remote_datasets(url: str) -> Iterator[list[RemoteRow]]:
    """The made-up datasets in the cache of the archive at ``url``; gone again afterwards."""
    rows = remote_rows()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            store.prepare(conn)
            for source in SOURCES:
                store_rows = [r for r in rows if r.source is source]
                _store(conn, source, store_rows)
        yield rows
    finally:
        forget(url)
