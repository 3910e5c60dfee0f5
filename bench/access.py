"""What the access filter costs: cone and INTERSECTS queries over ObsCore as an anonymous caller
and as a user granted a proposal, in the same run, on one psycopg connection; their plans; the
plan the same condition gets as a row-level security policy; and the cost of checking a token
per request, in process and over HTTP.

Usage: .venv/bin/python bench/access.py [--rows 100000] [--queries 400]
Fills the bench database's ivoa.obscore with N footprints (bench/sia.py's), a tenth of them
proprietary (released in 2099, proposal P1), translates the ADQL as the server does for each
identity (dalserver.access.visibility.catalog_for), and times them interleaved.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import subprocess
import sys
import time
import timeit

import httpx
import psycopg
from common import bench_database, load_catalog, percentiles, server_env, serving
from sia import fill

from adql import to_postgres
from archive_io.product_urls import with_public_urls
from dalserver.access.credentials import new_token, parse_token, secret_matches
from dalserver.access.identity import ANONYMOUS, Grant, Identity
from dalserver.access.visibility import catalog_for
from pgsql_text.session import SPHERE_OUTPUT_DEGREES

GRANTED = Identity("bench-user", frozenset({"bench"}), frozenset({Grant("bench", "P1")}))
CONE = "SELECT obs_id FROM ivoa.obscore WHERE 1 = CONTAINS(POINT(s_ra, s_dec), CIRCLE({ra:.5f}, {dec:.5f}, 0.3))"
INTERSECTS = "SELECT obs_id FROM ivoa.obscore WHERE 1 = INTERSECTS(s_region, CIRCLE({ra:.5f}, {dec:.5f}, 0.3))"
INDEXES = {"cone": "obscore_position", "intersects": "obscore_s_region"}


def make_proprietary(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE ivoa.obscore SET obs_release_date = CASE WHEN substr(obs_id, 7)::int % 10 = 0 "
            "THEN timestamptz '2099-01-01' ELSE timestamptz '2001-01-01' END, "
            "proposal_id = CASE WHEN substr(obs_id, 7)::int % 10 = 0 THEN 'P1' END WHERE obs_collection = 'bench'"
        )
        conn.execute("ANALYZE ivoa.obscore")


def plan(conn: psycopg.Connection, sql: str) -> str:
    return "\n".join(r[0] for r in conn.execute(f"EXPLAIN {sql}"))  # type: ignore[arg-type]


def rls_plan(conn: psycopg.Connection, sql_unfiltered: str) -> str:
    """The plan of the unfiltered query under a policy with the granted user's condition."""
    found = ""
    with conn.transaction() as undone:
        conn.execute("DROP ROLE IF EXISTS bench_rls")
        conn.execute("CREATE ROLE bench_rls")
        conn.execute("GRANT USAGE ON SCHEMA ivoa, dalserver TO bench_rls")
        conn.execute("GRANT SELECT ON ivoa.obscore TO bench_rls")
        conn.execute("ALTER TABLE ivoa.obscore ENABLE ROW LEVEL SECURITY")
        conn.execute(
            "CREATE POLICY bench_visible ON ivoa.obscore FOR SELECT TO bench_rls USING "
            "(obs_release_date <= now() OR (obs_collection, proposal_id) IN (('bench', 'P1')))"
        )
        conn.execute("SET LOCAL ROLE bench_rls")
        found = plan(conn, sql_unfiltered)
        raise psycopg.Rollback(undone)  # the policy, the role and the setting go
    return found


def timed(conn: psycopg.Connection, sql: str) -> float:
    start = time.perf_counter()
    conn.execute(sql).fetchall()  # type: ignore[arg-type]
    return (time.perf_counter() - start) * 1000


def token_cost(url: str, env: dict[str, str], base: str, requests: int) -> None:
    token = new_token()
    per_check = timeit.timeit(
        lambda: (hashlib.sha256(token.text.encode()).hexdigest(), parse_token(token.text)), number=20_000
    )
    secret = timeit.timeit(lambda: secret_matches(token.secret_sha256, token.secret), number=20_000)
    print(
        f"token check in process: {per_check / 20_000 * 1e6:.1f} us cached (hash and parse), "
        f"{secret / 20_000 * 1e6:.1f} us to compare a secret's SHA-256"
    )
    command = [sys.executable, "-m", "dalserver", "user"]
    subprocess.run([*command, "add", "bench-user", "--no-password"], env=env, check=False, capture_output=True)
    text = subprocess.run(
        [*command, "token", "bench-user"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    with serving(env, base, url), httpx.Client(timeout=30) as client:
        bearer = {"Authorization": f"Bearer {text}"}
        for _ in range(20):
            client.get(f"{base}/whoami")
            client.get(f"{base}/whoami", headers=bearer)
        anonymous, authenticated = [], []
        for _ in range(requests):
            start = time.perf_counter()
            client.get(f"{base}/whoami")
            anonymous.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            assert client.get(f"{base}/whoami", headers=bearer).json()["user"] == "bench-user"
            authenticated.append((time.perf_counter() - start) * 1000)
    a50, _ = percentiles(anonymous)
    b50, _ = percentiles(authenticated)
    print(f"GET /whoami p50: anonymous {a50:.3f} ms, bearer token {b50:.3f} ms ({(b50 - a50) * 1000:+.0f} us)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()
    url = bench_database()
    env, base = server_env(url)
    fill(url, args.rows)
    make_proprietary(url)
    published = with_public_urls(load_catalog(url), base)
    catalogs = {"anonymous": catalog_for(published, ANONYMOUS, {}), "granted": catalog_for(published, GRANTED, {})}
    rng = random.Random(7)
    centres = [(rng.uniform(2, 60), rng.uniform(-14, 14)) for _ in range(args.queries)]
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SPHERE_OUTPUT_DEGREES)
            for kind, adql in (("cone", CONE), ("intersects", INTERSECTS)):
                queries = [adql.format(ra=ra, dec=dec) for ra, dec in centres]
                sqls = {who: [to_postgres(q, c).sql for q in queries] for who, c in catalogs.items()}
                unfiltered = to_postgres(queries[0], published).sql
                for who in catalogs:
                    shown = plan(conn, sqls[who][0])
                    print(f"{kind} {who}: {INDEXES[kind]} {'used' if INDEXES[kind] in shown else 'NOT used'}")
                under_rls = rls_plan(conn, unfiltered)
                print(
                    f"{kind} under a row-level security policy: {INDEXES[kind]} "
                    f"{'used' if INDEXES[kind] in under_rls else 'NOT used'}\n    " + under_rls.replace("\n", "\n    ")
                )
                for i in range(20):  # warm up both
                    timed(conn, sqls["anonymous"][i])
                    timed(conn, sqls["granted"][i])
                times: dict[str, list[float]] = {"anonymous": [], "granted": []}
                for i in range(args.queries):
                    order = ("anonymous", "granted") if i % 2 else ("granted", "anonymous")
                    for who in order:
                        times[who].append(timed(conn, sqls[who][i]))
                (a50, a95), (g50, g95) = percentiles(times["anonymous"]), percentiles(times["granted"])
                print(
                    f"{kind:10s} anonymous p50 {a50:6.2f} ms p95 {a95:6.2f} ms | granted p50 {g50:6.2f} ms "
                    f"p95 {g95:6.2f} ms | granted/anonymous p50 {g50 / a50:.3f}"
                )
        token_cost(url, env, base, args.queries)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM ivoa.obscore WHERE obs_collection = 'bench'")
            conn.execute("DELETE FROM auth.credentials WHERE user_name = 'bench-user'")
            conn.execute("DELETE FROM auth.users WHERE user_name = 'bench-user'")


if __name__ == "__main__":
    main()
