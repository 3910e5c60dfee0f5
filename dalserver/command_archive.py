"""The archive a ``dalserver`` command works on: its home found, checked to exist unless the
command is one that sets an archive up, and named on stderr before the command runs."""

from __future__ import annotations

import argparse
import sys

from dalserver.db.location import describe_archive, require_archive
from dalserver.home import locate_home
from dalserver.settings import Settings


def creates_archive(args: argparse.Namespace) -> bool:
    """demo, serve and db init set an archive up where they are pointed; no other command may."""
    return args.command in ("demo", "serve") or (args.command == "db" and args.action == "init")


def uses_archive(args: argparse.Namespace) -> bool:
    """``sample DIR`` only writes files where it is told; every other command works on an archive."""
    return not (args.command == "sample" and args.directory)


def command_settings(args: argparse.Namespace) -> Settings:
    """The settings of the archive ``args`` names, after announcing it; ArchiveNotFound (with
    where it looked and what to do) when the command needs an archive and there is none."""
    home = locate_home()
    settings = Settings(home=home.path)
    if not uses_archive(args):
        return settings
    if creates_archive(args):
        home.path.mkdir(parents=True, exist_ok=True)  # so that the next commands find it
    else:
        require_archive(settings, home)
    if not getattr(args, "setup_only", False):  # the demo's set-up: its parent has just said it
        print(describe_archive(settings, home), file=sys.stderr, flush=True)
    return settings
