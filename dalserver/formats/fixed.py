"""Fixed-width values as numpy byte matrices, one row of bytes per result row, big-endian.

A BINARY2 row and a FITS binary-table row are both such values laid side by side, so both
writers build their rows by concatenating these matrices (numpy, no Python loop per value).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

BIG_ENDIAN = {"unsignedByte": ">u1", "short": ">i2", "int": ">i4", "long": ">i8", "float": ">f4", "double": ">f8"}
# The magic null of each integer type, where a format needs one (FITS TNULLn, VOTable VALUES null):
# the type's most negative value, as FITS writers use, and 255 for the unsigned byte.
INTEGER_NULLS = {"unsignedByte": 255, "short": -(2**15), "int": -(2**31), "long": -(2**63)}


def fixed_bytes(values: np.ndarray, dtype: str, rows: int) -> np.ndarray:
    return np.ascontiguousarray(values.astype(dtype)).view(np.uint8).reshape(rows, -1)


def fixed_arrays(array: pa.Array, dtype: str, size: int, rows: int) -> np.ndarray:
    """Arrays of a declared length (DALI point, circle): padded with NaN/0, nulls all NaN/0."""
    fill = np.nan if dtype[1] == "f" else 0
    out = np.full((rows, size), fill, dtype=dtype)
    lengths = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False)
    if np.all(lengths == size):
        out[:] = pc.list_flatten(array).to_numpy(zero_copy_only=False).reshape(rows, size)
    else:
        for i, values in enumerate(array.to_pylist()):
            if values:
                out[i, : min(size, len(values))] = [fill if v is None else v for v in values[:size]]
    return out.view(np.uint8).reshape(rows, -1)
