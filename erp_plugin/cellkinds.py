"""What each cell of a column holds: blank, text, a number, a date, or something else.

Spreadsheet readers hand over columns of mixed Python objects (a number cell is
a float, the next cell of the same column may be the text ``"1 234,56"``). Telling
them apart is the one step that must look at each object; it is done with a
C-level ``type`` call per cell and whole-array comparisons, not a Python function.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

_TYPE_OF = np.frompyfunc(type, 1, 1)
# what R, Excel (#N/A, Russian #Н/Д), databases and people write for "no value" (SPEC §6): blank, never a value
PLACEHOLDERS = frozenset({"na", "n/a", "#n/a", "#н/д", "null", "none", "-", "—", "–"})
CELL_BLANK, CELL_TEXT, CELL_NUMBER, CELL_DATE, CELL_OTHER = range(5)  # a cell's kind code
_CODES = {
    type(None): CELL_BLANK,
    str: CELL_TEXT,
    **{kind: CELL_NUMBER for kind in (float, int, np.float64, np.float32, np.int64, np.int32, Decimal)},
    **{kind: CELL_DATE for kind in (dt.date, dt.datetime, pd.Timestamp)},
}


@dataclass(frozen=True)
class CellKinds:
    """One mask per kind over a column's cells; every cell is in exactly one."""

    blank: np.ndarray  # empty, white space, NaN or a placeholder
    text: np.ndarray
    number: np.ndarray
    date: np.ndarray
    other: np.ndarray
    placeholder: np.ndarray  # the blanks written as a placeholder (``-`` is also "no VAT" in a VAT column)


def blank_text(text: pd.Series) -> np.ndarray:
    """Text cells that hold no value: empty, white space or a placeholder (PLACEHOLDERS), whatever the case."""
    trimmed = text.str.strip()
    return (trimmed.isna() | trimmed.eq("") | trimmed.str.casefold().isin(PLACEHOLDERS)).to_numpy(dtype=bool)


def cell_kinds(values) -> CellKinds:
    """Masks of the kinds in an object column; white-space text, placeholders and NaN count as blank."""
    cells = np.asarray(values, dtype=object)
    n = len(cells)
    placeholder = np.zeros(n, dtype=bool)
    if n == 0:
        return CellKinds(placeholder, placeholder, placeholder, placeholder, placeholder, placeholder)
    codes = pd.Series(_TYPE_OF(cells), dtype=object).map(_CODES).fillna(CELL_OTHER).to_numpy(dtype=np.int8)
    text, number, date, blank = codes == CELL_TEXT, codes == CELL_NUMBER, codes == CELL_DATE, codes == CELL_BLANK
    if number.any():
        nan = number & (cells != cells)  # NaN is the one value not equal to itself
        number &= ~nan
        blank |= nan
    if text.any():
        positions = np.flatnonzero(text)
        strings = pd.Series(cells[positions], dtype=object)
        empty_text = blank_text(strings)
        blank[positions[empty_text]] = True
        text[positions[empty_text]] = False
        placeholder[positions[empty_text & strings.str.strip().ne("").to_numpy(dtype=bool)]] = True
    other = ~(blank | text | number | date)
    return CellKinds(blank, text, number, date, other, placeholder)
