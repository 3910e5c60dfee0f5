"""The manual (docs/) builds with Sphinx without a single warning (a link to a page or section that
does not exist, a page in no table of contents, a malformed table, the command reference failing
to import its parser), and the HTML it gives works offline: no page loads anything from another
host."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html

DOCS = Path(__file__).parent.parent / "docs"
# Elements and attributes by which a page loads something, as opposed to links a reader follows.
LOADS = {
    "script": "src",
    "link": "href",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "video": "src",
    "audio": "src",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("manual")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(out / "html")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"sphinx-build -W failed:\n{result.stderr}{result.stdout}"
    assert not result.stderr.strip(), result.stderr  # -q: anything said is a warning
    return out / "html"


def remote(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


def test_the_manual_builds_without_warnings(built: Path) -> None:
    pages = {p.relative_to(built).as_posix() for p in built.rglob("*.html")}
    assert {"index.html", "tutorial/quickstart.html", "operators-guide/cli.html", "adql.html"} <= pages


def test_the_command_reference_lists_every_command(built: Path) -> None:
    text = html.parse(str(built / "operators-guide" / "cli.html")).getroot().text_content()
    for command in ("dalserver serve", "dalserver ingest images", "dalserver drop images", "dalserver hips build"):
        assert command in text, command


def test_the_built_manual_loads_nothing_from_another_host(built: Path) -> None:
    loads = []
    for page in built.rglob("*.html"):
        root = html.parse(str(page)).getroot()
        for tag, attribute in LOADS.items():
            for element in root.iter(tag):
                url = element.get(attribute, "")
                if tag == "link" and element.get("rel") not in {"stylesheet", "preload", "icon", "modulepreload"}:
                    continue
                if remote(url):
                    loads.append(f"{page.relative_to(built)}: <{tag} {attribute}={url}>")
    for sheet in built.rglob("*.css"):
        loads += [f"{sheet.relative_to(built)}: url({u})" for u in _css_urls(sheet.read_text()) if remote(u)]
    assert loads == []


def _css_urls(css: str) -> list[str]:
    return [u.strip("'\"") for u in re.findall(r"url\(([^)]*)\)", css)]
