"""DataLink's DALI examples, written around a dataset of the archive (dalserver.obscore.example_dataset)."""

from __future__ import annotations

from dalserver.dali.examples import Example
from dalserver.obscore.example_dataset import Sample


def datalink_examples(s: Sample) -> list[Example]:
    return [
        Example(
            "links",
            "Links of a dataset",
            "The file itself (#this), its preview, its provenance and a cutout service for it.",
            params=(("ID", s.did),),
        ),
        Example(
            "links-csv",
            "Links of a dataset as CSV",
            "RESPONSEFORMAT takes the output formats of TAP.",
            params=(("ID", s.did), ("RESPONSEFORMAT", "text/csv")),
        ),
    ]
