"""One archive, whatever the directory: the ``dalserver`` command (real subprocesses) run outside
any archive refuses and creates nothing, with a message saying where it looked and how to point
at the archive; run with DALSERVER_HOME, or anywhere below the directory holding ``.dalserver``,
it works on that archive and names it. Only demo, serve and db init make a managed cluster."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dalserver.db.location import managed_cluster
from dalserver.settings import Settings
from tests.support.archive import Archive


def _clean_environment(**variables: str) -> dict[str, str]:
    """The environment of an operator's shell: no DALSERVER_* setting but ``variables``."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("DALSERVER_") or k == "DALSERVER_PG_BINDIR"}
    return {**kept, **variables}


def _dalserver(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dalserver", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def _files_under(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*"))


@pytest.fixture
def nowhere(tmp_path: Path) -> Path:
    """A working directory with no archive in it or above it."""
    above = [d for d in (tmp_path, *tmp_path.parents) if (d / ".dalserver").is_dir()]
    if above:
        pytest.fail(f"{above[0]}/.dalserver exists, so {tmp_path} is inside an archive: remove it to run this test")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "one.fits").write_bytes(b"")
    (tmp_path / "stars.csv").write_text("ra,dec\n1,2\n")
    return tmp_path


OUTSIDE_AN_ARCHIVE = [
    ["ingest", "images", "images"],
    ["ingest", "catalog", "stars.csv", "--table", "mine.stars"],
    ["drop", "catalog", "mine.stars"],
    ["hips", "build"],
    ["hips", "list"],
    ["registry", "show"],
    ["registry", "refresh"],
    ["db", "status"],
    ["db", "start"],
    ["db", "url"],
    ["sample"],
]


@pytest.mark.parametrize("command", OUTSIDE_AN_ARCHIVE, ids=" ".join)
def test_a_command_outside_any_archive_refuses_saying_where_it_looked_and_creates_nothing(
    nowhere: Path, command: list[str]
) -> None:
    before = _files_under(nowhere)
    done = _dalserver(nowhere, _clean_environment(), *command)
    assert done.returncode == 2, done.stderr
    message = done.stderr
    assert f"no .dalserver directory in {nowhere} or any directory above it" in message
    assert "set DALSERVER_HOME to its home" in message
    assert "run the command in the directory that holds it" in message
    assert "`dalserver db init`" in message
    assert "Traceback" not in message and done.stdout == ""
    assert _files_under(nowhere) == before
    assert not managed_cluster(Settings(home=nowhere / ".dalserver")).root.exists()


def test_a_dalserver_home_that_does_not_exist_is_refused_and_not_created(nowhere: Path) -> None:
    home = nowhere / "archive-typo"
    done = _dalserver(nowhere, _clean_environment(DALSERVER_HOME=str(home)), "ingest", "images", "images")
    assert done.returncode == 2
    assert f"DALSERVER_HOME={home} does not exist" in done.stderr
    assert not home.exists() and not managed_cluster(Settings(home=home)).root.exists()


def test_sample_into_a_directory_writes_files_only(nowhere: Path) -> None:
    done = _dalserver(nowhere, _clean_environment(), "sample", "sample")
    assert done.returncode == 0, done.stderr
    assert len(list((nowhere / "sample").glob("*.fits"))) == 132
    assert not (nowhere / ".dalserver").exists() and "archive:" not in done.stderr


@dataclass
class Site:
    """A data centre's directory: the archive's home is ``root/.dalserver``, made by db init."""

    root: Path
    made: subprocess.CompletedProcess[str]

    @property
    def home(self) -> Path:
        return self.root / ".dalserver"


@pytest.fixture(scope="module")
def site(archive: Archive) -> Iterator[Site]:
    root = Path(tempfile.mkdtemp(prefix="dalserver-site-"))
    root.chmod(0o755)  # when tests run as root, the 'postgres' account must reach the cluster
    made = _dalserver(root, _clean_environment(), "db", "init")
    try:
        assert made.returncode == 0, made.stderr
        # One image of the session's sample, in the site's archive directory.
        images = root / ".dalserver" / "archive" / "night1"
        images.mkdir(parents=True)
        first = sorted((archive.settings.archive_root / "suprimecam").glob("*.fits"))[0]
        shutil.copy(first, images)
        yield Site(root, made)
    finally:
        managed_cluster(Settings(home=root / ".dalserver")).stop()
        shutil.rmtree(root, ignore_errors=True)


def test_db_init_makes_the_archive_in_the_working_directory(site: Site) -> None:
    assert managed_cluster(Settings(home=site.home)).is_initialised()
    assert f"archive: home {site.home} (new: no .dalserver in {site.root} or above it)" in site.made.stderr
    assert "database ready" in site.made.stdout


def test_below_the_archives_directory_every_command_finds_it(site: Site) -> None:
    below = site.root / "reductions" / "night1"
    below.mkdir(parents=True, exist_ok=True)
    env = _clean_environment()
    named = (
        f"archive: home {site.home} (found above the working directory {below}); database the managed cluster in "
        f"{managed_cluster(Settings(home=site.home)).data_dir} (database dalserver); public URL http://127.0.0.1:8000"
    )
    status = _dalserver(below, env, "db", "status")
    assert status.returncode == 0 and status.stdout.startswith("running"), status.stderr
    assert named in status.stderr
    shown = _dalserver(below, env, "registry", "show")
    assert shown.returncode == 0 and "ivo://dalserver.demo/tap" in shown.stdout, shown.stderr
    assert named in shown.stderr
    assert not (below / ".dalserver").exists()


def test_with_dalserver_home_every_command_works_on_that_archive_from_anywhere(site: Site, nowhere: Path) -> None:
    env = _clean_environment(DALSERVER_HOME=str(site.home), DALSERVER_PORT="8765")
    named = f"archive: home {site.home} (from DALSERVER_HOME);"
    before = _files_under(nowhere)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = _dalserver(nowhere, env, *args)
        assert done.returncode == 0, done.stderr
        assert named in done.stderr and "public URL http://127.0.0.1:8765" in done.stderr
        return done

    ingested = run("ingest", "images", "--quiet", str(site.home / "archive" / "night1"))
    assert "ingested 1 images" in ingested.stdout
    built = run("hips", "build", "--no-color", "--tile-width", "64", "--quiet")
    assert f"HiPS surveys under {site.home / 'hips'}" in built.stdout
    run("ingest", "catalog", str(nowhere / "stars.csv"), "--table", "mine.stars", "--quiet")
    assert "ivo://dalserver.demo/mine/stars" in run("registry", "show").stdout
    run("drop", "catalog", "mine.stars")
    assert "ivo://dalserver.demo/mine/stars\tdeleted" in run("registry", "show").stdout
    assert run("db", "status").stdout.startswith("running")
    assert _files_under(nowhere) == before


def test_a_database_url_is_named_without_its_password(nowhere: Path) -> None:
    home = nowhere / "home"
    home.mkdir()
    url = "postgresql://archivist:not-the-password@db.example.org/archive"
    done = _dalserver(nowhere, _clean_environment(DALSERVER_HOME=str(home), DALSERVER_DATABASE_URL=url), "hips", "list")
    assert done.returncode == 0, done.stderr  # listing the surveys needs no connection
    assert (
        f"archive: home {home} (from DALSERVER_HOME); database postgresql://archivist:***@db.example.org/archive;"
        in (done.stderr)
    )
    assert "not-the-password" not in done.stderr + done.stdout
