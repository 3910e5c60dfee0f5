"""How a command finds its archive (no database): DALSERVER_HOME, else the nearest .dalserver at
or above the working directory; the line naming the archive, its password hidden; the refusal
when there is none; and settings handed to worker processes through the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from dalserver.db.location import ArchiveNotFound, describe_archive, hide_password, require_archive
from dalserver.home import HomeLocation, HomeSource, locate_home
from dalserver.settings import Settings


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    """site/.dalserver, and a working directory two levels below site."""
    site = tmp_path / "site"
    (site / ".dalserver").mkdir(parents=True)
    below = site / "reductions" / "night1"
    below.mkdir(parents=True)
    return site, below


def test_dalserver_home_wins_over_any_dalserver_directory_around(tmp_path: Path) -> None:
    site, below = _tree(tmp_path)
    found = locate_home(below, {"DALSERVER_HOME": str(tmp_path / "elsewhere")})
    assert found == HomeLocation(tmp_path / "elsewhere", HomeSource.VARIABLE, below)


def test_a_relative_dalserver_home_is_taken_from_the_working_directory(tmp_path: Path) -> None:
    found = locate_home(tmp_path, {"DALSERVER_HOME": "archives/../main"})
    assert found.path == tmp_path / "main" and found.path.is_absolute()


def test_the_nearest_dalserver_directory_above_the_working_directory_is_the_home(tmp_path: Path) -> None:
    site, below = _tree(tmp_path)
    found = locate_home(below, {})
    assert (found.path, found.source) == (site / ".dalserver", HomeSource.FOUND)
    assert found.how_found() == f"found above the working directory {below}"
    assert locate_home(site, {}).how_found() == "in the working directory"


def test_a_nearer_dalserver_directory_hides_one_further_up(tmp_path: Path) -> None:
    site, below = _tree(tmp_path)
    (below / ".dalserver").mkdir()
    assert locate_home(below, {}).path == below / ".dalserver"


def test_a_dalserver_file_is_not_a_home(tmp_path: Path) -> None:
    site, below = _tree(tmp_path)
    (below / ".dalserver").write_text("not a directory")
    assert locate_home(below, {}).path == site / ".dalserver"


def test_with_no_home_anywhere_a_new_one_is_named_in_the_working_directory(tmp_path: Path) -> None:
    if any((d / ".dalserver").is_dir() for d in tmp_path.parents):
        pytest.fail(f"a .dalserver directory above {tmp_path} makes this test meaningless: remove it")
    found = locate_home(tmp_path, {"DALSERVER_HOME": ""})
    assert (found.path, found.source, found.exists) == (tmp_path / ".dalserver", HomeSource.NEW, False)


def test_settings_find_the_home_as_commands_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site, below = _tree(tmp_path)
    monkeypatch.delenv("DALSERVER_HOME")
    monkeypatch.chdir(below)
    assert Settings().home == site / ".dalserver"
    monkeypatch.setenv("DALSERVER_HOME", "relative/home")
    assert Settings().home == below / "relative" / "home"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://archivist:s3cr%40t@db.example.org:5433/archive",
            "postgresql://archivist:***@db.example.org:5433/archive",
        ),
        ("postgresql://archivist@db.example.org/archive", "postgresql://archivist@db.example.org/archive"),
        ("postgresql:///archive?host=/run/pg&password=s3cret", "postgresql:///archive?host=/run/pg&password=***"),
        ("host=db dbname=archive password=s3cret user=a", "host=db dbname=archive password=*** user=a"),
        ("host=db password='a \\' b' user=a", "host=db password=*** user=a"),
    ],
)
def test_a_database_password_is_never_shown(url: str, shown: str) -> None:
    assert hide_password(url) == shown


def test_the_archive_line_names_home_database_and_public_url(tmp_path: Path) -> None:
    home = HomeLocation(tmp_path / ".dalserver", HomeSource.VARIABLE, tmp_path)
    settings = Settings(
        home=home.path, database_url="postgresql://u:pw@db/archive", base_url="https://archive.example.org/vo/"
    )
    assert describe_archive(settings, home) == (
        f"archive: home {home.path} (from DALSERVER_HOME); database postgresql://u:***@db/archive; "
        "public URL https://archive.example.org/vo"
    )


def test_no_home_found_says_where_it_looked_and_how_to_point_at_one(tmp_path: Path) -> None:
    home = HomeLocation(tmp_path / ".dalserver", HomeSource.NEW, tmp_path)
    with pytest.raises(ArchiveNotFound) as raised:
        require_archive(Settings(home=home.path), home)
    message = raised.value.message
    assert f"no .dalserver directory in {tmp_path} or any directory above it" in message
    assert "set DALSERVER_HOME" in message and "dalserver db init" in message


def test_a_dalserver_home_that_does_not_exist_is_named(tmp_path: Path) -> None:
    home = HomeLocation(tmp_path / "typo", HomeSource.VARIABLE, tmp_path)
    with pytest.raises(ArchiveNotFound, match=f"DALSERVER_HOME={tmp_path / 'typo'} does not exist"):
        require_archive(Settings(home=home.path), home)


def test_a_home_without_a_database_says_so(tmp_path: Path) -> None:
    site, below = _tree(tmp_path)
    home = locate_home(below, {})
    with pytest.raises(ArchiveNotFound) as raised:
        require_archive(Settings(home=home.path), home)
    assert f"the archive home {site / '.dalserver'} (found above the working directory {below}) has no database" in (
        raised.value.message
    )
    assert "DALSERVER_DATABASE_URL" in raised.value.message


def test_a_home_with_a_database_url_is_an_archive(tmp_path: Path) -> None:
    site, below = _tree(tmp_path)
    home = locate_home(below, {})
    require_archive(Settings(home=home.path, database_url="postgresql://db/archive"), home)


def test_settings_exported_to_the_environment_are_the_settings_a_new_process_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = Settings(
        home=tmp_path,
        upload_url_fetch=True,
        port=8123,
        statement_timeout_seconds=2.5,
        hips_dir=tmp_path / "surveys",
        title="An archive: with 'quotes'",
    ).model_copy(update={"base_url": None})
    environ = {"DALSERVER_BASE_URL": "http://stale.example.org", "PATH": "/usr/bin"}
    given.export(environ)
    assert "DALSERVER_BASE_URL" not in environ and environ["PATH"] == "/usr/bin"
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert Settings() == given
