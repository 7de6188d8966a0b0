"""Small result sets as typed DataFrames, built column by column.

DuckDB's ``.df()`` costs ~4 ms for a result of a few dozen rows (it sets up
a conversion per column); fetching tuples and building the frame here takes
well under 1 ms. The customer page's reads return a few dozen rows each, so
that hand-over was a third of their time. (A page of cards needs no frame at
all: it is a tuple of ``CardRow`` records.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

# A column's dtype, as pandas names it, or one of:
# - "str": text, missing values as NaN (pandas' string dtype);
# - "object": Python objects as they are (lists, bytes, None).
Columns = Mapping[str, str]

# The extension dtypes, made once: by name, pandas looks each up again per
# column, which doubled the time of a small frame's text columns.
_EXTENSION: dict[str, Any] = {name: pd.api.types.pandas_dtype(name) for name in ("str", "Int64")}


def typed_frame(rows: Sequence[Sequence[Any]], columns: Columns) -> pd.DataFrame:
    """``rows`` (tuples, in the order of ``columns``) as a DataFrame of those dtypes.

    The same dtypes with or without rows, so an empty history looks like a
    full one to the code that draws it.
    """
    data: dict[str, Any] = {}
    for position, (name, dtype) in enumerate(columns.items()):
        values = [row[position] for row in rows]
        data[name] = _column(values, dtype)
    return pd.DataFrame(data, copy=False)


def _column(values: list[Any], dtype: str) -> Any:
    if dtype in _EXTENSION:
        return pd.array(values, dtype=_EXTENSION[dtype])
    if dtype == "object":
        # Element by element: numpy would make lists of equal length a 2-D array.
        cells = np.empty(len(values), dtype=object)
        for i, value in enumerate(values):
            cells[i] = value
        return cells
    if dtype == "float64":
        # Decimals and NULLs: float() each, NULL as NaN.
        return np.array([np.nan if v is None else float(v) for v in values], dtype="float64")
    return np.array(values, dtype=dtype)
