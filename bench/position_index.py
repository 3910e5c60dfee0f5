"""The position index a catalogue can have: pgsphere's GiST against a B-tree on the HEALPix key
(``position_index: gist | healpix`` in the sidecar), build time and size per million rows and
cone latency, with the ratios.

Usage: .venv/bin/python bench/position_index.py [--rows 1000000] [--queries 1000] [--builds 2]
Generates N uniform rows in the bench database (SQL, seeded), builds each index on its own copy
``--builds`` times (the median is reported), then runs the same random cones (|dec| < 72, radii
0.02 and 0.5 degrees) on one connection: the SQL the translator writes for each table, the GiST
copy's exact predicate alone, the keyed copy's with its range cover. The cover's own time (Python,
in the translator) is reported apart. ``position_index_report(url, ...)`` returns the figures, for
bench/shards.py.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import dataclass

import psycopg
from common import bench_database

from adql import Catalog, ColumnMeta, PositionKey, TableMeta, to_postgres
from adql.healpix_cover import KEY_ORDER, cone_cover
from pgsql_text.pgsphere import healpix_key_sql, spoint_sql

SCHEMA = "bench_position_index"
RADII = (0.02, 0.5)
COLUMNS = (ColumnMeta("id", "long"), ColumnMeta("ra", "double"), ColumnMeta("dec", "double"))
CATALOG = Catalog.of(
    [
        TableMeta(SCHEMA, "gist", COLUMNS),
        TableMeta(SCHEMA, "healpix", COLUMNS, position_key=PositionKey("ra", "dec", KEY_ORDER)),
    ]
)
CONE = "SELECT id FROM {schema}.{table} WHERE CONTAINS(POINT(ra, dec), CIRCLE(POINT({ra}, {dec}), {radius})) = 1"
INDEXES = {
    "gist": f"CREATE INDEX {{name}} ON {SCHEMA}.gist USING gist ({spoint_sql('ra', 'dec')})",
    "healpix": f"CREATE INDEX {{name}} ON {SCHEMA}.healpix USING btree ({healpix_key_sql(KEY_ORDER, 'ra', 'dec')})",
}


@dataclass
class IndexFigures:
    build_seconds: float  # median
    size_mb: float
    cone_p50_ms: dict[float, float]  # radius -> median client time of one cone, ms


@dataclass
class PositionIndexReport:
    rows: int
    gist: IndexFigures
    healpix: IndexFigures
    cover_p50_ms: dict[float, float]  # radius -> median time to compute a cover in Python, ms


def _generate(conn: psycopg.Connection, rows: int) -> None:
    conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    conn.execute(f"CREATE SCHEMA {SCHEMA}")
    conn.execute("SELECT setseed(0.29)")
    conn.execute(
        f"CREATE TABLE {SCHEMA}.gist AS SELECT i AS id, random() * 360 AS ra, "
        f"degrees(asin(2 * random() - 1)) AS dec FROM generate_series(1, %s) AS i",
        (rows,),
    )
    conn.execute(f"CREATE TABLE {SCHEMA}.healpix AS SELECT * FROM {SCHEMA}.gist")
    conn.execute(f"VACUUM ANALYZE {SCHEMA}.gist")
    conn.execute(f"VACUUM ANALYZE {SCHEMA}.healpix")


def _build(conn: psycopg.Connection, kind: str, builds: int) -> tuple[float, float]:
    """Median build time over ``builds`` builds, and the index's size in MB (the last one is kept)."""
    times = []
    for attempt in range(builds):
        conn.execute(f"DROP INDEX IF EXISTS {SCHEMA}.{kind}_pos")
        started = time.perf_counter()
        conn.execute(INDEXES[kind].format(name=f"{kind}_pos"))
        times.append(time.perf_counter() - started)
        print(f"  {kind} build {attempt + 1}: {times[-1]:.2f} s", flush=True)
    conn.execute(f"ANALYZE {SCHEMA}.{kind}")
    (size,) = conn.execute(f"SELECT pg_relation_size('{SCHEMA}.{kind}_pos')").fetchone() or (0,)
    return statistics.median(times), size / 1e6


def _cones(queries: int) -> list[tuple[float, float]]:
    rng = random.Random(29)
    return [(rng.uniform(0, 360), rng.uniform(-72, 72)) for _ in range(queries)]


def _cone_p50(conn: psycopg.Connection, table: str, centres: list[tuple[float, float]], radius: float) -> float:
    statements = [
        to_postgres(CONE.format(schema=SCHEMA, table=table, ra=ra, dec=dec, radius=radius), CATALOG).sql
        for ra, dec in centres
    ]
    for sql in statements[:20]:  # warm the caches and the plan machinery
        conn.execute(sql).fetchall()
    samples = []
    for sql in statements:
        started = time.perf_counter()
        conn.execute(sql).fetchall()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _cover_p50(centres: list[tuple[float, float]], radius: float) -> float:
    cone_cover(0.0, 0.0, radius)  # the first cover loads cdshealpix and astropy
    samples = []
    for ra, dec in centres:
        started = time.perf_counter()
        cone_cover(ra, dec, radius)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def position_index_report(url: str, rows: int = 1_000_000, queries: int = 1000, builds: int = 2) -> PositionIndexReport:
    """Build both indexes on ``rows`` generated rows in ``url``'s database and time cones on each."""
    centres = _cones(queries)
    with psycopg.connect(url, autocommit=True) as conn:
        print(f"generating {rows:,} rows ...", flush=True)
        _generate(conn, rows)
        figures = {}
        for kind in ("gist", "healpix"):
            build, size = _build(conn, kind, builds)
            cones = {r: _cone_p50(conn, kind, centres, r) for r in RADII}
            figures[kind] = IndexFigures(build, size, cones)
        conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
    cover = {r: _cover_p50(centres, r) for r in RADII}
    return PositionIndexReport(rows, figures["gist"], figures["healpix"], cover)


def print_report(report: PositionIndexReport) -> None:
    per_million = 1e6 / report.rows
    gist, hpx = report.gist, report.healpix
    print(
        f"index build per million rows: GiST {gist.build_seconds * per_million:.2f} s, "
        f"HEALPix B-tree {hpx.build_seconds * per_million:.2f} s "
        f"(B-tree {gist.build_seconds / hpx.build_seconds:.1f} x faster)"
    )
    print(
        f"index size per million rows: GiST {gist.size_mb * per_million:.0f} MB, "
        f"HEALPix B-tree {hpx.size_mb * per_million:.0f} MB ({gist.size_mb / hpx.size_mb:.1f} x smaller)"
    )
    for radius in RADII:
        g, h = gist.cone_p50_ms[radius], hpx.cone_p50_ms[radius]
        print(
            f"cone r={radius} deg p50 on {report.rows:,} rows: GiST {g:.2f} ms, HEALPix B-tree + exact recheck "
            f"{h:.2f} ms (B-tree / GiST = {h / g:.2f}); the cover's Python {report.cover_p50_ms[radius]:.2f} ms more"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--builds", type=int, default=2)
    args = parser.parse_args()
    print_report(position_index_report(bench_database(), args.rows, args.queries, args.builds))


if __name__ == "__main__":
    main()
