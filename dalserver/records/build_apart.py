"""Build the registry records in a short-lived child process, for a worker whose stored records
(``dalserver.records.stored``) no longer match the archive: building reads the HiPS surveys' and
collections' coverage with mocpy, cdshealpix and astropy, some 35 MB that a worker would otherwise
keep for the rest of its life for one request. The child gets exactly the state, settings and
registry file the worker read (pickled on its standard input, so it reads no database and no
environment of its own: the records are those the worker would have built) and gives back the
records serialised as the stored ones are, which the worker parses with lxml, already loaded.

Run as ``python -m dalserver.records.build_apart``; nothing else is its interface."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

from dalserver.records.build import Record
from dalserver.records.config import RegistryConfig
from dalserver.records.state import ArchiveState
from dalserver.records.stored import deserialised, serialised
from dalserver.settings import Settings

MODULE = "dalserver.records.build_apart"


class BuildFailed(RuntimeError):
    """The child process did not give records back (what it said on stderr is the message)."""


def build_in_child(state: ArchiveState, settings: Settings, config: RegistryConfig) -> list[Record]:
    """The records of ``state``, built by a child process; the same as ``build_records`` would give."""
    done = subprocess.run(
        [sys.executable, "-m", MODULE],
        input=pickle.dumps((state, settings, config)),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise BuildFailed(done.stderr.decode(errors="replace").strip()[-2000:])
    return deserialised(json.loads(done.stdout))


def main() -> None:
    from dalserver.records.build import build_records

    # the worker's own objects, from the worker's pipe: nothing else can write this stdin
    state, settings, config = pickle.loads(sys.stdin.buffer.read())  # noqa: S301
    json.dump(serialised(build_records(state, settings, config)), sys.stdout)


if __name__ == "__main__":
    main()
