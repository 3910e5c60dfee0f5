"""The README's examples run as written, against the test server: every ```python block in order
(later blocks use what earlier ones defined, as a reader typing them in would), and the shell
block of curl commands. Only the demo's address is replaced by the test server's."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from astropy.io import fits

from tests.support.archive import Archive
from tests.support.registry import refresh_records

README = Path(__file__).parent.parent / "README.md"
DEMO = "http://127.0.0.1:8000"


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def test_the_readme_has_the_examples_this_test_runs() -> None:
    python = code_blocks("python")
    assert len(python) >= 4 and any("TapPlus" in b for b in python) and any("processed(" in b for b in python)
    assert any("curl" in b for b in code_blocks("sh"))


def test_the_python_examples_run_against_the_server(server: str, archive: Archive, tmp_path: Path) -> None:
    refresh_records(archive.env)  # the registry example goes where RegTAP's records say
    script = "\n\n".join(block.replace(DEMO, server) for block in code_blocks("python"))
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "obs_id" in result.stdout and "em_band_name" in result.stdout
    assert "no pixel" not in result.stdout  # the cutout example cuts pixels out


def test_the_curl_examples_run_and_the_cutout_is_a_fits_image(server: str, tmp_path: Path) -> None:
    assert shutil.which("curl")
    (block,) = [b for b in code_blocks("sh") if "curl" in b]
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
