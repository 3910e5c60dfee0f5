"""SIA's DALI examples, written around a dataset of the archive (dalserver.obscore.example_dataset); the
parameters' meanings come from the declared table (sia/parameters.py)."""

from __future__ import annotations

from dalserver.dali.examples import Example
from dalserver.obscore.example_dataset import Sample, circle_text, number, range_text
from dalserver.sia.parameters import BY_NAME

# Looked up in the declared table: an example can only use a parameter the service has.
POS, BAND, TIME, ID, INSTRUMENT = (BY_NAME[n].name for n in ("POS", "BAND", "TIME", "ID", "INSTRUMENT"))


def sia_examples(s: Sample) -> list[Example]:
    examples = [
        Example(
            "sia-pos",
            "Images covering a position",
            "Every image whose footprint overlaps a small circle (centre and radius in degrees).",
            params=((POS, f"CIRCLE {circle_text(s, 0.001)}"),),
        ),
        Example(
            "sia-range",
            "Images of one instrument in a coordinate box",
            "POS=RANGE takes RA and Dec limits in degrees; parameters of different names must all match.",
            params=(
                (
                    POS,
                    f"RANGE {range_text(s, s.ra - s.fov / 4, s.ra + s.fov / 4, s.dec - s.fov / 4, s.dec + s.fov / 4)}",
                ),
                *(((INSTRUMENT, s.instrument),) if s.instrument else ()),
            ),
        ),
    ]
    if s.em_min is not None and s.em_max is not None:
        middle = (s.em_min + s.em_max) / 2
        examples.append(
            Example(
                "sia-band",
                "Images at a position taken in a band",
                "BAND is a wavelength interval in metres (a single value: images whose band contains it).",
                params=((POS, f"CIRCLE {circle_text(s, 0.001)}"), (BAND, number(middle))),
            )
        )
    if s.t_min is not None and s.t_max is not None:
        examples.append(
            Example(
                "sia-time",
                "Images observed in a time range",
                "TIME is an interval of MJD; -Inf or +Inf leave an end open.",
                params=((TIME, f"{number(s.t_min - 1)} {number(s.t_max + 1)}"), ("MAXREC", "10")),
            )
        )
    examples.append(
        Example(
            "sia-id",
            "One image by its identifier",
            "ID is the publisher DID (obs_publisher_did), compared without regard to case.",
            params=((ID, s.did),),
        )
    )
    return examples
