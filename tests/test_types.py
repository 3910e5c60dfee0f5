"""The type checker holds (pyproject.toml, [tool.mypy]): mypy, strict by default, finds no error in
the packages, every `# type: ignore` names its error code and says why, and a package the project
ships cannot be left out of the check."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tokenize
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CHECKED = PYPROJECT["tool"]["mypy"]["files"]
# the ignore with its code(s) in brackets, then a comment of its own saying why
_REASONED = re.compile(r"type: ignore\[[a-z-]+(, [a-z-]+)*\](\s+#\s*noqa[^#]*)?\s+#\s*(?!noqa)\S")


def _mypy(*arguments: str, cache: Path) -> subprocess.CompletedProcess[str]:
    # A fresh cache per run: nothing left in the checkout, no stale answer from another branch.
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_packages_have_no_type_error(tmp_path: Path) -> None:
    # No arguments: mypy checks the `files` of [tool.mypy], as `.venv/bin/mypy` does.
    run = _mypy(cache=tmp_path)
    assert run.returncode == 0, f"mypy found type errors:\n{run.stdout}{run.stderr}"
    assert "Success: no issues found" in run.stdout


def test_code_the_configuration_does_not_name_is_strict_by_default(tmp_path: Path) -> None:
    # A new module gets the strict defaults: an unannotated function and an ignore without a
    # code are errors, as in the packages.
    module = tmp_path / "newcomer.py"
    module.write_text("def double(x):\n    return 2 * x\n\n\nHALF = 0.5  # type: ignore\n")
    run = _mypy(str(module), cache=tmp_path / "cache")
    assert run.returncode == 1, run.stdout
    assert "[no-untyped-def]" in run.stdout, run.stdout
    assert "[ignore-without-code]" in run.stdout or "[unused-ignore]" in run.stdout, run.stdout


def _comments(path: Path) -> list[tuple[int, str]]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return [(t.start[0], t.string) for t in tokens if t.type == tokenize.COMMENT]


def test_every_type_ignore_names_its_error_code_and_says_why() -> None:
    unexplained = [
        f"{path.relative_to(ROOT)}:{line}: {comment}"
        for name in CHECKED
        for path in sorted((ROOT / name).rglob("*.py"))
        for line, comment in _comments(path)
        if "type: ignore" in comment and not _REASONED.search(comment)
    ]
    assert not unexplained, "write `# type: ignore[code]  # why` (or better, fix the type):\n" + "\n".join(unexplained)


def test_every_package_the_project_ships_is_type_checked() -> None:
    shipped = {pattern.rstrip("*") for pattern in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]}
    layered = set(PYPROJECT["tool"]["importlinter"]["root_packages"])
    missing = sorted((shipped | layered) - set(CHECKED))
    assert not missing, f"add {missing} to `files` in [tool.mypy] (pyproject.toml): new packages are strict"
