"""The portal's files as packaged: the committed build is the build of web/ (every source and
the lock file hash as build.json recorded them, every output as listed), Aladin Lite is there
unmodified with its licence, and nothing in the page names another host. No browser, no server."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from dalserver.web.assets import MANIFEST, STATIC, assets, media_type

REPO = Path(__file__).resolve().parents[2]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_committed_bundle_was_built_from_the_sources_as_they_are() -> None:
    manifest = json.loads(MANIFEST.read_text())
    sources = sorted(
        str(p.relative_to(REPO))
        for p in [
            *(REPO / "web" / "src").rglob("*"),
            *(REPO / "web" / n for n in ("package.json", "package-lock.json", "build.mjs")),
        ]
        if p.is_file()
    )
    assert sorted(manifest["inputs"]) == sources, "a source was added or removed: run `npm ci && npm run build` in web/"
    changed = [name for name, digest in manifest["inputs"].items() if _sha256(REPO / name) != digest]
    assert changed == [], f"{changed} changed since the bundle was built: run `npm ci && npm run build` in web/"


def test_every_built_file_is_listed_with_its_hash() -> None:
    manifest = json.loads(MANIFEST.read_text())
    present = sorted(str(p.relative_to(STATIC)) for p in STATIC.rglob("*") if p.is_file() and p != MANIFEST)
    assert sorted(manifest["outputs"]) == present
    assert all(_sha256(STATIC / name) == digest for name, digest in manifest["outputs"].items())


def test_aladin_lite_is_served_unmodified_beside_its_licence() -> None:
    vendor = STATIC / "vendor" / "aladin-lite"
    package = json.loads((vendor / "package.json").read_text())
    assert package["name"] == "aladin-lite" and package["version"] == "3.8.2" and package["license"] == "GPL-3"
    assert "GNU GENERAL PUBLIC LICENSE" in (vendor / "COPYING").read_text()
    lock = json.loads((REPO / "web" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aladin-lite"]["version"] == "3.8.2"
    # our bundle does not contain it: it is loaded beside it, as its own file
    assert "aladin" not in (STATIC / "portal.js.LICENSES.txt").read_text().lower()


def test_the_bundle_credits_every_package_it_contains() -> None:
    notices = (STATIC / "portal.js.LICENSES.txt").read_text()
    for name in ("@codemirror/lang-sql", "@codemirror/view", "@lezer/lr"):
        assert name in notices
    assert "MIT" in notices


def test_the_page_and_our_code_name_no_other_host() -> None:
    for name in ("index.html", "portal.js", "portal.css"):
        hosts = set(re.findall(r"https?://([^/\"' )]+)", (STATIC / name).read_text()))
        # the XML namespace, and the SAMP hub's Web Profile on the user's own computer (SAMP 1.3
        # fixes its port), which the portal asks only when the user connects to SAMP
        assert hosts <= {"www.w3.org", "127.0.0.1:21012"}, (name, hosts)


def test_assets_have_their_media_types() -> None:
    found = assets()
    assert found["portal.js"].media_type.startswith("text/javascript")
    assert found["vendor/aladin-lite/aladin.js"].media_type.startswith("text/javascript")
    assert found["portal.css"].media_type.startswith("text/css")
    assert media_type("vendor/aladin-lite/COPYING").startswith("text/plain")
