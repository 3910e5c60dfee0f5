"""SIA's query with its pgsphere constants as parameters (dalserver.sia.query.build_query): one
prepared statement per shape of request answers every position exactly as the plain SQL does,
on the session archive's ObsCore as the server reads it (published URLs, the row filter)."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable
from dataclasses import replace

import httpx
import psycopg

from adql import Catalog
from archive_io.product_urls import with_public_urls
from dalserver.access.identity import ANONYMOUS
from dalserver.access.visibility import catalog_for
from dalserver.db.arrow_pool import ArrowPool
from dalserver.db.query import QueryStream
from dalserver.formats.registry import OutputFormat, response_format
from dalserver.pipeline import Limits, PreparedQuery, ResultWriter, answer, known_small
from dalserver.sia.query import build_query, obscore_table
from tests.support.archive import Archive
from tests.support.votable import query_status

BATCH_BYTES = 1 << 20
# The sample's stacks lie in RA 34..35, Dec -5.5..-4.5; the shapes reach somewhat beyond.
RA, DEC = (33.8, 35.2), (-5.7, -4.3)


def _circle(rng: random.Random) -> str:
    return f"CIRCLE {rng.uniform(*RA)!r} {rng.uniform(*DEC)!r} {rng.uniform(0.005, 0.6)!r}"


def _polygon(rng: random.Random, corners: int) -> str:
    # Corners on a circle at increasing angles: a convex polygon, which pgsphere always takes.
    ra, dec, radius = rng.uniform(*RA), rng.uniform(*DEC), rng.uniform(0.01, 0.5)
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(corners))
    return "POLYGON " + " ".join(f"{ra + radius * math.cos(a)!r} {dec + radius * math.sin(a)!r}" for a in angles)


def _range(rng: random.Random) -> str:
    ra, dec = sorted(rng.uniform(*RA) for _ in range(2)), sorted(rng.uniform(*DEC) for _ in range(2))
    return f"RANGE {ra[0]!r} {ra[1]!r} {dec[0]!r} {dec[1]!r}"


# Shapes of request: each makes its random requests (values, MAXREC); requests of one shape share
# a statement. Multi-valued parameters, intervals, every POS form, the caps of a full-RA range;
# a MAXREC small enough for the answer to be read without COPY (pipeline.known_small: only such
# an answer comes from a prepared statement), and often cut short by it.
Request = Callable[[random.Random], tuple[dict[str, list[str]], int]]
SHAPES: dict[str, Request] = {
    "circle": lambda r: ({"POS": [_circle(r)]}, 1),
    "circle, band, time": lambda r: ({"POS": [_circle(r)], "BAND": ["6e-7 7e-7"], "TIME": ["50000 +Inf"]}, 5),
    "two circles": lambda r: ({"POS": [_circle(r), _circle(r)]}, 3),
    "triangle": lambda r: ({"POS": [_polygon(r, 3)]}, 4),
    "pentagon and circle": lambda r: ({"POS": [_polygon(r, 5), _circle(r)], "BAND": ["-Inf 6.5e-7"]}, 5),
    "range": lambda r: ({"POS": [_range(r)], "EXPTIME": ["100 +Inf"]}, 2),
    "cap": lambda r: ({"POS": [f"RANGE 0 360 {r.uniform(*DEC)!r} +Inf"]}, 2),
    "metadata only": lambda r: ({"POS": [_circle(r)]}, 0),
}
PER_SHAPE = 9  # beyond the 5 executions PostgreSQL plans for their values: generic plans too


def _served(catalog: Catalog) -> Catalog:
    return catalog_for(with_public_urls(catalog, "http://sia.example/archive"), ANONYMOUS, {})


async def _answer(pool: ArrowPool, query: PreparedQuery, fmt: OutputFormat) -> bytes:
    """The answer's bytes, as the SIA route has them written (pipeline.answer)."""
    chunks = await answer(query, ResultWriter(fmt), pool, Limits(30.0, BATCH_BYTES))
    return b"".join([chunk async for chunk in chunks])


def test_sia_requests_of_one_shape_share_a_statement_and_answer_byte_for_byte_as_their_plain_sql(
    archive: Archive, catalog: Catalog
) -> None:
    rng = random.Random(28)
    table = obscore_table(_served(catalog).tables)
    requests = [make(rng) for make in SHAPES.values() for _ in range(PER_SHAPE)]
    queries = [build_query(values, table, maxrec) for values, maxrec in requests]
    assert all(q.parameterized is not None and known_small(q) for q in queries)

    async def run() -> tuple[list[tuple[bytes, bytes]], list[dict[str, object]]]:
        # One session for the parameterized queries, so that each shape's statement is prepared
        # once and executed for the rest; the plain SQL on another, each text new to it. In
        # turn as VOTable and as CSV (every value written as text, to the last digit).
        shared, plain = ArrowPool(archive.url, 1), ArrowPool(archive.url, 1)
        formats = [response_format(None), response_format("csv")]
        try:
            answers = [
                (await _answer(shared, q, fmt), await _answer(plain, replace(q, parameterized=None), fmt))
                for q in queries
                for fmt in formats
            ]
            stream = QueryStream(shared, "SELECT 1", 30.0, BATCH_BYTES)
            await stream.connect()
            try:
                held = await stream.lookup("SELECT statement, generic_plans FROM pg_prepared_statements")
            finally:
                await stream.close()
            return answers, held
        finally:
            await shared.close()
            await plain.close()

    answers, held = asyncio.run(run())
    for k, (answered, plain) in enumerate(answers):
        assert answered == plain, queries[k // 2].sql
    assert sum(answered.count(b"<TR>") for answered, _ in answers) > 2 * len(SHAPES)  # not all empty
    # The session's (at most KEEP) statements: parameterized ones, run under their generic plan.
    assert held and all("$1" in str(s["statement"]) and int(str(s["generic_plans"])) > 0 for s in held), held


def test_the_operators_sia_gives_parameters_are_estimated_without_their_values(db: psycopg.Connection) -> None:
    """The premise of SIA's parameterized statements: pgsphere estimates these operators at a
    fixed selectivity, so a plan made without the parameters' values is the plan made with them
    (and the LIMIT of a result cut short picks the same rows)."""
    estimators = db.execute(
        "SELECT DISTINCT oprrest::text FROM pg_operator "
        "WHERE oprname IN ('&&', '<@') AND oprleft = 'spoly'::regtype "
        "AND oprright IN ('spoly'::regtype, 'scircle'::regtype)"
    ).fetchall()
    assert estimators == [("contsel",)]


def test_the_generic_plan_of_an_sia_statement_still_uses_the_footprint_index(
    catalog: Catalog, db: psycopg.Connection
) -> None:
    table = obscore_table(_served(catalog).tables)
    values = {"POS": ["CIRCLE 34.5 -5.0 0.1", "POLYGON 34.4 -5.1 34.6 -5.1 34.5 -4.9"], "BAND": ["6e-7 7e-7"]}
    parameterized = build_query(values, table, 1).parameterized
    assert parameterized is not None and parameterized.types == ("scircle", "spoly")
    with db.transaction():
        db.execute("SET LOCAL enable_seqscan = off")  # 132 rows: make the planner show what it can use
        db.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        db.execute(f"PREPARE sia_generic ({', '.join(parameterized.types)}) AS {parameterized.sql}")
        try:
            arguments = ", ".join(parameterized.values)
            plan = "\n".join(r[0] for r in db.execute(f"EXPLAIN EXECUTE sia_generic({arguments})"))
        finally:
            db.execute("DEALLOCATE sia_generic")
    assert "obscore_s_region" in plan and "$1" in plan and "$2" in plan, plan


def test_an_invalid_polygon_is_a_usagefault_from_a_prepared_statement_too(server: str) -> None:
    # One shape (a quadrilateral, a MAXREC small enough for a prepared statement) on one
    # keep-alive connection, so one worker and its one idle session: two squares make its
    # statement prepared, the self-crossing quadrilaterals after them are refused by its EXECUTE.
    def square(ra: int) -> str:
        return f"POLYGON {ra} 0 {ra + 10} 0 {ra + 10} 10 {ra} 10"

    def crossed(ra: int) -> str:
        return f"POLYGON {ra} 0 {ra + 10} 10 {ra + 10} 0 {ra} 10"

    with httpx.Client(base_url=server, timeout=30) as client:
        for pos in (square(0), square(1)):
            assert client.get("/sia/query", params={"POS": pos, "MAXREC": "3"}).status_code == 200
        for pos in (crossed(0), crossed(1), crossed(2)):
            response = client.get("/sia/query", params={"POS": pos, "MAXREC": "3"})
            assert response.status_code == 400
            assert response.headers["content-type"].startswith("application/x-votable+xml")
            status, text = query_status(response)
            assert status == "ERROR" and text.startswith("UsageFault: ") and "not a valid spherical polygon" in text, (
                text
            )
