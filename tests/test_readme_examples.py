"""The examples of the README and of the manual (docs/) run as written, against the test server:
each page's ```python blocks in order, as one script (later blocks use what earlier ones defined,
as a reader typing them in would), and its shell blocks of curl commands. Only the demo's address
is replaced by the test server's.

EXAMPLES names every page that has such examples and how many: a block added, moved to another
page or removed fails the inventory test until the table says so, so no example silently stops
being run."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from astropy.io import fits

from tests.support.archive import Archive
from tests.support.registry import refresh_records

ROOT = Path(__file__).parent.parent
DEMO = "http://127.0.0.1:8000"
# A fenced block and its info string; MyST directives (```{toctree}) are not examples.
FENCE = re.compile(r"^```([^\n`{]*)\n(.*?)^```", flags=re.S | re.M)
PYTHON_SPELLINGS = {"py", "python3", "pycon", "ipython", "ipython3"}
SHELL_SPELLINGS = {"bash", "shell", "console", "shell-session", "zsh"}


@dataclass(frozen=True)
class Examples:
    python: int  # ```python blocks, run as one script
    curl: int  # ```sh blocks with curl commands, each run by bash
    prints: tuple[str, ...] = ()  # what the page's script must print


EXAMPLES = {
    "README.md": Examples(python=1, curl=0, prints=("obs_id",)),
    "docs/tutorial/quickstart.md": Examples(python=4, curl=1, prints=("obs_id", "em_band_name")),
    "docs/protocols/registry.md": Examples(python=1, curl=0, prints=("ivo://",)),
    "docs/operators-guide/crawler.md": Examples(python=2, curl=0),  # the session's archive crawls nothing
    # The session's archive has no accounts: pyvo's AuthSession goes anonymous, as it should.
    "docs/operators-guide/access.md": Examples(python=1, curl=0, prints=("rows visible",)),
}


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(page: Path) -> list[tuple[str, str]]:
    """(language, text) of each fenced code block of ``page``."""
    return [(info.strip().split(" ")[0], body) for info, body in FENCE.findall(page.read_text())]


def python_blocks(page: str) -> list[str]:
    return [body for language, body in blocks(ROOT / page) if language == "python"]


def curl_blocks(page: str) -> list[str]:
    return [body for language, body in blocks(ROOT / page) if language == "sh" and "curl " in body]


def test_every_page_with_examples_is_listed_with_its_examples() -> None:
    found = {}
    for page in pages():
        name = page.relative_to(ROOT).as_posix()
        counts = (len(python_blocks(name)), len(curl_blocks(name)))
        if counts != (0, 0):
            found[name] = counts
    assert found == {name: (e.python, e.curl) for name, e in EXAMPLES.items()}


def test_examples_are_written_in_the_languages_this_test_runs() -> None:
    """A Python example fenced as ```py, or curl commands as ```bash, would not be run."""
    for page in pages():
        for language, body in blocks(page):
            assert language not in PYTHON_SPELLINGS, f"{page}: write ```python so that the example is run"
            if "curl " in body:
                assert language not in SHELL_SPELLINGS, f"{page}: write ```sh so that the curl example is run"


def test_the_tutorial_has_the_examples_of_every_client() -> None:
    python = python_blocks("docs/tutorial/quickstart.md")
    assert any("TapPlus" in b for b in python) and any("processed(" in b for b in python)
    assert any("submit_job" in b and "uploads=" in b for b in python)
    assert any("regsearch" in b for b in python_blocks("docs/protocols/registry.md"))


@pytest.mark.parametrize("page", [name for name, e in EXAMPLES.items() if e.python])
def test_the_python_examples_run_against_the_server(page: str, server: str, archive: Archive, tmp_path: Path) -> None:
    script = "\n\n".join(block.replace(DEMO, server) for block in python_blocks(page))
    if "regsearch" in script:
        refresh_records(archive.env)  # the registry example goes where RegTAP's records say
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for expected in EXAMPLES[page].prints:
        assert expected in result.stdout, result.stdout
    assert "no pixel" not in result.stdout  # the cutout example cuts pixels out


@pytest.mark.parametrize("page", [name for name, e in EXAMPLES.items() if e.curl])
def test_the_curl_examples_run_and_the_cutout_is_a_fits_image(page: str, server: str, tmp_path: Path) -> None:
    assert shutil.which("curl")
    for block in curl_blocks(page):
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.replace(DEMO, server)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        assert "</VOTABLE>" in result.stdout
    with fits.open(tmp_path / "cutout.fits") as cutout:
        assert cutout[0].data is not None or cutout[1].data is not None
