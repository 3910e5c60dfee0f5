"""The VO crawler and its cache at scale.

Usage: .venv/bin/python bench/crawl.py [--source-rows 200000] [--cache-rows 5000000] [--queries 200]

1. Crawl throughput. A second dalserver (a database of its own on the bench cluster, N synthetic
   ObsCore rows over the sky) is started on loopback, harvested into the bench archive's RegTAP
   and crawled with the real ``dalserver crawl run --once`` (census by ivo_healpix_index, cells
   fetched as VOTables over HTTP, parsed, converted, staged, checked by pgsphere, stored one cell
   per transaction). The politeness gap is 0 here, to measure the engine: with the default 2 s
   between requests, a crawl costs 2 s more per request. The floor: a plain COPY of the same rows
   from the source database into a table like vo.remote_obscore with the same indexes (COPY ... TO
   STDOUT piped into COPY ... FROM STDIN), in the same run. Rows/s of both and their ratio.
2. Census of an unchanged service: the same crawl again at once; seconds and requests (from
   crawl.run), and the rows it wrote (none).
3. A cache of M remote rows, generated straight into vo.remote_obscore by SQL (indexes dropped,
   rows inserted, each index then rebuilt and timed), and vo.remote_coverage counted from them.
   Sizes of the table and of each index. Then a real server, and for each kind of query p50/p95
   through HTTP next to the same SQL on one psycopg connection (the floor), as a ratio: a 0.5
   degree cone, a 1 degree polygon (INTERSECTS s_region), the rows of a 2 degree cone sorted by
   t_min (TOP 100) and the whole table's TOP 100 by a column, through /tap/sync; the federated SIA
   (/federated/sia/query, POS=CIRCLE 0.5 degree) from the cache; and the portal's counts table for
   a 1 degree region (per facility and instrument, over vo.remote_coverage's cells), with the cells
   chosen by MOC(6, CIRCLE) as documented, and by a circle 1.5 degrees wide.

Everything is left as found: the cache emptied, the crawler's state and the source database
dropped. The load average is printed at the start and the end (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from common import bench_database, load_catalog, paired_latencies, percentiles, server_env, start_server

from adql import to_postgres
from dalserver.db.bootstrap import bootstrap
from dalserver.db.location import database_url
from dalserver.federated.query import cache_table, federated_sql
from dalserver.settings import Settings

SOURCE_DB = "dalserver_bench_crawl_source"
SOURCE_AUTHORITY = "crawlsource.bench"
SOURCE_FILL = """
INSERT INTO ivoa.obscore (dataproduct_type, calib_level, obs_collection, obs_id, obs_publisher_did, access_url,
  access_format, access_estsize, target_name, s_ra, s_dec, s_fov, s_region, s_resolution, s_xel1, s_xel2, t_min,
  t_max, t_exptime, em_min, em_max, o_ucd, facility_name, instrument_name, obs_release_date, data_rights)
SELECT 'image', 2, 'Bench/' || f, 'obs-' || n, 'ivo://crawlsource.bench/bench?obs-' || n,
  'http://crawlsource.bench/files/obs-' || n || '.fits', 'image/fits', 1000 + n, 'field-' || mod(n, 97),
  ra, dec, 0.1,
  CAST(format('{(%%sd,%%sd),(%%sd,%%sd),(%%sd,%%sd),(%%sd,%%sd)}', ra - w, dec - 0.05, ra + w, dec - 0.05,
    ra + w, dec + 0.05, ra - w, dec + 0.05) AS spoly),
  0.8, 2048, 2048, 50000 + n * 0.001, 50000 + n * 0.001 + 0.01, 600, 4e-7 + mod(n, 5) * 1e-7,
  5e-7 + mod(n, 5) * 1e-7, 'phot.count', f, f || '-cam', TIMESTAMPTZ '2020-01-01', 'public'
FROM (SELECT n, 1 + random() * 358 AS ra, degrees(asin(2 * random() - 1)) * 0.97 AS dec,
        (ARRAY['Keck', 'VLT', 'HST', 'Subaru'])[1 + mod(n, 4)] AS f
      FROM generate_series(1, %(rows)s) AS n) AS p, LATERAL (SELECT 0.05 / cos(radians(dec)) AS w) AS x
"""
# The facilities of the talk's "data collected by other facilities" table, and some more: one
# source each, more rows for the first ones (a cache is dominated by a few large archives).
FACILITIES = [
    ("HST", "WFC3", 3.0e-7, 1.7e-6),
    ("Subaru", "Suprime-Cam", 4.0e-7, 1.0e-6),
    ("Chandra", "ACIS", 1.2e-10, 1.2e-9),
    ("GALEX", "FUV", 1.3e-7, 1.8e-7),
    ("AKARI", "IRC", 2.0e-6, 2.6e-5),
    ("ALMA", "Band 6", 1.1e-3, 1.4e-3),
    ("Spitzer", "IRAC", 3.2e-6, 9.0e-6),
    ("XMM-Newton", "EPIC", 1.0e-10, 2.5e-9),
    ("VLT", "MUSE", 4.6e-7, 9.3e-7),
    ("Keck", "HIRES", 3.0e-7, 1.0e-6),
    ("Subaru", "HSC", 4.0e-7, 1.0e-6),
    ("WISE", "WISE", 3.0e-6, 2.5e-5),
    ("Pan-STARRS1", "GPC1", 4.0e-7, 1.0e-6),
    ("Gemini-North", "GMOS-N", 3.6e-7, 1.1e-6),
    ("CFHT", "MegaCam", 3.5e-7, 1.0e-6),
    ("Herschel", "PACS", 5.5e-5, 2.1e-4),
    ("JWST", "NIRCam", 6.0e-7, 5.0e-6),
    ("VISTA", "VIRCAM", 8.0e-7, 2.4e-6),
    ("Swift", "UVOT", 1.7e-7, 6.5e-7),
    ("SDSS", "Imaging", 3.0e-7, 1.1e-6),
]
CACHE_FILL = """
INSERT INTO vo.remote_obscore (dataproduct_type, calib_level, obs_collection, obs_id, obs_publisher_did, access_url,
  access_format, access_estsize, target_name, s_ra, s_dec, s_fov, s_region, s_resolution, s_xel1, s_xel2,
  t_min, t_max, t_exptime, em_min, em_max, o_ucd, facility_name, instrument_name, source_ivoid, source_url,
  crawled_at, healpix29)
SELECT CASE WHEN mod(n, 10) = 0 THEN 'cube' ELSE 'image' END, 1 + mod(n, 3), f.facility || '/' || f.instrument,
  'obs-' || n, 'ivo://' || f.authority || '/obs?' || n, 'https://' || f.authority || '/data/' || n || '.fits',
  'image/fits', 10000 + mod(n, 50000), 'target ' || mod(n, 1009), ra, dec, 2 * h,
  CAST(format('{(%%sd,%%sd),(%%sd,%%sd),(%%sd,%%sd),(%%sd,%%sd)}', ra - w, dec - h, ra + w, dec - h, ra + w, dec + h,
    ra - w, dec + h) AS spoly),
  0.1 + mod(n, 20) * 0.1, 4096, 4096, t, t + 0.02, 600 + mod(n, 3000), f.em_min, f.em_max, 'phot.count',
  f.facility, f.instrument, 'ivo://' || f.authority || '/tap', 'https://' || f.authority || '/tap',
  timestamp '2026-12-01 00:00:00', healpix_nest(29, spoint(radians(ra), radians(dec)))
FROM (SELECT n, ra, dec, h, h / greatest(cos(radians(dec)), 0.05) AS w, 45000 + random() * 16000 AS t,
        1 + least(19, floor(20 * power(random(), 2)))::int AS k
      FROM (SELECT n, random() * 360 AS ra, degrees(asin(2 * random() - 1)) * 0.995 AS dec, 0.05 + random() * 0.1 AS h
            FROM generate_series(CAST(%(first)s AS bigint), CAST(%(last)s AS bigint)) AS n) AS p) AS g
JOIN bench_facilities AS f ON f.k = g.k
"""
COVERAGE_FILL = """
INSERT INTO vo.remote_coverage (healpix_order, healpix_index, cell_ra, cell_dec, source_ivoid, facility_name,
  instrument_name, dataproduct_type, dataset_count, em_min, em_max, t_min, t_max, updated)
SELECT 6, c, degrees(long(centre)), degrees(lat(centre)), source_ivoid, facility_name, instrument_name,
  dataproduct_type, n, em_min, em_max, t_min, t_max, timestamp '2026-12-01 00:00:00'
FROM (SELECT healpix29 >> 46 AS c, source_ivoid, facility_name, instrument_name, dataproduct_type, count(*) AS n,
        min(em_min) AS em_min, max(em_max) AS em_max, min(t_min) AS t_min, max(t_max) AS t_max
      FROM vo.remote_obscore WHERE healpix29 IS NOT NULL GROUP BY 1, 2, 3, 4, 5) AS g,
  LATERAL (SELECT center_of_healpix_nest(6, c) AS centre) AS x
"""
COPY_COLUMNS = (
    "dataproduct_type, calib_level, obs_collection, obs_id, obs_publisher_did, access_url, access_format, "
    "access_estsize, target_name, s_ra, s_dec, s_fov, s_region, s_resolution, s_xel1, s_xel2, t_min, t_max, "
    "t_exptime, em_min, em_max, o_ucd, facility_name, instrument_name"
)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def _dalserver(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "dalserver", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"dalserver {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def _forget_crawl(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("vo.remote_obscore", "vo.remote_coverage"):
            conn.execute(f"TRUNCATE {table}")  # type: ignore[arg-type]
        for table in ("crawl.cell", "crawl.problem", "crawl.run", "crawl.service"):
            conn.execute(f"DELETE FROM {table}")  # type: ignore[arg-type]
        conn.execute("DROP TABLE IF EXISTS public.bench_crawl_copy")


# --- 1 and 2: crawling a loopback source ----------------------------------------------------------
def _source(rows: int) -> str:
    url = database_url(Settings(database_name=SOURCE_DB), create=True)
    bootstrap(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM ivoa.obscore")
        conn.execute(SOURCE_FILL, {"rows": rows})  # type: ignore[arg-type]
        conn.execute("ANALYZE ivoa.obscore")
    return url


def _copy_floor(source_url: str, url: str) -> tuple[int, float]:
    """The same rows, COPY'd from the source database into a table like vo.remote_obscore, indexes
    and all: rows and seconds."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS public.bench_crawl_copy")
        conn.execute("CREATE TABLE public.bench_crawl_copy (LIKE vo.remote_obscore INCLUDING ALL)")
    select = (
        f"SELECT {COPY_COLUMNS}, 'ivo://{SOURCE_AUTHORITY}/tap', 'http://source/tap', now(), "
        "healpix_nest(29, spoint(radians(s_ra), radians(s_dec))) FROM ivoa.obscore"
    )
    target = f"{COPY_COLUMNS}, source_ivoid, source_url, crawled_at, healpix29"
    started = time.perf_counter()
    with psycopg.connect(source_url) as src, psycopg.connect(url) as dst:
        with (
            src.cursor().copy(f"COPY ({select}) TO STDOUT") as out,  # type: ignore[arg-type]
            dst.cursor().copy(f"COPY public.bench_crawl_copy ({target}) FROM STDIN") as into,  # type: ignore[arg-type]
        ):
            for chunk in out:
                into.write(chunk)
        dst.commit()
    seconds = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT count(*) FROM public.bench_crawl_copy").fetchone()[0]  # type: ignore[index]
        conn.execute("DROP TABLE public.bench_crawl_copy")
    return int(rows), seconds


def _last_run(url: str) -> tuple[int, int, int, float]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT requests, census_requests, rows_written, extract(epoch FROM finished - started) FROM crawl.run "
            "ORDER BY started DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2]), float(row[3])


def crawl_figures(url: str, rows: int, home: Path) -> None:
    print(f"\n1. crawl throughput: a loopback dalserver with {rows:,} ObsCore rows, crawled once")
    source_url = _source(rows)
    source_env, source_base = server_env(
        source_url,
        DALSERVER_HOME=str(home / "source"),
        DALSERVER_IVOID_AUTHORITY=SOURCE_AUTHORITY,
        DALSERVER_TITLE="Bench source",
    )
    env = {
        **os.environ,
        "DALSERVER_DATABASE_URL": url,
        "DALSERVER_HOME": str(home / "bench"),
        "DALSERVER_CRAWL_MIN_GAP_SECONDS": "0",
        "DALSERVER_CRAWL_INTERVAL_SECONDS": "0",
        "DALSERVER_CRAWL_CONTACT_URL": "https://bench.invalid/crawler",
    }
    (home / "source").mkdir()
    (home / "bench").mkdir()
    _forget_crawl(url)
    source = start_server(source_env, source_base)
    try:
        _dalserver(env, "registry", "harvest", f"{source_base}/oai", "--quiet")
        started = time.perf_counter()
        _dalserver(env, "crawl", "run", "--once", "--quiet")
        took = time.perf_counter() - started
        requests, census, written, in_run = _last_run(url)
        copied, copy_seconds = _copy_floor(source_url, url)
        crawl_rate, copy_rate = written / took, copied / copy_seconds
        print(
            f"  crawl run --once     {written:>10,} rows  {took:7.1f} s  {crawl_rate:>9,.0f} rows/s  ({requests} requests)"
        )
        print(f"  plain COPY (floor)   {copied:>10,} rows  {copy_seconds:7.1f} s  {copy_rate:>9,.0f} rows/s")
        print(
            f"  ratio crawl / COPY   {crawl_rate / copy_rate:.3f}  (the command's wall time; {in_run:.1f} s in crawl.run)"
        )
        print("\n2. census of the unchanged service: the same crawl again")
        started = time.perf_counter()
        _dalserver(env, "crawl", "run", "--once", "--quiet")
        took = time.perf_counter() - started
        requests, census, written, in_run = _last_run(url)
        print(
            f"  {took:.2f} s for the command ({in_run:.2f} s in crawl.run), {requests} requests "
            f"({census} census), {written} rows written"
        )
    finally:
        source.terminate()
        source.wait(timeout=30)
        _forget_crawl(url)
        with psycopg.connect(url.replace("/dalserver_bench?", "/postgres?"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{SOURCE_DB}" WITH (FORCE)')  # type: ignore[arg-type]


# --- 3: a large cache ---------------------------------------------------------------------------
def _indexes(conn: psycopg.Connection) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(constraint name, definition) of the unique constraints and (name, CREATE INDEX) of the
    other indexes of vo.remote_obscore."""
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'vo.remote_obscore'::regclass AND contype IN ('u', 'p')"
    ).fetchall()
    owned = {name for name, _ in constraints}
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'vo' AND tablename = 'remote_obscore'"
    ).fetchall()
    return list(constraints), [(n, d) for n, d in indexes if n not in owned]


def _mb(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MB"


def _restore(url: str, constraints: list[tuple[str, str]], indexes: list[tuple[str, str]]) -> None:
    """The indexes the table had, after a fill that did not finish (on the emptied table: quick)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE vo.remote_obscore, vo.remote_coverage")
        for _, definition in indexes:
            conn.execute(definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))  # type: ignore[arg-type]
        present = {
            name
            for (name,) in conn.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'vo.remote_obscore'::regclass"
            ).fetchall()
        }
        for name, definition in constraints:
            if name not in present:
                conn.execute(f"ALTER TABLE vo.remote_obscore ADD CONSTRAINT {name} {definition}")  # type: ignore[arg-type]


def fill_cache(url: str, rows: int) -> None:
    print(f"\n3. a cache of {rows:,} remote rows generated into vo.remote_obscore")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE vo.remote_obscore, vo.remote_coverage")
        constraints, indexes = _indexes(conn)
    try:
        _fill(url, rows, constraints, indexes)
    except BaseException:
        _restore(url, constraints, indexes)
        raise


def _fill(url: str, rows: int, constraints: list[tuple[str, str]], indexes: list[tuple[str, str]]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for name, _ in constraints:
            conn.execute(f"ALTER TABLE vo.remote_obscore DROP CONSTRAINT {name}")  # type: ignore[arg-type]
        for name, _ in indexes:
            conn.execute(f"DROP INDEX vo.{name}")  # type: ignore[arg-type]
        conn.execute("DROP TABLE IF EXISTS bench_facilities")
        conn.execute(
            "CREATE TEMP TABLE bench_facilities (k int, facility text, instrument text, authority text, "
            "em_min double precision, em_max double precision)"
        )
        for k, (facility, instrument, low, high) in enumerate(FACILITIES, start=1):
            authority = f"{facility}-{instrument}".lower().replace(" ", "-") + ".bench.invalid"
            conn.execute(
                "INSERT INTO bench_facilities VALUES (%s, %s, %s, %s, %s, %s)",
                (k, facility, instrument, authority, low, high),
            )
        started = time.perf_counter()
        step = 500_000
        for first in range(1, rows + 1, step):
            conn.execute(CACHE_FILL, {"first": first, "last": min(rows, first + step - 1)})  # type: ignore[arg-type]
            print(f"  {min(rows, first + step - 1):,} rows in {time.perf_counter() - started:.0f} s", flush=True)
        print(f"  rows inserted without indexes: {time.perf_counter() - started:.0f} s")
        total = 0.0
        for name, definition in indexes:
            started = time.perf_counter()
            conn.execute(definition)  # type: ignore[arg-type]
            took = time.perf_counter() - started
            total += took
            size = conn.execute("SELECT pg_relation_size(%s::regclass)", (f"vo.{name}",)).fetchone()[0]  # type: ignore[index]
            print(f"  index {name:<32} built in {took:6.1f} s, {_mb(size):>9}")
        for name, definition in constraints:
            started = time.perf_counter()
            conn.execute(f"ALTER TABLE vo.remote_obscore ADD CONSTRAINT {name} {definition}")  # type: ignore[arg-type]
            took = time.perf_counter() - started
            total += took
            size = conn.execute("SELECT pg_relation_size(%s::regclass)", (f"vo.{name}",)).fetchone()[0]  # type: ignore[index]
            print(f"  unique {name:<31} built in {took:6.1f} s, {_mb(size):>9}")
        print(f"  all indexes built in {total:.0f} s (maintenance_work_mem 512MB)")
        started = time.perf_counter()
        conn.execute("ANALYZE vo.remote_obscore")
        conn.execute(COVERAGE_FILL)
        conn.execute("ANALYZE vo.remote_coverage")
        print(f"  ANALYZE and vo.remote_coverage counted in {time.perf_counter() - started:.0f} s")
        heap, indexes_size, coverage, cells = conn.execute(
            "SELECT pg_table_size('vo.remote_obscore'), pg_indexes_size('vo.remote_obscore'), "
            "pg_total_relation_size('vo.remote_coverage'), (SELECT count(*) FROM vo.remote_coverage)"
        ).fetchone()  # type: ignore[misc]
        print(
            f"  vo.remote_obscore: table {_mb(heap)} ({heap / rows:.0f} bytes a row), indexes {_mb(indexes_size)} "
            f"({indexes_size / rows:.0f} bytes a row); vo.remote_coverage {_mb(coverage)}, {cells:,} rows"
        )


def _tap(base: str, adql: str):  # noqa: ANN202
    return lambda client: client.post(f"{base}/tap/sync", data={"LANG": "ADQL", "QUERY": adql})


def query_figures(url: str, home: Path, queries: int) -> None:
    env, base = server_env(url, DALSERVER_HOME=str(home / "server"))
    (home / "server").mkdir()
    catalog = load_catalog(url)
    table = cache_table(catalog.tables)
    rng = random.Random(11)
    places = [(rng.uniform(0, 360), rng.uniform(-70, 70)) for _ in range(queries)]
    kinds: dict[str, list[tuple[str, object]]] = {}

    def tap(kind: str, adql: str, limit: int = 10_000) -> None:
        kinds.setdefault(kind, []).append((to_postgres(adql, catalog, row_limit=limit + 1).sql, _tap(base, adql)))

    columns = "obs_publisher_did, access_url, s_ra, s_dec, facility_name, instrument_name, t_min"
    for ra, dec in places:
        tap(
            "cone 0.5 deg",
            f"SELECT {columns} FROM vo.remote_obscore WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), "
            f"CIRCLE('ICRS', {ra!r}, {dec!r}, 0.5))",
        )
        d = 0.5
        polygon = f"{ra - d!r}, {dec - d!r}, {ra + d!r}, {dec - d!r}, {ra + d!r}, {dec + d!r}, {ra - d!r}, {dec + d!r}"
        tap(
            "polygon 1 deg",
            f"SELECT {columns} FROM vo.remote_obscore WHERE 1 = INTERSECTS(s_region, POLYGON('ICRS', {polygon}))",
        )
        tap(
            "2 deg cone by t_min",
            f"SELECT TOP 100 {columns} FROM vo.remote_obscore WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), "
            f"CIRCLE('ICRS', {ra!r}, {dec!r}, 2)) ORDER BY t_min DESC",
        )
        tap(
            "counts 1 deg region",
            "SELECT facility_name, instrument_name, SUM(dataset_count) AS n FROM vo.remote_coverage "
            f"WHERE 1 = CONTAINS(POINT(cell_ra, cell_dec), MOC(6, CIRCLE('ICRS', {ra!r}, {dec!r}, 1))) "
            "GROUP BY facility_name, instrument_name ORDER BY n DESC",
        )
        # The same counts, with the cells chosen by a circle reaching the region's edge cells (1 degree
        # plus a cell's half-diagonal): served by the cells' position index, where a MOC is not.
        tap(
            "counts, cells in a 1.5 deg circle",
            "SELECT facility_name, instrument_name, SUM(dataset_count) AS n FROM vo.remote_coverage "
            f"WHERE 1 = CONTAINS(POINT(cell_ra, cell_dec), CIRCLE('ICRS', {ra!r}, {dec!r}, 1.5)) "
            "GROUP BY facility_name, instrument_name ORDER BY n DESC",
        )
        sia = {"POS": f"CIRCLE {ra!r} {dec!r} 0.5"}
        sql, _ = federated_sql({"POS": [sia["POS"]]}, table, 10_000, with_live=False)
        kinds.setdefault("federated SIA 0.5 deg", []).append(
            (sql, lambda client, p=sia: client.get(f"{base}/federated/sia/query", params=p))
        )
    for k in range(queries):
        column = ("em_min", "t_max")[k % 2]
        tap(
            "whole table TOP 100 by an indexed column",
            f"SELECT TOP 100 {columns} FROM vo.remote_obscore ORDER BY {column}",
        )
    for k in range(max(4, queries // 20)):  # a full scan each: a few are enough
        column = ("s_fov", "access_estsize")[k % 2]
        tap(
            "whole table TOP 100 by an unindexed one",
            f"SELECT TOP 100 {columns} FROM vo.remote_obscore ORDER BY {column} DESC",
        )
    server = start_server(env, base)
    try:
        print(f"\n   p50 (p95) in ms, {queries} queries each; floor: the same SQL on one psycopg connection")
        print(f"   {'query':<42}{'rows':>8}{'floor':>18}{'through HTTP':>20}{'ratio':>8}")
        for kind, pairs in kinds.items():
            timings = paired_latencies(url, pairs, warm_up=min(20, len(pairs) // 4))  # type: ignore[arg-type]
            (d50, d95), (s50, s95) = percentiles(timings.direct), percentiles(timings.service)
            rows = timings.rows / len(pairs)
            print(f"   {kind:<42}{rows:>8.0f}{d50:>10.1f} ({d95:5.1f}){s50:>12.1f} ({s95:5.1f}){s50 / d50:>8.2f}")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source-rows", type=int, default=200_000)
    parser.add_argument("--cache-rows", type=int, default=5_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-crawl", action="store_true", help="only part 3")
    parser.add_argument(
        "--reuse-cache", action="store_true", help="query the cache a previous run left (killed), if it is that large"
    )
    args = parser.parse_args()
    print(f"start: {_load()}")
    url = bench_database()
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as tmp:
        home = Path(tmp)
        if not args.skip_crawl:
            crawl_figures(url, args.source_rows, home)
        try:
            with psycopg.connect(url) as conn:
                held = conn.execute("SELECT count(*) FROM vo.remote_obscore").fetchone()[0]  # type: ignore[index]
            if args.reuse_cache and held >= args.cache_rows:
                print(f"\n3. the cache of {held:,} rows a previous run left")
            else:
                fill_cache(url, args.cache_rows)
            query_figures(url, home, args.queries)
        finally:
            _forget_crawl(url)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM vo.remote_obscore")
    print(f"\nend: {_load()}")


if __name__ == "__main__":
    main()
