"""The layers of the code base (pyproject.toml, [tool.importlinter]) hold: no module imports one above it."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_no_module_imports_a_layer_above_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0, (
        "a module imports one above it; lint-imports prints which"
    )
