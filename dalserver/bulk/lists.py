"""The cart as text: a POSIX shell script that fetches every file with curl or wget and checks
it against the SHA-256 the ingest recorded, a plain list of URLs (``wget -i``), and a
``sha256sum -c`` checksum list. Each names the files by their path in the archive."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime

from dalserver.bulk.archive import checksum_lines
from dalserver.bulk.selection import Selection

_SCRIPT_HEAD = """\
#!/bin/sh
# {title}: {count} files, {size:,} bytes, from {base}
# made {when}
#
# Run it in the folder the files should go to:    sh download.sh
# It fetches with curl (or wget), makes the folders, skips a file that is already here with
# the right checksum, and checks every file it fetches against the SHA-256 the archive
# recorded when it ingested the file. Run it again to retry what failed.
set -eu

if command -v curl >/dev/null 2>&1; then
  fetch() {{ curl --fail --location --retry 3 --silent --show-error --create-dirs --output "$2" "$1"; }}
elif command -v wget >/dev/null 2>&1; then
  fetch() {{ mkdir -p "$(dirname "$2")" && wget --quiet --tries=3 --output-document="$2" "$1"; }}
else
  echo "this script needs curl or wget" >&2
  exit 1
fi
if command -v sha256sum >/dev/null 2>&1; then
  sha256() {{ sha256sum "$1" | cut -d' ' -f1; }}
else
  sha256() {{ shasum -a 256 "$1" | cut -d' ' -f1; }}
fi

failed=0
get() {{  # URL, file, its SHA-256 (empty when none was recorded)
  if [ -n "$3" ] && [ -f "$2" ] && [ "$(sha256 "$2")" = "$3" ]; then
    echo "already here: $2"
    return 0
  fi
  if ! fetch "$1" "$2"; then
    echo "FAILED: $2 could not be fetched from $1" >&2
    failed=$((failed + 1))
    return 0
  fi
  if [ -n "$3" ] && [ "$(sha256 "$2")" != "$3" ]; then
    echo "FAILED: $2 does not have the SHA-256 the archive recorded ($3)" >&2
    failed=$((failed + 1))
    return 0
  fi
  echo "ok: $2"
}}

"""

_SCRIPT_TAIL = """
if [ "$failed" -gt 0 ]; then
  echo "$failed of {count} files failed: run the script again to retry them" >&2
  exit 1
fi
echo "all {count} files are here"
"""


def download_script(selection: Selection, title: str, base_url: str) -> str:
    count = len(selection.products)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    head = _SCRIPT_HEAD.format(
        title=title.replace("\n", " "), count=count, size=selection.total_bytes, base=base_url, when=when
    )
    calls = [
        f"get {shlex.quote(p.url)} {shlex.quote(p.name)} {shlex.quote(p.sha256 or '')}" for p in selection.products
    ]
    elsewhere = [f"#   {d.did}  {d.access_url or '(no access URL)'}" for d in selection.elsewhere]
    if elsewhere:
        calls += ["", "# Published, but not stored in this archive (fetch them from their URL):", *elsewhere]
    return head + "\n".join(calls) + "\n" + _SCRIPT_TAIL.format(count=count)


def url_list(selection: Selection) -> str:
    """One URL a line, for ``wget -i`` or a download manager."""
    return "".join(f"{p.url}\n" for p in selection.products)


def checksum_list(selection: Selection) -> str:
    return checksum_lines(selection.products)
