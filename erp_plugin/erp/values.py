"""Whole-column parsers for export values as ERPs write them (numbers are in money.py).

Each returns the parsed column and masks of bad and blank cells, so the reader
can name every bad cell at once. Per-element Python work is limited to telling
apart the types a spreadsheet mixes in one column (numbers, text, dates).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..money import PCT_DECIMALS, parse_scaled_column

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
MAX_SERIAL = 2958465  # 9999-12-31
DATE_FORMATS = (
    "%d.%m.%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y", "%d.%m.%y", "%Y%m%d",
)
NO_VAT = ("без ндс", "без налога", "не облагается", "ндс не облагается", "no vat", "exempt", "vat exempt", "—", "-")


def kinds_of(series: pd.Series) -> np.ndarray:
    """Per cell: ``blank``, ``str``, ``num``, ``date`` or ``other``."""
    return series.map(_kind).to_numpy()


def _kind(value) -> str:
    if value is None:
        return "blank"
    if isinstance(value, str):
        return "str" if value.strip() else "blank"
    if isinstance(value, bool):
        return "other"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "blank" if value != value else "num"
    if isinstance(value, (dt.date, pd.Timestamp, np.datetime64)):
        return "date"
    return "other"


def parse_date_column(values) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Dates from date cells, ``dd.mm.yyyy`` / ISO text (with or without a time) or Excel serials.

    Returns ``(datetime64 series at midnight, bad, blank)``.
    """
    series = pd.Series(values, copy=False).reset_index(drop=True)
    n = len(series)
    result = pd.Series(pd.NaT, index=range(n), dtype="datetime64[s]")
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        blank = series.isna().to_numpy()
        stamps = series.dt.tz_localize(None) if getattr(series.dt, "tz", None) is not None else series
        return stamps.dt.normalize().astype("datetime64[s]"), np.zeros(n, dtype=bool), blank
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        kinds = np.where(series.isna().to_numpy(), "blank", "num")
    else:
        kinds = kinds_of(series)
    blank = kinds == "blank"
    bad = kinds == "other"
    dates = kinds == "date"
    if dates.any():
        result[dates] = pd.to_datetime(series[dates].map(_as_timestamp)).dt.normalize()
    numbers = kinds == "num"
    if numbers.any():
        serial = series[numbers].astype(np.float64)
        ok = (serial >= 1) & (serial <= MAX_SERIAL)
        result[numbers] = (EXCEL_EPOCH + pd.to_timedelta(np.floor(serial.where(ok, 0)), unit="D")).where(ok)
        bad[np.flatnonzero(numbers)[~ok.to_numpy()]] = True
    texts = kinds == "str"
    if texts.any():
        text = series[texts].astype(str).str.strip()
        parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[s]")
        for fmt in DATE_FORMATS:
            todo = parsed.isna()
            if not todo.any():
                break
            parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        serials = parsed.isna() & text.str.fullmatch(r"\d{5}(?:\.0+)?")
        if serials.any():
            parsed[serials] = EXCEL_EPOCH + pd.to_timedelta(text[serials].astype(float).astype(np.int64), unit="D")
        result[texts] = parsed.dt.normalize()
        bad[np.flatnonzero(texts)[parsed.isna().to_numpy()]] = True
    return result, bad, blank


def _as_timestamp(value) -> pd.Timestamp:
    if isinstance(value, dt.datetime):
        return pd.Timestamp(value.replace(tzinfo=None))
    return pd.Timestamp(value)


def parse_text_column(values) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Identifiers and names as text: ``101.0`` read from a number cell is ``101``; trimmed."""
    series = pd.Series(values, copy=False).reset_index(drop=True)
    n = len(series)
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(series.dtype):
        text = series.str.strip()
        blank = (text.isna() | (text == "")).to_numpy()
        return text.where(~blank, None).astype(object), np.zeros(n, dtype=bool), blank
    kinds = kinds_of(series) if pd.api.types.is_object_dtype(series.dtype) else np.where(series.isna(), "blank", "num")
    out = pd.Series([None] * n, dtype=object)
    strs = kinds == "str"
    out[strs] = series[strs].astype(str).str.strip()
    nums = kinds == "num"
    if nums.any():
        numbers = series[nums].astype(np.float64)
        whole = numbers == np.floor(numbers)
        out[nums] = np.where(whole, numbers.astype(np.int64).astype(str), numbers.astype(str))
    dates = kinds == "date"
    if dates.any():
        out[dates] = pd.to_datetime(series[dates].map(_as_timestamp)).dt.strftime("%Y-%m-%d")
    other = kinds == "other"
    out[other] = series[other].astype(str)
    return out, np.zeros(n, dtype=bool), kinds == "blank"


def parse_int_column(values, minimum: int | None = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole numbers (line numbers, days): ``7``, ``7.0``, ``"7"``; ``7.5`` or below ``minimum`` is bad."""
    scaled, bad, blank = parse_scaled_column(values, 3)
    fractional = scaled % 1000 != 0
    ints = scaled // 1000
    bad = bad | (~blank & fractional)
    if minimum is not None:
        bad |= ~blank & (ints < minimum)
    return np.where(bad | blank, 0, ints), bad, blank


def parse_vat_column(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """VAT rates in percent units: ``22%``, ``22``, ``Без НДС`` (0), or a percent cell's ``0.22``.

    A number strictly between 0 and 1 is a cell formatted as Excel percent
    (no VAT rate is a fraction of one percent), so it is multiplied by 100.
    """
    series = pd.Series(values, copy=False).reset_index(drop=True)
    if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
        numeric = kinds_of(series) == "num"
        lowered = series.map(lambda v: v.strip().casefold() if isinstance(v, str) else v)
        series = series.where(~lowered.isin(NO_VAT), "0")
    else:
        numeric = ~series.isna().to_numpy()
    scaled, bad, blank = parse_scaled_column(series, PCT_DECIMALS)
    one = 10**PCT_DECIMALS
    fraction = numeric & ~bad & ~blank & (scaled > 0) & (scaled < one)
    scaled = np.where(fraction, scaled * 100, scaled)
    bad |= ~blank & ((scaled < 0) | (scaled > 100 * one))
    return scaled, bad, blank
