"""Rendering columns as text, exactly and column-wise: money ``1234.56``, never a float artefact.

Shared by every writer: the xlsx writer puts this text in ``<v>`` elements, the
csv writer in fields. Text that a spreadsheet would take for a formula is
escaped with a leading apostrophe.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..tables import ColumnKind

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
_XML_INVALID = r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"


def scaled_text(values, decimals: int, trim: bool = False) -> np.ndarray:
    """Integers scaled by ``10**decimals`` as decimal text: ``123456, 2`` -> ``1234.56``.

    ``trim`` drops trailing zeros of the fraction (``2.5000`` -> ``2.5``, ``7.0`` -> ``7``),
    for quantities and percentages; money keeps its minor units.
    """
    ints = np.asarray(values, dtype=np.int64)
    if ints.size == 0:
        return np.zeros(0, dtype=object)
    magnitude = np.abs(ints)
    if decimals == 0:
        text = magnitude.astype(str)
    else:
        factor = 10**decimals
        whole = (magnitude // factor).astype(str)
        fraction = np.char.zfill((magnitude % factor).astype(str), decimals)
        text = np.char.add(np.char.add(whole, "."), fraction)
        if trim:
            text = np.char.rstrip(np.char.rstrip(text, "0"), ".")
    return np.where(ints < 0, np.char.add("-", text), text)


def column_text(values, kind: ColumnKind, missing: np.ndarray | None = None, date_format: str = "%Y-%m-%d") -> np.ndarray:
    """A column as an object array of text; None where missing."""
    if kind.name == "date":
        stamps = pd.to_datetime(pd.Series(values, copy=False))  # datetime64 or Python dates alike
        text = stamps.dt.strftime(date_format).to_numpy(dtype=object)
        return np.where(stamps.isna().to_numpy(), None, text)
    if kind.name == "text":
        series = pd.Series(values, copy=False).astype(object)
        return np.where(series.isna().to_numpy(), None, series.astype(str).to_numpy(dtype=object))
    if kind.name == "float":
        return float_text(values)
    ints, gaps = int_values(values)
    text = scaled_text(ints, kind.decimals, trim=kind.name in ("qty", "pct", "price")).astype(object)
    gaps = gaps if missing is None else gaps | missing
    return np.where(gaps, None, text)


def float_text(values) -> np.ndarray:
    """Floats as the shortest text that reads back as the same float (``0.243``, ``-9582.4295``); None for a
    blank. numpy's ``str`` of a float64 is that shortest round-trip form."""
    floats = pd.Series(values, copy=False).to_numpy(dtype=np.float64, na_value=np.nan)
    text = floats.astype(str).astype(object)
    return np.where(np.isfinite(floats), text, None)


def int_values(values) -> tuple[np.ndarray, np.ndarray]:
    """An int64 array and its missing mask from int64 or nullable Int64 values."""
    series = pd.Series(values, copy=False)
    missing = series.isna().to_numpy()
    return series.to_numpy(dtype=np.int64, na_value=0), missing


def excel_serial(values) -> tuple[np.ndarray, np.ndarray]:
    """Dates as Excel day numbers (1900 date system) and their missing mask."""
    stamps = pd.to_datetime(pd.Series(values, copy=False))
    missing = stamps.isna().to_numpy()
    days = stamps.to_numpy(dtype="datetime64[D]", na_value=np.datetime64("1899-12-30")) - EXCEL_EPOCH
    return days.astype(np.int64), missing


def escape_formula(text: pd.Series) -> pd.Series:
    """Prefix ``'`` to text a spreadsheet would run as a formula (``=cmd|...``, ``@SUM``, ``+1``)."""
    starts = text.str[:1].isin(FORMULA_START)
    return text.where(~starts, "'" + text)


def xml_text(text: pd.Series) -> pd.Series:
    """Text safe inside an XML element: markup characters escaped, characters XML forbids removed."""
    return (
        text.str.replace(_XML_INVALID, "", regex=True)
        .str.replace("&", "&amp;", regex=False)
        .str.replace("<", "&lt;", regex=False)
        .str.replace(">", "&gt;", regex=False)
    )
