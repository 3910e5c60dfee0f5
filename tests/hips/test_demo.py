"""``dalserver demo`` builds the sample's HiPS surveys at its first start, serves them at once,
and reuses them at the next start (on a database and home of its own, on the test cluster)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

from archive_io import hips_properties as props
from tests.support.archive import Archive
from tests.support.servers import free_port

SURVEYS = 10  # 9 bands and the colour survey


def _start_demo(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "dalserver", "--log-level", "warning", "demo", "--workers", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_for_surveys(base: str, demo: subprocess.Popen[bytes], log: Path) -> list[dict[str, str]]:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        assert demo.poll() is None, log.read_text()
        try:
            answer = httpx.get(f"{base}/hips/hipslist", timeout=5)
            if answer.status_code == 200:
                return [b for b in (props.parse(t) for t in answer.text.split("\n\n")) if b]
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise AssertionError("the demo did not serve in 10 minutes:\n" + log.read_text())


def _stop(demo: subprocess.Popen[bytes]) -> None:
    demo.send_signal(signal.SIGTERM)
    demo.wait(timeout=60)


def test_the_demo_builds_the_surveys_once_and_serves_them(
    archive: Archive, db: psycopg.Connection, tmp_path: Path
) -> None:
    name = "dalserver_hips_demo"
    db.execute(f"DROP DATABASE IF EXISTS {name}")
    db.execute(f"CREATE DATABASE {name}")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **archive.env,
        "DALSERVER_DATABASE_URL": psycopg.conninfo.make_conninfo(archive.url, dbname=name),
        "DALSERVER_HOME": str(tmp_path / "home"),
        "DALSERVER_PORT": str(port),
    }
    try:
        first_log = tmp_path / "first.log"
        demo = _start_demo(env, first_log)
        try:
            surveys = _wait_for_surveys(base, demo, first_log)
            assert len(surveys) == SURVEYS
            colour = next(s for s in surveys if s.get("dataproduct_subtype") == "color")
            assert colour["hips_service_url"] == f"{base}/hips/subaru-suprime-cam-color"
            tile = httpx.get(f"{colour['hips_service_url']}/Norder3/Allsky.jpg")
            assert tile.status_code == 200 and tile.headers["content-type"] == "image/jpeg"
        finally:
            _stop(demo)
        assert first_log.read_text().count(": built") == SURVEYS
        second_log = tmp_path / "second.log"
        demo = _start_demo(env, second_log)
        try:
            assert len(_wait_for_surveys(base, demo, second_log)) == SURVEYS
        finally:
            _stop(demo)
        assert second_log.read_text().count(": up to date") == SURVEYS
    finally:
        db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
