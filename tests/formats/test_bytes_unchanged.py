"""Every output format writes, byte for byte, what it wrote before the writers were made faster
(issue #28): the documents recorded in tests/formats/golden/ from the writers as they were, for a
result with nulls, NaN, infinities, extreme and subnormal values, negative zero, unicode, XML and
CSV specials, control characters, geometry and arrays, in batches of uneven sizes (some without a
null at all, which take the writers' fast paths), once whole and once cut at MAXREC.

A deliberate change of a format's bytes is recorded again with
``.venv/bin/python -m tests.formats.test_bytes_unchanged`` and its diff reviewed.
"""

from __future__ import annotations

import base64
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from adql.catalog import ColumnMeta
from dalserver.formats import parallel
from dalserver.formats.parallel import PART_ROWS
from dalserver.formats.votable import base64_lines
from tests.support.results import (
    EVERY_TYPE,
    FORMAT_NAMES,
    batch,
    every_type_batch,
    format_named,
    numeric,
    scircle,
    spoint,
    spoly,
    write,
)

GOLDEN = Path(__file__).parent / "golden"

EXTREMES = [
    ColumnMeta("id", "long"),
    ColumnMeta("d", "double"),
    ColumnMeta("r", "float"),
    ColumnMeta("s", "short"),
    ColumnMeta("i", "int"),
    ColumnMeta("b", "unsignedByte"),
    ColumnMeta("t", "char", "*"),
    ColumnMeta("ok", "boolean"),
]
_DOUBLES = [
    0.0,
    -0.0,
    math.nan,
    math.inf,
    -math.inf,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    5e-324,
    2.2250738585072014e-308,
    0.1,
    1 / 3,
    123456789012345.67,
    1e21,
    1e-7,
    -2.5e-5,
    100.0,
    None,
]
_FLOATS = [
    0.0,
    -0.0,
    math.nan,
    math.inf,
    -math.inf,
    3.4028234663852886e38,
    1.401298464324817e-45,
    1.1754943508222875e-38,
    0.1,
    1 / 3,
    16777217.0,
    1e-7,
    -2.5,
    100.0,
    1e10,
    None,
    7.0,
]
_TEXTS = [
    "plain",
    "",
    None,
    'comma, "quote"',
    "tab\there",
    "line\nbreak\r\ncrlf",
    " padded ",
    "Ωμέγα 😀 <&>\"'",
    "control \x01\x1f end",
    "back\\slash",
    "x" * 300,
    "ünïcödé",
    "&amp; not an entity",
    "\ufffe",
    "nul\x00",
    "]]>",
    "last",
]


def extremes_batch(start: int, rows: int, with_nulls: bool) -> pa.RecordBatch:
    """``rows`` rows cycling through the extreme values; without nulls when ``with_nulls`` is False."""
    pick = [(start + n) % len(_DOUBLES) for n in range(rows)]

    def values(source: Sequence[Any], fallback: object) -> list[Any]:
        return [fallback if (v := source[k]) is None and not with_nulls else v for k in pick]

    shorts = [-(2**15), 2**15 - 1, 0, -1, None]
    ints = [-(2**31), 2**31 - 1, 0, 7, None]
    longs = [-(2**63), 2**63 - 1, 0, 2**53 + 1, None]
    bytes_ = [0, 255, 1, 128, None]
    bools = [True, False, None]

    def cycle(source: Sequence[Any], fallback: object) -> list[Any]:
        out = [source[(start + n) % len(source)] for n in range(rows)]
        return [fallback if v is None and not with_nulls else v for v in out]

    ids = cycle(longs, 5)
    ids[0] = start  # row numbers show where a batch begins
    return batch(
        EXTREMES,
        pa.array(ids, pa.int64()),
        pa.array(values(_DOUBLES, 2.5), pa.float64()),
        pa.array(values(_FLOATS, 0.5), pa.float32()),
        pa.array(cycle(shorts, 3), pa.int16()),
        pa.array(cycle(ints, 3), pa.int32()),
        pa.array(cycle(bytes_, 3), pa.int16()),  # unsignedByte arrives as PostgreSQL smallint
        pa.array(values(_TEXTS, "none"), pa.string()),
        pa.array(cycle(bools, True), pa.bool_()),
    )


def extremes_batches() -> list[pa.RecordBatch]:
    return [
        extremes_batch(0, 17, True),
        extremes_batch(17, 5, False),
        extremes_batch(22, 1, True),
        extremes_batch(23, 40, True),
        extremes_batch(63, 33, False),
    ]


def geometry_batches() -> list[pa.RecordBatch]:
    """The every-type result, several times over, with more geometry and arrays than its own."""
    rng = np.random.default_rng(28)
    out = [every_type_batch(3), every_type_batch(2)]
    rows = 20
    ras, decs = rng.uniform(0, 360, rows), rng.uniform(-90, 90, rows)
    whole = every_type_batch(rows)
    arrays = [whole.column(i) for i in range(len(EVERY_TYPE))]
    names = [c.name for c in EVERY_TYPE]
    arrays[names.index("pos")] = pa.array([spoint(a, d) for a, d in zip(ras, decs, strict=True)])
    arrays[names.index("cone")] = pa.array(
        [scircle(a, d, 0.001 * (k + 1)) for k, (a, d) in enumerate(zip(ras, decs, strict=True))]
    )
    arrays[names.index("footprint")] = pa.array(
        [spoly((a, d), (a + 0.1, d), (a + 0.05, d + 0.1)) for a, d in zip(ras, decs, strict=True)]
    )
    arrays[names.index("sum")] = numeric([str(10**k) for k in range(rows)])
    out.append(batch(EVERY_TYPE, *arrays))
    return out


CATALOGUE = [
    ColumnMeta("source_id", "long", ucd="meta.id;meta.main"),
    ColumnMeta("ra", "double", unit="deg"),
    ColumnMeta("dec", "double", unit="deg"),
    ColumnMeta("mag_g", "float", unit="mag"),
    ColumnMeta("mag_r", "float", unit="mag"),
    ColumnMeta("flags", "short"),
    ColumnMeta("parallax", "double"),
]


def catalogue_batches() -> list[pa.RecordBatch]:
    """Plain finite numbers without a null, as in bench/stream.py's catalogue: the fastest paths."""
    rng = np.random.default_rng(7)
    rows = 600
    whole = batch(
        CATALOGUE,
        pa.array(np.arange(rows, dtype=np.int64)),
        pa.array(rng.uniform(0, 360, rows)),
        pa.array(np.degrees(np.arcsin(rng.uniform(-1, 1, rows)))),
        pa.array(rng.uniform(14, 26, rows).astype(np.float32)),
        pa.array(rng.uniform(14, 26, rows).astype(np.float32)),
        pa.array(rng.integers(0, 256, rows).astype(np.int16)),
        pa.array(rng.normal(0, 2, rows)),
    )
    return [whole.slice(0, 200), whole.slice(200, 250), whole.slice(450)]


CASES = {
    "catalogue": (CATALOGUE, catalogue_batches, 10_000),
    "extremes": (EXTREMES, extremes_batches, 1_000),
    "extremes-cut": (EXTREMES, extremes_batches, 50),
    "geometry": (EVERY_TYPE, geometry_batches, 1_000),
}


def golden_path(name: str, case: str) -> Path:
    return GOLDEN / f"{case}.{name.replace('/', '-')}"


def document(name: str, case: str) -> bytes:
    columns, batches, maxrec = CASES[case]
    return write(format_named(name), columns, batches(), maxrec=maxrec)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_every_format_writes_the_same_bytes_as_before(name: str, case: str) -> None:
    assert document(name, case) == golden_path(name, case).read_bytes()


def large_batches() -> list[pa.RecordBatch]:
    """Batches large enough to be encoded in parts on several cores (formats.parallel), with
    nulls, NaN and text, and one small batch between them."""
    rows = 3 * PART_ROWS + 5
    big = pa.concat_batches([extremes_batch(k * 100, 100, True) for k in range(rows // 100 + 1)]).slice(0, rows)
    return [big, extremes_batch(7, 9, True), big.slice(11)]


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_a_batch_encoded_in_parts_on_several_cores_is_the_same_as_in_one_piece(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "PARTS", 3)
    in_parts = write(format_named(name), EXTREMES, large_batches())
    monkeypatch.setattr(parallel, "PART_ROWS", 10**9)
    assert in_parts == write(format_named(name), EXTREMES, large_batches())


@pytest.mark.parametrize("size", [0, 1, 2, 3, 56, 57, 58, 114, 1000, 57 * 1000 + 13])
def test_base64_lines_are_those_of_the_standard_library(size: int) -> None:
    data = bytes(np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8))
    assert base64_lines(data) == base64.encodebytes(data)


def record() -> None:
    """Write the golden documents from the writers as they are now."""
    GOLDEN.mkdir(exist_ok=True)
    for case in CASES:
        for name in FORMAT_NAMES:
            golden_path(name, case).write_bytes(document(name, case))


if __name__ == "__main__":
    record()
    sys.exit(0)
