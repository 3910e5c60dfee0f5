"""An archive of proprietary data, of its own (tests/support/own_archive.py), served by its own
server: the sample's public images, two copies of sample images released in 2099 and one with no
release date (its header has no time, and the site's Suprime-Cam profile keeps images 18 months),
all three of proposal S20A-001 and of a target of their own; a catalogue only the group s20a may see. Users: granted1 (in s20a,
granted that proposal, with a token), other1 (in a group granted nothing), disabled1 (disabled).
Everything is set up with the real command line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from astropy.io import fits

from data_ingest.instruments import SHIPPED_DIR
from tests.support.archive import Archive
from tests.support.own_archive import own_archive
from tests.support.servers import RunningServer, start_server, stop_server

PROPOSAL = "S20A-001"
COLLECTION = "Subaru/Suprime-Cam"
PASSWORDS = {"granted1": "granted-password-1", "other1": "other-password-1", "disabled1": "disabled-password-1"}
CATALOGUE = "s20a.sources"
SECRET_TARGET = "S20A-SECRET-FIELD"  # the proprietary copies' target: its name is proprietary too


@dataclass(frozen=True)
class ProprietaryArchive:
    archive: Archive
    server: RunningServer
    public: int  # ObsCore rows anybody sees
    hidden_dids: tuple[str, ...]  # the three proprietary rows
    token: str  # granted1's API token

    @property
    def base(self) -> str:
        return self.server.base

    @property
    def canary(self) -> str:
        """The DID of the row with no release date: no answer to anonymous or other1 may name it."""
        return self.hidden_dids[2]

    def command(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "dalserver", *args],
            env=self.archive.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check:
            assert done.returncode == 0, done.stderr
        return done


def _proprietary_copy(source: Path, target: Path, frame: str, dated: bool) -> None:
    with fits.open(source) as hdul:
        header = hdul[0].header
        header["FRAMEID"] = frame
        header["PROP-ID"] = (PROPOSAL, "Proposal of the observation")
        header["OBJECT"] = SECRET_TARGET
        if not dated:
            for key in ("DATE-OBS", "MJD-OBS", "MJD-END"):
                del header[key]
        hdul.writeto(target)


@pytest.fixture(scope="package")
def proprietary(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProprietaryArchive]:
    home = tmp_path_factory.mktemp("proprietary-home")
    home.chmod(0o755)
    with own_archive(archive, home, "dalserver_access") as own:
        run = ProprietaryArchive(own, None, 0, (), "")  # for .command only
        (home / "instruments").mkdir()
        profile = (SHIPPED_DIR / "suprimecam.yaml").read_text()
        profile += "release:\n  proprietary_months: 18\n  proposal_keyword: PROP-ID\n"
        (home / "instruments" / "suprimecam.yaml").write_text(profile)
        sample = own.settings.archive_root / "suprimecam"
        run.command("sample", str(sample))
        run.command("ingest", "images", "--quiet", str(sample))
        sources = sorted(sample.glob("*.fits"))
        future, undated = own.settings.archive_root / "future", own.settings.archive_root / "undated"
        future.mkdir()
        undated.mkdir()
        _proprietary_copy(sources[0], future / "s20a-1.fits", "S20A-FUTURE-1", dated=True)
        _proprietary_copy(sources[1], future / "s20a-2.fits", "S20A-FUTURE-2", dated=True)
        _proprietary_copy(sources[2], undated / "s20a-3.fits", "S20A-UNDATED-3", dated=False)
        run.command("ingest", "images", "--quiet", "--release-date", "2099-01-01", str(future))
        run.command("ingest", "images", "--quiet", str(undated))
        catalogue = home / "s20a.csv"
        catalogue.write_text("id,ra,dec,mag\n1,34.5,-5.0,21.5\n2,34.51,-5.01,22.0\n")
        sidecar = home / "s20a.yaml"
        sidecar.write_text("position: [ra, dec]\naccess: {group: s20a}\n")
        run.command("ingest", "catalog", str(catalogue), "--table", CATALOGUE, "--meta", str(sidecar), "--quiet")
        for user, password in PASSWORDS.items():
            group = "s20a" if user == "granted1" else "others"
            run.command("user", "add", user, "--group", group, stdin=password + "\n")
        run.command("user", "disable", "disabled1")
        run.command("group", "grant", "s20a", "--collection", COLLECTION, "--proposal", PROPOSAL)
        run.command("group", "grant", "others", "--collection", "Elsewhere/Nothing")
        token = run.command("user", "token", "granted1", "--label", "tests").stdout.strip()
        with psycopg.connect(own.url) as conn:
            public = conn.execute("SELECT count(*) FROM ivoa.obscore WHERE obs_release_date <= now()").fetchone()[0]
            hidden = [
                did
                for (did,) in conn.execute(
                    "SELECT obs_publisher_did FROM ivoa.obscore WHERE proposal_id = %s ORDER BY obs_id", (PROPOSAL,)
                ).fetchall()
            ]
        # ordered: S20A-FUTURE-1, S20A-FUTURE-2, S20A-UNDATED-3
        server = start_server(own.env, own.settings.public_url, home / "server.log")
        try:
            yield ProprietaryArchive(own, server, public, tuple(hidden), token)
        finally:
            stop_server(server)
            shutil.rmtree(home / "jobs", ignore_errors=True)


@pytest.fixture(scope="package")
def base(proprietary: ProprietaryArchive) -> str:
    return proprietary.base


def basic(user: str) -> tuple[str, str]:
    return (user, PASSWORDS[user])


def client(proprietary: ProprietaryArchive, user: str | None) -> httpx.Client:
    """An HTTP client that is anonymous (None), or a user with their password."""
    auth = basic(user) if user else None
    return httpx.Client(base_url=proprietary.base, auth=auth, timeout=60)
