"""``dalserver demo`` serves what it says: the settings it makes (upload by http(s) URL, which TAP
requires of a service taking uploads) reach the server's worker processes, which are new
processes reading their settings from the environment."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
from lxml import etree

from tests.support.archive import Archive
from tests.support.servers import free_port

UPLOAD_BY_URL = {"ivo://ivoa.net/std/TAPRegExt#upload-http", "ivo://ivoa.net/std/TAPRegExt#upload-https"}


def _wait_until_served(base: str, demo: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        assert demo.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/tap/availability", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise AssertionError("the demo did not serve in 10 minutes:\n" + log.read_text())


def _upload_methods(base: str) -> set[str]:
    with httpx.Client() as client:  # a connection of its own: the kernel picks the worker
        capabilities = etree.fromstring(client.get(f"{base}/tap/capabilities").content)
    return {m.get("ivo-id") for m in capabilities.iter("{*}uploadMethod")}


def test_the_demos_upload_by_url_is_on_in_its_workers(archive: Archive, db: psycopg.Connection, tmp_path: Path) -> None:
    name = "dalserver_demo_settings"
    db.execute(f"DROP DATABASE IF EXISTS {name}")
    db.execute(f"CREATE DATABASE {name}")
    home = tmp_path / "home"
    sample = home / "archive" / "suprimecam"
    sample.mkdir(parents=True)
    # One image of the sample, so the demo neither writes the other 131 nor builds their surveys.
    shutil.copy(sorted((archive.settings.archive_root / "suprimecam").glob("*.fits"))[0], sample)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in archive.env.items() if k != "DALSERVER_UPLOAD_URL_FETCH"}  # the demo's own choice
    env.update(
        DALSERVER_DATABASE_URL=psycopg.conninfo.make_conninfo(archive.url, dbname=name),
        DALSERVER_HOME=str(home),
        DALSERVER_PORT=str(port),
    )
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "dalserver", "--log-level", "warning", "demo", "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_served(base, demo, log)
        for _ in range(6):
            assert _upload_methods(base) >= UPLOAD_BY_URL
        # Loopback addresses are never fetched, by design: the refusal says why, not "switched off".
        answer = httpx.post(
            f"{base}/tap/sync",
            data={"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.mine", "UPLOAD": f"mine,{base}/tap/capabilities"},
        )
        assert answer.status_code == 400
        assert "points to a private or local address" in answer.text and "switched off" not in answer.text
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=60)
        db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
