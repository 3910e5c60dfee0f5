"""The crawl, end to end, against the two loopback sources: what is stored equals what the sources
hold, cell by cell; the second run fetches nothing; changes at a source touch only their cells; a
killed crawl resumes with no duplicates; the awkward source arrives whole."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg

from tests.crawl.conftest import (
    AWKWARD_TABLE,
    AWKWARD_TAP,
    MALFORMED_DID,
    MIN_GAP,
    SOURCE_TAP,
    FirstCrawl,
    Sources,
    crawl,
    crawl_env,
    run_dalserver,
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


def test_every_cell_holds_what_the_source_holds_there(
    archive: Archive, sources: Sources, first_crawl: FirstCrawl
) -> None:
    assert "failed" not in first_crawl.output, first_crawl.output
    expected = source_counts(sources)
    assert sum(expected.values()) > 12000
    assert cached_counts(archive, SOURCE_TAP) == expected
    awkward = source_counts(sources, AWKWARD_TABLE, exclude=(MALFORMED_DID,))
    assert cached_counts(archive, AWKWARD_TAP) == awkward
    with psycopg.connect(archive.url) as conn:
        stored: dict[str, int] = dict(
            conn.execute("SELECT ivoid, row_count FROM crawl.service WHERE row_count > 0").fetchall()
        )
        cells: dict[str, int] = dict(
            conn.execute("SELECT service_ivoid, sum(stored) FROM crawl.cell GROUP BY 1").fetchall()
        )
    assert stored == {SOURCE_TAP: sum(expected.values()), AWKWARD_TAP: sum(awkward.values())}
    assert cells == stored


def test_the_awkward_source_arrives_whole_despite_overflows_503s_and_a_stall(
    archive: Archive, sources: Sources, first_crawl: FirstCrawl
) -> None:
    seen = [e for e in sources.crawler_entries(first_crawl.started) if e["start"] < first_crawl.finished]
    awkward = [e for e in seen if e["source"] == "awkward"]
    assert any(e.get("overflow") for e in awkward), "no query hit the hard MAXREC"
    assert any(e["status"] == 503 for e in awkward)
    assert [e.get("kind") for e in awkward].count("stalled") == 1
    assert not any("ivo_healpix_index" in (e["query"] or "") for e in awkward), "its capabilities lack the UDF"
    assert not any(e["path"].startswith("/sia1") for e in sources.entries()), "the SIA 1.0 twin was crawled"
    assert cached_counts(archive, AWKWARD_TAP) == source_counts(sources, AWKWARD_TABLE, exclude=(MALFORMED_DID,))
    with psycopg.connect(archive.url) as conn:
        skipped = conn.execute(
            "SELECT s.key, sum(s.value::bigint) FROM crawl.cell c, jsonb_each_text(c.skipped) s "
            "WHERE c.service_ivoid = %s GROUP BY 1",
            (AWKWARD_TAP,),
        ).fetchall()
        problems: dict[str, int] = dict(
            conn.execute("SELECT reason, count FROM crawl.problem WHERE service_ivoid = %s", (AWKWARD_TAP,)).fetchall()
        )
        row = conn.execute(
            "SELECT count(*) FROM vo.remote_obscore WHERE obs_publisher_did = %s", (MALFORMED_DID,)
        ).fetchone()
        s_xel1 = conn.execute(
            "SELECT count(*) FROM vo.remote_obscore WHERE source_ivoid = %s AND s_xel1 IS NOT NULL", (AWKWARD_TAP,)
        ).fetchone()
    assert skipped == [("bad s_region", 1)], "exactly the malformed row is reported"
    assert row == (0,) and s_xel1 == (0,), "ObsCore 1.0 rows have no s_xel1"
    assert problems.get("timeout") == 1 and problems.get("http 503", 0) >= 1 and problems["skipped: bad s_region"] == 1
    status = crawl(archive, "status").stdout
    assert "bad s_region" in status and AWKWARD_TAP in status


def test_a_second_run_of_unchanged_services_asks_only_for_the_census(
    archive: Archive, sources: Sources, second_crawl: FirstCrawl
) -> None:
    seen = [e for e in sources.crawler_entries(second_crawl.started) if e["start"] < second_crawl.finished]
    plain = [e for e in seen if e["source"] == "plain"]
    awkward = [e for e in seen if e["source"] == "awkward"]
    assert len(plain) == 1 and "GROUP BY ivo_healpix_index" in plain[0]["query"], plain
    assert awkward and all(e["query"].startswith("SELECT COUNT(*)") for e in awkward), [e["query"] for e in awkward]
    with psycopg.connect(archive.url) as conn:
        runs = conn.execute(
            "SELECT service_ivoid, outcome, cells_fetched, rows_written, rows_removed FROM crawl.run "
            "WHERE started >= to_timestamp(%s) ORDER BY 1",
            (second_crawl.started,),
        ).fetchall()
    assert runs == [(AWKWARD_TAP, "ok", 0, 0, 0), (SOURCE_TAP, "ok", 0, 0, 0)]


def test_the_crawler_is_polite_by_the_sources_access_logs(sources: Sources, second_crawl: FirstCrawl) -> None:
    seen = sources.crawler_entries()
    assert len(seen) > 50
    for before, after in zip(seen, seen[1:], strict=False):
        # one request in flight per host (both sources are 127.0.0.1), and the gap between them
        assert after["start"] >= before["end"] + MIN_GAP - 0.01, (before, after)
        if before["status"] == 503:  # Retry-After: 1
            assert after["start"] >= before["end"] + 1.0 - 0.01, (before, after)
    for entry in seen:
        assert re.fullmatch(r"dalserver/\S+ \(IVOA-copy https://operator\.example/crawler\)", entry["ua"]), entry["ua"]


def _cells_of(archive: Archive, ivoid: str) -> list[tuple[int, int, float]]:
    with psycopg.connect(archive.url) as conn:
        return conn.execute(
            "SELECT hpx_order, hpx_index, EXTRACT(EPOCH FROM fetched) FROM crawl.cell WHERE service_ivoid = %s",
            (ivoid,),
        ).fetchall()


def _unit_of(cells: list[tuple[int, int, float]], ra: float, dec: float) -> tuple[int, int]:
    import numpy as np

    from archive_io.sky_cells import order29

    h = int(order29(np.array([ra]), np.array([dec]))[0])
    (unit,) = [(o, i) for o, i, _ in cells if o >= 0 and h >> (2 * (29 - o)) == i]
    return unit


def test_an_ingest_and_a_drop_at_the_source_touch_only_their_cells(
    archive: Archive, sources: Sources, second_crawl: FirstCrawl
) -> None:
    images = Path(sources.env["DALSERVER_HOME"]) / "archive" / "more"
    images.mkdir(exist_ok=True)
    sample = sorted((archive.settings.archive_root / "suprimecam").glob("*.fits"))
    for path in sample[-3:]:
        shutil.copy(path, images / path.name)
    run_dalserver(sources.env, "ingest", "images", "--quiet", str(images))
    with psycopg.connect(sources.url) as conn:
        dropped, ra, dec = conn.execute(
            "DELETE FROM ivoa.obscore WHERE obs_publisher_did = (SELECT min(obs_publisher_did) FROM ivoa.obscore "
            "WHERE s_dec < -45 AND obs_publisher_did LIKE '%%synthetic%%') RETURNING obs_publisher_did, s_ra, s_dec"
        ).fetchone()
        new = [
            (did, r, d)
            for did, r, d in conn.execute(
                "SELECT obs_publisher_did, s_ra, s_dec FROM ivoa.obscore WHERE access_url LIKE '%%/more/%%'"
            ).fetchall()
        ]
    assert len(new) == 3
    before = _cells_of(archive, SOURCE_TAP)
    expected = {_unit_of(before, ra, dec)} | {_unit_of(before, r, d) for _, r, d in new}
    started = time.time()
    crawl(archive, "run", "--once", "--quiet", "--service", SOURCE_TAP)
    requests = [e for e in sources.crawler_entries(started) if e["source"] == "plain"]
    data = [e for e in requests if "GROUP BY" not in e["query"]]
    assert len(requests) == 1 + len(data) and len(data) == len(expected)
    fetched = {(o, i) for o, i, when in _cells_of(archive, SOURCE_TAP) if when >= started}
    assert fetched == expected
    assert cached_counts(archive, SOURCE_TAP) == source_counts(sources)
    with psycopg.connect(archive.url) as conn:
        present = {
            did
            for (did,) in conn.execute(
                "SELECT obs_publisher_did FROM vo.remote_obscore WHERE obs_publisher_did = ANY(%s)",
                ([dropped, *(d for d, _, _ in new)],),
            ).fetchall()
        }
    assert present == {d for d, _, _ in new}


def test_a_crawl_killed_midway_completes_on_the_next_run_without_duplicates(
    archive: Archive, sources: Sources, second_crawl: FirstCrawl
) -> None:
    with psycopg.connect(archive.url, autocommit=True) as conn:
        # half of the cells are due again; their rows stay: the rerun must replace them, not add to them
        conn.execute("DELETE FROM crawl.cell WHERE service_ivoid = %s AND hpx_index %% 2 = 0", (SOURCE_TAP,))
        kept = conn.execute("SELECT count(*) FROM crawl.cell WHERE service_ivoid = %s", (SOURCE_TAP,)).fetchone()
    assert kept is not None
    killed = subprocess.Popen(
        [sys.executable, "-m", "dalserver", "crawl", "run", "--once", "--quiet", "--service", SOURCE_TAP],
        env=crawl_env(archive),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def some_cells_done() -> bool:
        with psycopg.connect(archive.url) as conn:
            done = conn.execute("SELECT count(*) FROM crawl.cell WHERE service_ivoid = %s", (SOURCE_TAP,)).fetchone()
        return done is not None and done[0] >= kept[0] + 3

    assert eventually(some_cells_done, 60, 0.02)
    killed.send_signal(signal.SIGKILL)
    assert killed.wait(timeout=30) == -signal.SIGKILL
    out = crawl(archive, "run", "--once", "--quiet", "--service", SOURCE_TAP).stdout
    assert f"{SOURCE_TAP}: ok" in out, out
    assert cached_counts(archive, SOURCE_TAP) == source_counts(sources)
    with psycopg.connect(archive.url) as conn:
        rows, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT obs_publisher_did) FROM vo.remote_obscore WHERE source_ivoid = %s",
            (SOURCE_TAP,),
        ).fetchone()
        outcomes = [
            o
            for (o,) in conn.execute(
                "SELECT outcome FROM crawl.run WHERE service_ivoid = %s ORDER BY started DESC LIMIT 2", (SOURCE_TAP,)
            ).fetchall()
        ]
    assert rows == distinct == sum(source_counts(sources).values())
    assert outcomes == ["ok", "interrupted"]
