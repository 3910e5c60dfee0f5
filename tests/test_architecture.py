"""The architecture of the code base (pyproject.toml, [tool.importlinter]) holds: no module imports
a layer above it, and offline work (the ingest, the HiPS build, the VO crawler) is imported by the
command line only, never by anything a server worker loads."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
OFFLINE = {"data_ingest", "hips_build", "vo_crawl"}


def _lint(monkeypatch: pytest.MonkeyPatch, contract: str) -> int:
    monkeypatch.chdir(ROOT)
    return lint_imports(config_filename=str(ROOT / "pyproject.toml"), limit_to_contracts=(contract,), no_cache=True)


def test_no_module_imports_a_layer_above_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _lint(monkeypatch, "layers") == 0, "a module imports one above it; lint-imports prints which"


def test_nothing_the_server_loads_imports_offline_work(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _lint(monkeypatch, "offline") == 0, "a server module imports offline work; lint-imports prints the chain"


def test_the_offline_contract_names_every_offline_package_and_the_servers_root() -> None:
    (offline,) = [c for c in CONFIG["contracts"] if c.get("id") == "offline"]
    assert offline["type"] == "forbidden" and not offline.get("allow_indirect_imports")
    assert set(offline["forbidden_modules"]) == OFFLINE
    assert offline["source_modules"] == ["dalserver.http.serving", "dalserver.app"]


def test_the_contract_covers_the_server_modules_that_used_to_import_offline_packages() -> None:
    # The contract starts from dalserver.app: it holds for these only while the app reaches them.
    graph = grimp.build_graph(*CONFIG["root_packages"])
    for module in (
        "dalserver.records.build",
        "dalserver.records.state",
        "dalserver.registry.routes",
        "dalserver.moc.routes",
        "dalserver.hips.routes",
    ):
        assert graph.chain_exists(importer="dalserver.app", imported=module), module


def test_offline_work_is_imported_by_the_command_line_or_modules_only_it_imports() -> None:
    graph = grimp.build_graph(*CONFIG["root_packages"])
    importers = {
        importer
        for package in OFFLINE & set(CONFIG["root_packages"])
        for module in graph.find_descendants(package) | {package}
        for importer in graph.find_modules_that_directly_import(module)
        if importer.split(".")[0] not in OFFLINE
    }
    assert "dalserver.cli" in importers
    for importer in importers - {"dalserver.cli"}:
        assert graph.find_downstream_modules(importer) <= {"dalserver.cli", "dalserver.__main__"}, importer


# Libraries a request loads when it needs them (a cutout, a preview, a quick look, a MOC): a worker
# that has served nothing else must not carry them (tests/tap/test_streaming.py measures the RSS).
# Smaller ones too: argon2 (a login), zipstream (a zip download).
LOADED_ON_DEMAND = (
    *("astropy", "scipy", "PIL", "mocpy", "cdshealpix", "pyarrow.dataset", "prov", "reproject"),
    *("argon2", "zipstream"),
)


def test_a_workers_app_loads_no_science_library_until_a_request_needs_one() -> None:
    code = f"import sys, dalserver.app; print(' '.join(m for m in {LOADED_ON_DEMAND!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == [], f"importing the app loads {done.stdout.strip()}: import them where they are used"


# The process `dalserver serve` becomes once the archive is ready supervises the workers for the
# server's whole life: it must not load what they or the set-up use (tests/test_serving.py reads
# a running supervisor's memory map; this catches an import that would bring them in, without one).
SUPERVISOR_MUST_NOT_LOAD = ("numpy", "pyarrow", "psycopg", "pydantic", "lxml", "fastapi", "yaml", "lark", "astropy")


def test_the_workers_supervisor_imports_no_library_of_the_app_or_the_set_up() -> None:
    code = (
        "import sys, dalserver.http.supervisor as s, dalserver.http.serving, dalserver.db.watchdog; "
        f"print(' '.join(m for m in {SUPERVISOR_MUST_NOT_LOAD!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == [], f"the supervisor's imports load {done.stdout.strip()}"
