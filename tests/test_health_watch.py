"""dalserver.db.health's watches, which every request and every trip to a query's thread take
instead of a task waiting on the ``down`` event: done when the database is found down, done at
once while it is known down, forgotten when their waiter lets go. No database: the probe never runs."""

from __future__ import annotations

import asyncio

from dalserver.db.health import DatabaseHealth


def _health() -> DatabaseHealth:
    return DatabaseHealth("postgresql://nobody@nowhere.invalid/none")


def test_every_watch_is_done_when_the_database_is_found_down() -> None:
    async def run() -> None:
        health = _health()
        watches = [health.watch() for _ in range(3)]
        await asyncio.sleep(0)
        assert not any(w.done() for w in watches)
        health.lost("connection refused")
        done, _ = await asyncio.wait(watches, timeout=1)
        assert len(done) == 3
        assert health.down.is_set()

    asyncio.run(run())


def test_a_watch_taken_while_the_database_is_down_is_done_at_once() -> None:
    async def run() -> None:
        health = _health()
        health.lost("connection refused")
        assert health.watch().done()

    asyncio.run(run())


def test_a_watch_let_go_is_forgotten_and_does_not_outlive_its_request() -> None:
    async def run() -> None:
        health = _health()
        for _ in range(100):
            work = asyncio.get_running_loop().create_future()
            work.set_result(None)
            gone = health.watch()
            await asyncio.wait((work, gone), return_when=asyncio.FIRST_COMPLETED)
            gone.cancel()
        await asyncio.sleep(0)  # the done callbacks run on the next turn of the loop
        assert not health._watchers
        health.lost("connection refused")  # nothing cancelled is woken
        assert health.watch().done()

    asyncio.run(run())


def test_after_the_database_is_back_a_new_watch_waits_again() -> None:
    async def run() -> None:
        health = _health()
        health.lost("connection refused")
        await health._mark_up()
        watch = health.watch()
        await asyncio.sleep(0)
        assert not watch.done()
        health.lost("gone again")
        assert watch.done()

    asyncio.run(run())
