"""docker/ builds a complete image (read from the files: no container engine runs here): the
Dockerfile copies everything ``pip install .`` needs (every package pyproject.toml's setuptools
finder includes, with its package data, and the readme and licence the metadata names), the
build context does not leave any of it out, and compose.yaml agrees with both Dockerfiles."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from dalserver.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each logical line: continuations joined, comments dropped."""
    logical, current = [], ""
    for line in dockerfile.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip()) for text in logical]


def _words(arguments: str) -> list[str]:
    """An instruction's words, in its exec (JSON) or shell form."""
    return json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)


def copied_sources(dockerfile: str) -> list[str]:
    """The build-context paths COPY and ADD take (normalised: no ./, no trailing /)."""
    sources = []
    for instruction, arguments in instructions(dockerfile):
        if instruction not in ("COPY", "ADD"):
            continue
        words = _words(arguments)
        if any(w.startswith("--from") for w in words):
            continue  # from another stage, not from the context
        paths = [w for w in words if not w.startswith("--")][:-1]
        sources += [str(Path(p)) if p not in (".", "./") else "." for p in paths]
    return sources


def environment(dockerfile: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for instruction, arguments in instructions(dockerfile):
        if instruction == "ENV":
            found.update(w.split("=", 1) for w in shlex.split(arguments) if "=" in w)  # type: ignore[misc]  # two parts: each word holds "="
    return found


def install_needs(pyproject: dict[str, Any]) -> dict[str, str]:
    """What a build of the project reads, each with why: pyproject.toml, the readme and licence
    files its metadata names, and the top-level package of every setuptools include pattern."""
    project = pyproject["project"]
    needs = {"pyproject.toml": "the project file"}
    readme = project.get("readme")
    if readme:
        needs[readme if isinstance(readme, str) else readme["file"]] = "[project] readme"
    for name in project.get("license-files", []):
        needs[name] = "[project] license-files"
    for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]:
        needs[pattern.rstrip("*").split(".")[0]] = f"a package of [tool.setuptools.packages.find] include ({pattern})"
    for package in pyproject["tool"]["setuptools"].get("package-data", {}):
        needs.setdefault(package.split(".")[0], "[tool.setuptools.package-data]")
    return needs


def _covers(source: str, path: str) -> bool:
    return source == "." or path == source or path.startswith(source + "/")


def ignored(patterns: list[str], path: str) -> bool:
    """Whether .dockerignore leaves ``path`` out of the build context (a pattern matches it or a
    directory above it; the last matching pattern decides, ``!`` taking the path back in).
    fnmatch's ``*`` also crosses ``/``: this errs towards finding a file ignored."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for pattern in patterns:
        keep = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        globs = {glob, glob[3:]} if glob.startswith("**/") else {glob}
        if any(fnmatch.fnmatchcase(c, g) for c in candidates for g in globs):
            verdict = not keep
    return verdict


def _dockerignore() -> list[str]:
    path = ROOT / ".dockerignore"
    lines = path.read_text().splitlines() if path.exists() else []
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DOCKERFILE = (DOCKER / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text())


@pytest.mark.parametrize(("path", "why"), sorted(install_needs(PYPROJECT).items()))
def test_the_image_copies_everything_the_install_reads(path: str, why: str) -> None:
    sources = copied_sources(DOCKERFILE)
    assert any(_covers(s, path) for s in sources), (
        f"docker/Dockerfile does not COPY {path} ({why}); it copies {sources}"
    )
    assert (ROOT / path).exists(), f"{path} ({why}) is not in the repository"


def test_every_file_of_the_installed_packages_reaches_the_build_context() -> None:
    packages = [p for p, why in install_needs(PYPROJECT).items() if (ROOT / p).is_dir()]
    files = [f for p in packages for f in (ROOT / p).rglob("*") if f.is_file()]
    wanted = [str(f.relative_to(ROOT)) for f in files if "__pycache__" not in f.parts and f.suffix != ".pyc"]
    wanted += [p for p in install_needs(PYPROJECT) if (ROOT / p).is_file()]
    left_out = [path for path in wanted if ignored(_dockerignore(), path)]
    assert left_out == [], f".dockerignore leaves out files the install needs: {left_out[:10]}"


def test_the_build_context_leaves_out_the_local_archive_and_virtualenv() -> None:
    for path in (".dalserver/db/pgdata/PG_VERSION", ".venv/bin/python", ".git/HEAD"):
        assert ignored(_dockerignore(), path), f".dockerignore sends {path} to the builder"


def test_the_ignore_rules_read_as_docker_reads_them() -> None:
    rules = ["**/__pycache__", "*.egg-info", ".dalserver", "docs", "!docs/keep.md"]
    assert ignored(rules, "dalserver/tap/__pycache__/sync.cpython-311.pyc")
    assert ignored(rules, "dalserver.egg-info/PKG-INFO")
    assert not ignored(rules, "dalserver/web/static/app.js")
    assert ignored(rules, "docs/other.md") and not ignored(rules, "docs/keep.md")


def test_the_copy_list_is_read_in_every_form_docker_takes() -> None:
    dockerfile = (
        "FROM x AS build\n# COPY not-this ./\nCOPY a.toml b.md \\\n     ./\nCOPY --chown=u:g pkg/ /src/pkg\n"
        'COPY ["other", "/src/other"]\nCOPY --from=build /opt /opt\nADD . /all\n'
    )
    assert copied_sources(dockerfile) == ["a.toml", "b.md", "pkg", "other", "."]


APPS = ("app", "app2")  # the app servers behind the proxy


def test_compose_builds_both_images_from_the_dockerfiles_here() -> None:
    for service, dockerfile in (
        ("app", "Dockerfile"),
        ("app2", "Dockerfile"),
        ("db", "db.Dockerfile"),
        ("standby", "db.Dockerfile"),
    ):
        build = COMPOSE["services"][service]["build"]
        assert ((DOCKER / build["context"]) / build["dockerfile"]).resolve() == DOCKER / dockerfile
    for app in APPS:
        assert (DOCKER / COMPOSE["services"][app]["build"]["context"]).resolve() == ROOT  # COPY paths are the repo's


@pytest.mark.parametrize("app", APPS)
def test_the_apps_database_is_the_db_service_and_their_replica_the_standby_as_set_up(app: str) -> None:
    service, db, standby = (COMPOSE["services"][s] for s in (app, "db", "standby"))
    for variable, host in (("DALSERVER_DATABASE_URL", "db"), ("DALSERVER_REPLICA_URLS", "standby")):
        url = urlsplit(service["environment"][variable])
        assert url.hostname == host and (url.port or 5432) == 5432
        assert url.username == db["environment"]["POSTGRES_USER"] == standby["environment"]["POSTGRES_USER"]
        assert url.password == db["environment"]["POSTGRES_PASSWORD"] == standby["environment"]["PGPASSWORD"]
        assert url.path.lstrip("/") == db["environment"]["POSTGRES_DB"]
    # the second app starts once the first has set the archive up (bootstrap, the demo's sample)
    first = COMPOSE["services"]["app"]["depends_on"]
    assert first["db"]["condition"] == first["standby"]["condition"] == "service_healthy"
    assert COMPOSE["services"]["app2"]["depends_on"]["app"]["condition"] == "service_healthy"


def test_the_standby_is_copied_from_the_primary_which_lets_it_replicate() -> None:
    standby = COMPOSE["services"]["standby"]
    script_mount = next(v for v in standby["volumes"] if v.startswith("./"))
    script, target = script_mount.split(":")[:2]
    assert standby["entrypoint"] == ["sh", target]
    text = (DOCKER / script).read_text()
    assert "pg_basebackup" in text and "--write-recovery-conf" in text and "$PRIMARY_HOST" in text
    assert standby["environment"]["PRIMARY_HOST"] == "db"
    assert "hot_standby_feedback=on" in text
    db = COMPOSE["services"]["db"]
    init = next(v for v in db["volumes"] if v.startswith("./"))
    assert init.split(":")[1].startswith("/docker-entrypoint-initdb.d/")
    assert "host replication" in (DOCKER / init.split(":")[0]).read_text()
    assert standby["depends_on"]["db"]["condition"] == "service_healthy"


def test_the_database_image_has_pgsphere_for_its_postgresql() -> None:
    steps = instructions((DOCKER / "db.Dockerfile").read_text())
    base = next(arguments for instruction, arguments in steps if instruction == "FROM")
    major = base.split(":")[1].split("-")[0]
    assert any(f"postgresql-{major}-pgsphere" in arguments for instruction, arguments in steps if instruction == "RUN")


def test_the_proxy_publishes_the_apps_which_share_the_archive_home_in_a_volume() -> None:
    env = environment(DOCKERFILE)
    exposed = {arguments for instruction, arguments in instructions(DOCKERFILE) if instruction == "EXPOSE"}
    assert exposed == {env["DALSERVER_PORT"]} and env["DALSERVER_HOST"] == "0.0.0.0"
    proxy = COMPOSE["services"]["proxy"]
    conf_mount = next(v for v in proxy["volumes"] if v.startswith("./"))
    conf = (DOCKER / conf_mount.split(":")[0]).read_text()
    listen = re.search(r"^\s*listen (\d+);", conf, re.MULTILINE)
    assert listen is not None and {p.rsplit(":", 1)[1] for p in proxy["ports"]} == {listen.group(1)}
    upstream = set(re.findall(r"^\s*server ([\w-]+):(\d+);", conf, re.MULTILINE))
    assert upstream == {(app, env["DALSERVER_PORT"]) for app in APPS}
    assert "proxy_buffering off" in conf  # answers stream
    homes = set()
    for app in APPS:
        service = COMPOSE["services"][app]
        assert "ports" not in service, "only the proxy is published"
        mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        assert env["DALSERVER_HOME"] in mounts, "the archive's home (surveys, job results) would die with the container"
        homes.add(mounts[env["DALSERVER_HOME"]])
        assert all(v.split(":")[0] in COMPOSE["volumes"] for v in service["volumes"])
        assert service["environment"]["DALSERVER_BASE_URL"] == "http://localhost:8000"
    assert len(homes) == 1, "any app server serves any async job's result: they share the home"


def test_the_commands_the_image_and_compose_run_are_dalserver_commands() -> None:
    cmd = next(_words(arguments) for instruction, arguments in instructions(DOCKERFILE) if instruction == "CMD")
    for command in (cmd, *(COMPOSE["services"][app]["command"] for app in APPS)):
        assert command[0] == "dalserver"
        build_parser().parse_args(command[1:])


def _matches(relative: str, pattern: str) -> bool:
    """setuptools' package-data glob: ``*`` stays within one directory."""
    parts, globs = relative.split("/"), pattern.split("/")
    return len(parts) == len(globs) and all(fnmatch.fnmatchcase(p, g) for p, g in zip(parts, globs, strict=True))


def test_every_data_file_of_the_packages_is_installed_with_them() -> None:
    # The image installs with `pip install .`, not in editable mode: a file that no package-data
    # pattern names is left out of it, however the Dockerfile copies its directory.
    package_data = PYPROJECT["tool"]["setuptools"].get("package-data", {})
    packages = [p for p in install_needs(PYPROJECT) if (ROOT / p).is_dir()]
    left_out = []
    for package in packages:
        for path in (ROOT / package).rglob("*"):
            if not path.is_file() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            relative = path.relative_to(ROOT / package).as_posix()
            if not any(_matches(relative, g) for g in package_data.get(package, [])):
                left_out.append(f"{package}/{relative}")
    assert left_out == [], f"no [tool.setuptools.package-data] pattern installs {left_out[:10]}"
