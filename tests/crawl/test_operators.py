"""What operators do with the crawler: list the services and their state, add a service by hand
(here an SIA 2.0 service, crawled end to end), exclude one with crawl.yaml (its rows leave the
cache). These tests run after the others of the package: the exclusion removes a source."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from tests.crawl.conftest import (
    AWKWARD_SIA1,
    AWKWARD_TAP,
    SOURCE_TAP,
    FirstCrawl,
    Sources,
    crawl,
    crawl_env,
)
from tests.crawl.test_crawl import cached_counts
from tests.support.archive import Archive
from tests.support.waiting import eventually

SOURCE_SIA = "ivo://source.demo/sia"


def _line(listing: str, ivoid: str) -> str:
    (line,) = [entry for entry in listing.splitlines() if entry.startswith(ivoid + " ")]
    return line


def test_services_lists_each_service_with_its_state_rows_and_why(archive: Archive, first_crawl: FirstCrawl) -> None:
    listing = crawl(archive, "services").stdout
    assert listing.splitlines()[0].split()[:4] == ["IVOID", "KIND", "STATE", "LAST"]
    source = _line(listing, SOURCE_TAP)
    assert " obscore-tap " in source and " active " in source
    with psycopg.connect(archive.url) as conn:
        rows = conn.execute("SELECT row_count FROM crawl.service WHERE ivoid = %s", (SOURCE_TAP,)).fetchone()[0]
    assert f" {rows} " in source
    twin = _line(listing, AWKWARD_SIA1)
    assert " excluded " in twin and f"serves the same data as {AWKWARD_TAP}" in twin
    sia = _line(listing, SOURCE_SIA)  # a dalserver's SIA serves the collections its TAP serves
    assert " sia2 " in sia and f"serves the same data as {SOURCE_TAP}" in sia
    assert "ivo://dalserver.demo/" not in listing, "this archive's own services are never crawled"


def test_add_takes_only_services_it_can_describe(archive: Archive, sources: Sources, first_crawl: FirstCrawl) -> None:
    known = crawl(archive, "add", f"{sources.plain}/tap/").stdout
    assert f"in the registry already, as {SOURCE_TAP} (and" in known
    refused = subprocess.run(
        [sys.executable, "-m", "dalserver", "crawl", "add", f"{sources.plain}/nothing/here"],
        env=crawl_env(archive),
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1 and "has no VOSI capabilities" in refused.stderr


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_run_every_keeps_crawling_with_a_progress_bar_until_interrupted(
    archive: Archive, first_crawl: FirstCrawl
) -> None:
    started = time.time()
    running = subprocess.Popen(
        [sys.executable, "-m", "dalserver", "crawl", "run", "--every", "1h"],
        env={**crawl_env(archive), "PYTHONFAULTHANDLER": "1"},  # SIGABRT prints every thread's stack
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as at a terminal: a suite started in the background (`... &`) ignores SIGINT, and
        # a child inherits that (Python then installs no KeyboardInterrupt for it).
        preexec_fn=_interruptible,
    )

    def pass_done() -> bool:
        with psycopg.connect(archive.url) as conn:
            return conn.execute(
                "SELECT count(*) FROM crawl.run WHERE started >= to_timestamp(%s) AND finished IS NOT NULL "
                "AND service_ivoid = ANY(%s)",
                (started, [SOURCE_TAP, AWKWARD_TAP]),
            ).fetchone() == (2,)

    try:
        assert eventually(pass_done, 120, 0.2)
        time.sleep(0.5)
    finally:
        running.send_signal(signal.SIGINT)
        try:
            out, err = running.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            running.send_signal(signal.SIGABRT)
            out, err = running.communicate(timeout=30)
            raise AssertionError(f"not stopped within 60 s of Ctrl-C; where it was:\n{err[-6000:]}\n{out}") from None
    assert running.returncode == 130
    assert "crawling every 3600 s" in out and f"{SOURCE_TAP}: ok" in out and f"{AWKWARD_TAP}: ok" in out
    assert "cell" in err  # the progress bars (tqdm, on stderr)
    with psycopg.connect(archive.url) as conn:
        due = conn.execute(
            "SELECT min(EXTRACT(EPOCH FROM next_due - now())) FROM crawl.service WHERE ivoid = ANY(%s)",
            ([SOURCE_TAP, AWKWARD_TAP],),
        ).fetchone()[0]
    assert 3000 < float(due) <= 3600, "the next census is due an hour later"


def test_services_the_operator_excludes_leave_the_cache_and_sia_serves_their_images_instead(
    archive: Archive, sources: Sources, first_crawl: FirstCrawl
) -> None:
    lists = Path(archive.settings.home) / "crawl.yaml"
    lists.write_text(f"exclude:\n  - {SOURCE_TAP}\n  - ivo://awkward.demo/*   # too slow for us\n")
    try:
        listing = crawl(archive, "services").stdout
        assert f"excluded by the operator (crawl.yaml: {SOURCE_TAP})" in _line(listing, SOURCE_TAP)
        assert "excluded by the operator (crawl.yaml: ivo://awkward.demo/*)" in _line(listing, AWKWARD_TAP)
        # Nothing crawled serves the source's images now: its SIA 2.0 service does, cell by cell.
        assert " active " in _line(listing, SOURCE_SIA)
        assert cached_counts(archive, AWKWARD_TAP), "listing the services removes nothing"
        out = crawl(archive, "run", "--once", "--quiet").stdout
        assert f"{SOURCE_SIA}: ok" in out and f"{AWKWARD_TAP}: ok" not in out and f"{SOURCE_TAP}: ok" not in out, out
        assert f"{AWKWARD_TAP}: no longer crawled; its " in out
        assert not cached_counts(archive, AWKWARD_TAP) and not cached_counts(archive, SOURCE_TAP)
        with psycopg.connect(archive.url) as conn:
            left = conn.execute("SELECT count(*) FROM vo.remote_coverage WHERE source_ivoid <> %s", (SOURCE_SIA,))
            assert left.fetchone() == (0,)
        with psycopg.connect(sources.url) as conn:  # SIA finds images and cubes by their footprint
            rows = conn.execute(
                "SELECT healpix_nest(6, spoint(radians(s_ra), radians(s_dec))), count(*) FROM ivoa.obscore "
                "WHERE dataproduct_type IN ('image', 'cube') AND s_region IS NOT NULL GROUP BY 1"
            ).fetchall()
        assert cached_counts(archive, SOURCE_SIA) == dict(rows)
        lists.write_text(f"exclude: {SOURCE_TAP}\n")
        refused = subprocess.run(
            [sys.executable, "-m", "dalserver", "crawl", "services"],
            env=crawl_env(archive),
            capture_output=True,
            text=True,
        )
        assert refused.returncode == 2 and "'exclude' must be a list" in refused.stderr
    finally:
        lists.unlink()
