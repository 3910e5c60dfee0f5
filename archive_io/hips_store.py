"""Where HiPS surveys live (written by ``hips_build``, read by the server's ``/hips`` and the
registry), and how a new build replaces the served one without a reader ever seeing half of it: a build is written into ``<hips dir>/.builds/<name>@<stamp>.partial``, renamed when
complete, and published by replacing the symbolic link ``<hips dir>/<name>`` in one rename. A
build that stops half way leaves the link, and so the served survey, as it was; its partial
directory is removed by the next build. The build before the current one is kept (a reader may
still be in it), older ones are removed.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archive_io import hips_properties as props

BUILDS = ".builds"
PARTIAL = ".partial"


@dataclass(frozen=True)
class PublishedSurvey:
    """A survey as served: its name (``/hips/<name>``), its directory and its properties."""

    name: str
    directory: Path
    properties: dict[str, str]

    @property
    def creator_did(self) -> str:
        return self.properties.get("creator_did", "")

    @property
    def title(self) -> str:
        return self.properties.get("obs_title", self.name)

    @property
    def moc(self) -> Path | None:
        path = self.directory / "Moc.fits"
        return path if path.is_file() else None

    def service_url(self, base_url: str) -> str:
        """Its HiPS base URL on a server whose public URL is ``base_url``."""
        return f"{base_url.rstrip('/')}/hips/{self.name}"

    def hipslist_record(self, base_url: str) -> dict[str, str]:
        return {**self.properties, "hips_service_url": self.service_url(base_url)}


class HipsStore:
    def __init__(self, root: Path):
        self.root = root

    @property
    def builds(self) -> Path:
        return self.root / BUILDS

    def current(self, name: str) -> Path | None:
        """The build directory now published as ``name``."""
        link = self.root / name
        if not link.is_symlink():
            return None
        target = link.resolve()
        return target if target.is_dir() else None

    def stage(self, name: str) -> Path:
        """A new, empty directory to build ``name`` in; partial builds of it left by an
        interrupted run are removed first."""
        self.builds.mkdir(parents=True, exist_ok=True)
        for stale in self.builds.glob(f"{name}@*{PARTIAL}"):
            shutil.rmtree(stale, ignore_errors=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        staged = self.builds / f"{name}@{stamp}-{os.getpid()}{PARTIAL}"
        staged.mkdir()
        return staged

    def publish(self, name: str, staged: Path) -> Path:
        """Make the complete build ``staged`` the one served as ``name``, in one rename."""
        link = self.root / name
        if link.exists() and not link.is_symlink():
            raise RuntimeError(f"{link} is a directory, not a link dalserver made; move it away to publish {name}")
        final = staged.with_name(staged.name.removesuffix(PARTIAL))
        staged.rename(final)
        previous = self.current(name)
        temporary = self.root / f".{name}.link"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(Path(BUILDS) / final.name)
        os.replace(temporary, link)
        self._prune(name, keep={final, previous} if previous else {final})
        return final

    def unpublish(self, name: str) -> None:
        link = self.root / name
        if link.is_symlink():
            link.unlink()
        self._prune(name, keep=set())

    def discard(self, staged: Path) -> None:
        shutil.rmtree(staged, ignore_errors=True)

    def _prune(self, name: str, keep: set[Path]) -> None:
        for build in self.builds.glob(f"{name}@*"):
            if build.name.endswith(PARTIAL) or build in keep:
                continue
            shutil.rmtree(build, ignore_errors=True)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_symlink() and not p.name.startswith("."))

    def published(self) -> list[PublishedSurvey]:
        """Every survey served, with its properties (for the HiPS list and the registry)."""
        found = []
        for name in self.names():
            directory = self.current(name)
            if directory is None:
                continue
            try:
                text = (directory / "properties").read_text(encoding="utf-8")
            except OSError:
                continue
            found.append(PublishedSurvey(name, directory, props.parse(text)))
        return found


def published_surveys(root: Path) -> list[PublishedSurvey]:
    """The surveys published under the HiPS directory ``root`` (none when it does not exist)."""
    return HipsStore(root).published()
