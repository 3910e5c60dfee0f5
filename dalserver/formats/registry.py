"""The output formats /tap/sync offers: names and MIME types clients may ask for, and writers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from adql.catalog import ColumnMeta
from dalserver.dali.faults import UsageFault
from dalserver.formats import fits, parquet, text, votable
from dalserver.formats.limits import Batches
from ivoa.vocabulary import StandardID

Writer = Callable[[list[ColumnMeta], Batches, int], AsyncIterator[bytes]]


@dataclass(frozen=True)
class OutputFormat:
    mime: str  # the Content-Type of the answer, and what the capabilities list first
    ivo_id: str | None
    aliases: tuple[str, ...]  # other values of RESPONSEFORMAT that select it
    writer: Writer
    extension: str  # of an async job's result file

    @property
    def is_votable(self) -> bool:
        return self.mime.startswith(votable.MEDIA_TYPE)

    def stream(
        self, columns: list[ColumnMeta], batches: Batches, maxrec: int, extras: votable.VOTableExtras | None = None
    ) -> AsyncIterator[bytes]:
        """The result in this format; ``extras`` (service descriptors) where the format carries them."""
        if extras is not None and self.is_votable:
            return self.writer(columns, batches, maxrec, extras)  # type: ignore[call-arg]  # VOTable writers take extras too
        return self.writer(columns, batches, maxrec)


FORMATS: list[OutputFormat] = [
    OutputFormat(
        "application/x-votable+xml",
        StandardID.TAPREGEXT + "output-votable-td",
        # votable_plain and votable_gzip: ESA TAP+'s names, which astroquery's TapPlus sends
        # (it reads a gzip'ed answer or a plain one alike).
        (
            "votable",
            "votable/td",
            "text/xml",
            "application/x-votable+xml;serialization=tabledata",
            "votable_plain",
            "votable_gzip",
        ),
        votable.tabledata_stream,
        "vot",
    ),
    OutputFormat(
        "application/x-votable+xml;serialization=binary2",
        StandardID.TAPREGEXT + "output-votable-binary2",
        ("votable/b2", "votableb2", "binary2"),
        votable.binary2_stream,
        "vot",
    ),
    # TAPRegExt defines ivo-ids for VOTable serialisations only.
    OutputFormat("text/csv;header=present", None, ("csv", "text/csv"), text.csv_stream, "csv"),
    OutputFormat("text/tab-separated-values", None, ("tsv",), text.tsv_stream, "tsv"),
    OutputFormat("application/json", None, ("json",), text.json_stream, "json"),
    OutputFormat(fits.MEDIA_TYPE, None, ("fits", "application/x-fits"), fits.fits_stream, "fits"),
    OutputFormat(parquet.MEDIA_TYPE, None, ("parquet", "application/x-parquet"), parquet.parquet_stream, "parquet"),
]


def _normal(value: str) -> str:
    return value.strip().lower().replace(" ", "")


_BY_NAME = {_normal(name): f for f in FORMATS for name in (f.mime, *f.aliases)}


def find_format(value: str | None) -> OutputFormat | None:
    """The format for a RESPONSEFORMAT value (TAP name or MIME type), the default for None."""
    if value is None or not value.strip():
        return FORMATS[0]
    return _BY_NAME.get(_normal(value))


def response_format(requested: str | None) -> OutputFormat:
    """The format a RESPONSEFORMAT value names; a UsageFault naming the choices if none."""
    fmt = find_format(requested)
    if fmt is None:
        known = ", ".join(a for f in FORMATS for a in f.aliases[:1])
        raise UsageFault(
            f"output format {requested!r} (RESPONSEFORMAT) is not supported; use one of {known} (or their MIME types)"
        )
    return fmt
