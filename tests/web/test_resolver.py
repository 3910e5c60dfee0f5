"""The name resolver's parts that need no database: names compared as people write them, Sesame's
plain-text answer read, and Sesame's failures (nothing listening, a host that never answers) turned
into a clear SesameUnreachable within the timeout, on this machine's loopback only."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from dalserver.obscore.resolver import Sesame, SesameUnreachable, name_key, parse_sesame

# The shape of Sesame's plain-text answer (-oI): the database that answered, the position
# (%J, ICRS degrees, then sexagesimal), the main identifier (%I.0).
ANSWER = """# M 31\t#Q1234
#=Sim=Simbad (via url):    1
%@ 1234
%I.0 M  31
%J 10.68470833 +41.26875000 = 00:42:44.33 +41:16:07.5
%J.E [3.33 3.33 0] B 2006AJ....131.1163S
#====Done (2024-Jan-01,00:00:00z)====
"""


def test_names_compare_without_case_or_blanks() -> None:
    assert name_key("M 31") == name_key("m31") == name_key(" M\t31 ") == "m31"
    assert name_key("NGC 1068") != name_key("NGC 1086")


def test_sesames_answer_gives_the_position_the_database_and_the_name() -> None:
    found = parse_sesame(ANSWER, "m31")
    assert found is not None
    assert (found.ra, found.dec) == (10.68470833, 41.26875)
    assert found.name == "M 31" and found.resolver == "sesame" and found.detail == "Simbad through CDS Sesame"


def test_an_answer_without_a_position_is_not_found() -> None:
    assert parse_sesame("# nothing\n#! *** Nothing found *** \n", "xyz") is None
    assert parse_sesame("%J 400.0 +95.0\n", "bad") is None  # outside the sky: not a position


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a black-holed route, a hung proxy)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free again once closed: nothing listens there


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """The coroutine on an event loop of its own thread (a browser test's loop may be running in this one)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def test_nothing_listening_is_sesame_unreachable() -> None:
    sesame = Sesame(f"http://127.0.0.1:{closed_port()}/sesame", timeout=5)
    with pytest.raises(SesameUnreachable, match="could not be reached"):
        run(sesame.resolve("M 31"))


def test_a_sesame_that_never_answers_times_out(silent_port: int) -> None:
    sesame = Sesame(f"http://127.0.0.1:{silent_port}/sesame", timeout=0.5)
    with pytest.raises(SesameUnreachable, match="did not answer within 0.5 seconds"):
        run(sesame.resolve("M 31"))
