"""The crawl, end to end, against the two loopback sources: what is stored equals what the sources
hold, cell by cell; the second run fetches nothing; changes at a source touch only their cells; a
killed crawl resumes with no duplicates; the awkward source arrives whole."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter

import psycopg

from tests.crawl.conftest import (
    AWKWARD_SIA1,
    AWKWARD_TABLE,
    AWKWARD_TAP,
    MALFORMED_DID,
    SOURCE_TAP,
    FirstCrawl,
    Sources,
    crawl,
    crawl_env,
)
from tests.support.archive import Archive
from tests.support.waiting import eventually

CELL_ORDER = 6


def source_counts(sources: Sources, table: str = "ivoa.obscore", exclude: tuple[str, ...] = ()) -> Counter[int | None]:
    """Rows per order-6 cell at the source (None: without a position), by pgsphere there."""
    with psycopg.connect(sources.url) as conn:
        rows = conn.execute(
            f"SELECT CASE WHEN s_ra IS NULL OR s_dec IS NULL THEN NULL ELSE "
            f"healpix_nest({CELL_ORDER}, spoint(radians(s_ra), radians(s_dec))) END, count(*) FROM {table} "
            "WHERE NOT obs_publisher_did = ANY(%s) GROUP BY 1",
            (list(exclude),),
        ).fetchall()
    return Counter({cell: n for cell, n in rows})


def cached_counts(archive: Archive, ivoid: str) -> Counter[int | None]:
    with psycopg.connect(archive.url) as conn:
        rows = conn.execute(
            f"SELECT healpix29 >> {2 * (29 - CELL_ORDER)}, count(*) FROM vo.remote_obscore "
            "WHERE source_ivoid = %s GROUP BY 1",
            (ivoid,),
        ).fetchall()
    return Counter({cell: n for cell, n in rows})


def test_every_cell_holds_what_the_source_holds_there(archive: Archive, sources: Sources, first_crawl: FirstCrawl) -> None:
    assert "failed" not in first_crawl.output, first_crawl.output
    expected = source_counts(sources)
    assert sum(expected.values()) > 12000
    assert cached_counts(archive, SOURCE_TAP) == expected
    awkward = source_counts(sources, AWKWARD_TABLE, exclude=(MALFORMED_DID,))
    assert cached_counts(archive, AWKWARD_TAP) == awkward
    with psycopg.connect(archive.url) as conn:
        stored = dict(conn.execute("SELECT ivoid, row_count FROM crawl.service WHERE row_count > 0").fetchall())
        cells = dict(
            conn.execute("SELECT service_ivoid, sum(stored) FROM crawl.cell GROUP BY 1").fetchall()
        )
    assert stored == {SOURCE_TAP: sum(expected.values()), AWKWARD_TAP: sum(awkward.values())}
    assert cells == stored
