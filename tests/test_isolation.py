"""The suite never reads a real archive: not the checkout's own ``.dalserver`` (where ``./dev demo``
keeps its data), nor the developer's DALSERVER_* settings, in-process or in the commands it runs."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dalserver.home import HOME_DIR_NAME, HomeSource, locate_home
from dalserver.settings import Settings
from tests.support.isolation import KEPT_VARIABLES

SESSION_HOME = Path(os.environ["DALSERVER_HOME"])
# Built at import, as some test modules build theirs: before any fixture could run.
AT_IMPORT = Settings()


def test_settings_built_anywhere_in_a_test_get_the_sessions_empty_home() -> None:
    checkouts = Path.cwd() / HOME_DIR_NAME
    for settings in (AT_IMPORT, Settings()):
        assert settings.home == SESSION_HOME != checkouts
        assert settings.hips_root.is_relative_to(SESSION_HOME)
        assert settings.archive_root.is_relative_to(SESSION_HOME)
    assert locate_home().source is HomeSource.VARIABLE
    assert not any(SESSION_HOME.iterdir()), "a test left files in the session's shared home"


def test_no_other_dalserver_setting_of_the_developer_reaches_the_tests() -> None:
    kept = {v for v in os.environ if v.startswith("DALSERVER_")}
    assert kept <= KEPT_VARIABLES | {"DALSERVER_HOME"}


@pytest.mark.parametrize("read", ["open", "listdir", "glob"])
def test_reading_the_checkouts_own_archive_fails_the_test(read: str) -> None:
    archive = Path.cwd() / HOME_DIR_NAME
    with pytest.raises(pytest.fail.Exception, match="never on a real archive"):
        if read == "open":
            (archive / "hips" / "some-survey" / "properties").read_text()
        elif read == "listdir":
            os.listdir(archive)
        else:  # glob.glob audits before it looks: a clean clone has no ./.dalserver to look into
            glob.glob(str(archive / "hips" / "*"))


def test_a_command_run_by_a_test_works_on_the_sessions_home_not_the_checkouts() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dalserver", "hips", "list"], capture_output=True, text=True, timeout=120
    )
    # It names the archive it works on (or, the session's home holding no database unless
    # DALSERVER_DATABASE_URL names one, the archive it looked for).
    assert f"home {SESSION_HOME} (from DALSERVER_HOME)" in done.stderr, done.stderr
    assert str(Path.cwd() / HOME_DIR_NAME) not in done.stderr
