"""Matching a column of names to the names the tariff workbook defines, through the categories.

Work is per distinct value (a categorical column's categories), then spread to
the lines by their category codes: a million lines with six payment methods
cost six look-ups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BLANK = -1
UNKNOWN = -2


def categorical(values: pd.Series) -> pd.Series:
    """The column as a categorical, its distinct values the categories."""
    return values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")


def category_codes(column: pd.Series, names: list[str], exact: bool = False) -> np.ndarray:
    """Index into ``names`` per category of the categorical ``column`` (UNKNOWN for a name not defined),
    then BLANK, which the code -1 of a blank cell picks: ``category_codes(c, names)[c.array.codes]``
    is each line's. Compared trimmed and case-insensitively unless ``exact``."""
    key = (lambda text: str(text).strip()) if exact else (lambda text: str(text).strip().casefold())
    index = {key(name): i for i, name in enumerate(names)}
    return np.array([index.get(key(c), UNKNOWN) for c in column.cat.categories] + [BLANK], dtype=np.int64)
