"""SODA's DALI examples (SODA 1.0 sec. 2.3), written around a dataset of the archive (dalserver.obscore.example_dataset)."""

from __future__ import annotations

from dalserver.dali.examples import Example
from dalserver.obscore.example_dataset import Sample, circle_text, range_text, triangle_text


def soda_examples(s: Sample) -> list[Example]:
    return [
        Example(
            "cutout-circle",
            "A circular cutout",
            "The pixels of the image around a circle (centre and radius in degrees), as FITS with its WCS.",
            params=(("ID", s.did), ("CIRCLE", circle_text(s, s.fov / 8))),
        ),
        Example(
            "cutout-polygon",
            "A polygon cutout",
            "POLYGON lists the vertices' RA and Dec in degrees; the cutout is the box around it.",
            params=(("ID", s.did), ("POLYGON", triangle_text(s, s.fov / 4))),
        ),
        Example(
            "cutout-two",
            "Two cutouts in one request",
            "Several regions give a FITS file with one extension per region.",
            params=(
                ("ID", s.did),
                ("POS", f"CIRCLE {circle_text(s, s.fov / 16)}"),
                ("POS", f"RANGE {range_text(s, s.ra - s.fov / 8, s.ra, s.dec, s.dec + s.fov / 8)}"),
            ),
        ),
    ]
