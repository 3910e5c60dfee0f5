"""Which server a user's query goes to (dalserver.db.replicas), without a database: the standbys'
state as their probes would leave it, the primary's positions as its probe records them."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import pyarrow as pa
import pydantic
import pytest

from dalserver.db.arrow_pool import ArrowPool
from dalserver.db.errors import RecoveryConflict, database_fault
from dalserver.db.pool import GuardedPool
from dalserver.db.replicas import (
    PrimaryPositions,
    QueryRouter,
    Standby,
    StandbyHealth,
    server_address,
    standbys_from_urls,
)
from dalserver.settings import Settings
from dalserver.tap.upload import array_text

URLS = ["postgresql://u:secret@db2:5433/archive", "postgresql://u:secret@db3/archive"]


def _router(max_lag: float = 30.0) -> tuple[QueryRouter, list[Standby], PrimaryPositions]:
    positions = PrimaryPositions()
    positions.record(1000, now=time.monotonic() - 600)  # the primary's position for ten minutes
    standbys = standbys_from_urls(URLS, 4)
    for standby in standbys:  # as after a first probe: up, a standby, caught up
        standby.health.replayed = 1000
        standby.health.probed.set()
    return QueryRouter(ArrowPool("postgresql://u@db1/archive", 4), standbys, positions, max_lag), standbys, positions


def test_queries_are_spread_over_the_fit_standbys_and_never_sent_to_the_primary() -> None:
    router, standbys, _ = _router()
    chosen = [router.choose().name for _ in range(6)]
    assert sorted(set(chosen)) == ["replica1", "replica2"] and chosen.count("replica1") == 3


def test_the_least_busy_standby_is_chosen() -> None:
    router, standbys, _ = _router()
    standbys[0].queries.busy = 2
    assert {router.choose().name for _ in range(4)} == {"replica2"}


def _down(health: StandbyHealth) -> None:
    health.lost("connection refused")


def _promoted(health: StandbyHealth) -> None:
    health.in_recovery = False


def _unprobed(health: StandbyHealth) -> None:
    health.probed.clear()


def _lagging(health: StandbyHealth) -> None:
    health.replayed = 900  # the primary has been at 1000 since long before (see _router)


@pytest.mark.parametrize(
    ("unfit", "note"),
    [
        (_down, "down since"),
        (_promoted, "not a standby any more"),
        (_unprobed, "first probe"),
        (_lagging, "behind the primary, more than DALSERVER_REPLICA_MAX_LAG_SECONDS"),
    ],
)
def test_a_standby_that_is_down_promoted_unprobed_or_lagging_is_left_out_saying_why(
    unfit: Callable[[StandbyHealth], None], note: str
) -> None:
    router, standbys, _ = _router(max_lag=30.0)
    unfit(standbys[0].health)
    assert {router.choose().name for _ in range(4)} == {"replica2"}
    assert note in router.notes()[0] and "answering queries" in router.notes()[1]


def test_with_no_standby_fit_the_primary_answers() -> None:
    router, standbys, _ = _router()
    for standby in standbys:
        standby.health.lost("gone")
    assert router.choose() is router.primary
    assert router.choose(exclude=[]) is router.primary


def test_a_standby_that_failed_a_query_is_not_chosen_again_for_it() -> None:
    router, standbys, _ = _router()
    assert {router.choose(exclude=[standbys[0].queries]).name for _ in range(4)} == {"replica2"}
    assert router.choose(exclude=[s.queries for s in standbys]) is router.primary


def test_standbys_wait_for_the_catalogues_last_change_before_answering() -> None:
    router, standbys, _ = _router()
    router.require(1500)  # TAP_SCHEMA changed when the primary was at 1500
    assert router.choose() is router.primary
    assert "catalogue's last change" in router.notes()[0]
    standbys[1].health.replayed = 1500
    assert {router.choose().name for _ in range(3)} == {"replica2"}
    router.require(1200)  # the floor never moves back
    assert router.floor == 1500


def test_lag_is_how_long_the_primary_has_held_what_the_standby_has_not_replayed() -> None:
    positions = PrimaryPositions(keep=600)
    for second, position in ((0, 100), (10, 200), (20, 300), (30, 300)):
        positions.record(position, now=second)
    assert positions.lag_seconds(300, now=40) == 0  # caught up, however long the primary idled
    assert positions.lag_seconds(250, now=40) == 20  # 300 was first seen at 20
    assert positions.lag_seconds(150, now=40) == 30  # 200 at 10
    assert positions.lag_bytes(150) == 150 and positions.lag_bytes(400) == 0
    positions.record(400, now=1000)  # entries older than ``keep`` go: a lag is told up to ``keep`` back
    assert positions.latest == 400 and positions.lag_seconds(300, now=1001) == 1
    assert 600 <= positions.lag_seconds(100, now=1001) <= 1001


def test_the_replica_setting_takes_urls_apart_on_white_space_or_as_a_json_list() -> None:
    multi = "postgresql://u@h1,h2/db?target_session_attrs=read-write"
    assert Settings(replica_urls=f"{URLS[0]}\n  {multi}").replica_url_list == [URLS[0], multi]
    assert Settings(replica_urls=f'["{URLS[0]}", "{multi}"]').replica_url_list == [URLS[0], multi]
    assert Settings().replica_url_list == []
    with pytest.raises(pydantic.ValidationError, match="JSON list"):
        Settings(replica_urls='["postgresql://x"')


def test_a_servers_address_never_shows_its_password() -> None:
    assert server_address(URLS[0]) == "db2:5433"
    assert server_address("postgresql://u@/archive?host=/var/run/standby&port=5432") == "/var/run/standby:5432"
    assert server_address("host=db4 port=6432 user=u password=secret dbname=x") == "db4:6432"
    health = StandbyHealth(URLS[0], "replica1")
    assert "secret" not in health.what


def test_a_recovery_conflict_is_a_503_naming_it() -> None:
    import psycopg

    fault = database_fault(psycopg.errors.lookup("40001")("ERROR:  canceling statement due to conflict with recovery"))
    assert isinstance(fault, RecoveryConflict) and fault.status_code == 503
    assert fault.headers["Retry-After"] == "5"
    assert "conflict with recovery" in fault.message and "run it again" in fault.message


def test_upload_columns_become_array_text_postgresql_reads_back_exactly() -> None:
    assert array_text(pa.array(['say "hi"', "back\\slash", None, "", "{a,b}"])) == (
        '{"say \\"hi\\"","back\\\\slash",NULL,"","{a,b}"}'
    )
    assert array_text(pa.array([0.1, None, float("nan"), -0.0, 1e300])) == "{0.1,NULL,nan,-0,1e+300}"
    assert array_text(pa.array([2**62 + 1, None], pa.int64())) == "{4611686018427387905,NULL}"
    assert array_text(pa.array([True, False])) == "{true,false}"
    assert array_text(pa.array([1_500_000], pa.timestamp("us"))) == "{1970-01-01 00:00:01.500000}"
    assert array_text(pa.chunked_array([[1], [2]], pa.int16())) == "{1,2}"
    assert array_text(pa.array([], pa.float64())) == "{}"


def _look(answer: dict[str, int]) -> Callable[[object], Awaitable[tuple[object, dict[str, int]]]]:
    async def look(pool: object) -> tuple[object, dict[str, int]]:
        return pool, answer

    return look


def test_look_ups_go_to_a_standby_and_to_the_primary_for_what_it_does_not_know() -> None:
    router, standbys, _ = _router()
    router.primary_lookups = GuardedPool("postgresql://u@db1/archive", 2)
    pool, _ = asyncio.run(router.look_up(_look({"a": 1}), lambda found: "a" in found[1]))
    assert pool in [s.lookups for s in standbys]
    pool, _ = asyncio.run(router.look_up(_look({}), lambda found: "a" in found[1]))  # not on the standby
    assert pool is router.primary_lookups
    for standby in standbys:
        standby.health.lost("gone")
    pool, _ = asyncio.run(router.look_up(_look({"a": 1}), lambda found: True))
    assert pool is router.primary_lookups


def test_with_standbys_the_log_names_the_server_that_answered_each_query(caplog: pytest.LogCaptureFixture) -> None:
    router, standbys, _ = _router()
    with caplog.at_level(logging.INFO, logger="dalserver.db.replicas"):
        router.answered(standbys[1].queries)
        router.answered(router.primary)
    assert [r.getMessage() for r in caplog.records] == ["query on replica2 (db3)", "query on primary (db1)"]


def test_without_standbys_no_line_is_logged_per_query(caplog: pytest.LogCaptureFixture) -> None:
    primary = ArrowPool("postgresql://u@db1/archive", 4)
    router = QueryRouter(primary, [], PrimaryPositions(), 30.0)
    with caplog.at_level(logging.DEBUG, logger="dalserver"):
        router.answered(primary)
        primary.answered(primary)
    assert caplog.records == []
