"""The crawler's rules as pure functions (no database, no server): which services duplicate a
crawled one, the operator's lists, the User-Agent, Retry-After, the host gate, durations."""

from __future__ import annotations

import argparse
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from archive_io.remote_answers import user_agent
from dalserver.crawl_commands import duration
from vo_crawl.config import CrawlConfig, CrawlConfigError, load_lists, matches
from vo_crawl.discovery import OBSCORE_TAP, SIA1, SIA2, Found, _mark_duplicates, exclusion
from vo_crawl.polite import HostGate, retry_after


def _found(kind: str, ivoid: str, *members: str) -> Found:
    return Found(kind, f"https://{ivoid.split('/')[2]}/{kind}", None, ivoid, members={ivoid, *members})


def test_sia_services_of_data_a_crawled_obscore_service_serves_are_dropped() -> None:
    tap = _found(OBSCORE_TAP, "ivo://a.example/tap", "ivo://a.example/obscore", "ivo://a.example/survey")
    twin = _found(SIA1, "ivo://a.example/sia1")  # IsServedBy the TAP service
    sia = _found(SIA2, "ivo://a.example/sia")  # IsServiceFor a collection the TAP service serves
    other = _found(SIA2, "ivo://b.example/sia")  # its own data
    old = _found(SIA1, "ivo://b.example/sia1")  # IsServedBy b's SIA 2.0 service
    relations = [
        ("ivo://a.example/sia1", "isservedby", "ivo://a.example/tap"),
        ("ivo://a.example/sia", "isservicefor", "ivo://a.example/survey"),
        ("ivo://a.example/survey", "isservedby", "ivo://a.example/sia"),
        ("ivo://b.example/sia1", "isservedby", "ivo://b.example/sia"),
    ]
    services = [tap, twin, sia, other, old]
    _mark_duplicates(services, relations, lambda _: True)
    assert [s.duplicate_of for s in services] == [
        None,
        "ivo://a.example/tap",
        "ivo://a.example/tap",
        None,
        "ivo://b.example/sia",
    ]
    assert exclusion(twin, CrawlConfig("ua")) == "serves the same data as ivo://a.example/tap, which is crawled"
    for s in services:
        s.duplicate_of = None
    _mark_duplicates(services, relations, lambda f: f is not tap)  # the operator excludes the TAP service
    assert sia.duplicate_of is None and twin.duplicate_of is None


def test_the_operators_lists_name_services_by_ivoid_host_or_url(tmp_path: Path) -> None:
    lists = tmp_path / "crawl.yaml"
    assert load_lists(lists) == ((), ())
    lists.write_text("exclude:\n  - IVO://Slow.Example/*\n  - huge.example.org\n  - https://x.example/tap\n")
    include, exclude = load_lists(lists)
    assert include == () and matches(exclude, "ivo://slow.example/tap", "s.example", "https://s.example/tap")
    assert matches(exclude, "ivo://y/z", "huge.example.org", "https://huge.example.org/tap") == "huge.example.org"
    assert matches(exclude, "ivo://y/z", "x.example", "https://x.example/tap/") == "https://x.example/tap"
    assert matches(exclude, "ivo://y/z", "y.example", "https://y.example/tap") is None
    found = Found(SIA2, "https://huge.example.org/sia", None, "ivo://huge/sia")
    assert (
        exclusion(found, CrawlConfig("ua", exclude=exclude))
        == "excluded by the operator (crawl.yaml: huge.example.org)"
    )
    assert "include list" in (exclusion(found, CrawlConfig("ua", include=("ivo://other/*",))) or "")
    for wrong, message in (("exclude: one", "must be a list"), ("skip: [a]", "unknown key"), ("[a, b]", "mapping")):
        lists.write_text(wrong)
        with pytest.raises(CrawlConfigError, match=message):
            load_lists(lists)


def test_the_user_agent_names_dalserver_its_version_and_the_operator_as_ivoa_copy() -> None:
    assert user_agent("1.2.3", "https://archive.example/") == "dalserver/1.2.3 (IVOA-copy https://archive.example/)"


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after("120") == 120.0
    later = datetime.now(UTC) + timedelta(seconds=90)
    assert retry_after(format_datetime(later, usegmt=True)) == pytest.approx(90, abs=2)
    assert retry_after("soon") is None and retry_after(None) is None


def test_a_host_gate_lets_one_request_through_at_a_time_with_a_gap() -> None:
    gate = HostGate(0.05)
    spans: list[tuple[float, float]] = []

    def request() -> None:
        with gate.turn():
            start = time.monotonic()
            time.sleep(0.01)
            spans.append((start, time.monotonic()))

    threads = [threading.Thread(target=request) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spans.sort()
    assert all(b[0] >= a[1] + 0.05 for a, b in zip(spans, spans[1:], strict=False))
    gate.hold_until(time.monotonic() + 0.2)  # a Retry-After holds the host
    start = time.monotonic()
    request()
    assert spans[-1][0] - start >= 0.19


def test_durations_for_every() -> None:
    assert [duration(t) for t in ("90", "90s", "15m", "6h", "1d", "2w")] == [90, 90, 900, 21600, 86400, 1209600]
    for wrong in ("", "0", "soon", "-5m", "5y"):
        with pytest.raises(argparse.ArgumentTypeError):
            duration(wrong)
