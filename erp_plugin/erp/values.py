"""Whole-column parsers for export values as ERPs write them (numbers are in parsing.py).

Each returns the parsed column and masks of bad and blank cells, so the reader
can name every bad cell at once. Per-element Python work is limited to telling
apart the types a spreadsheet mixes in one column (numbers, text, dates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..cellkinds import blank_text, cell_kinds
from ..money import PCT_DECIMALS
from ..parsing import parse_scaled_column

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
MAX_SERIAL = 2958465  # 9999-12-31
DATE_FORMATS = (
    "%d.%m.%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d.%m.%y", "%Y%m%d",
)
MONTH_FIRST = {"%d/%m/%Y": "%m/%d/%Y", "%d/%m/%Y %H:%M": "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S": "%m/%d/%Y %H:%M:%S"}
# a time's fraction of a second and its UTC offset, left aside: the day is the one the ERP wrote
UTC_OFFSET = r"(?<=:\d{2})\.\d+|(?<=\d)\s*(?:[+-]\d{2}:?\d{2}|Z|UTC)$"
NO_VAT = ("без ндс", "без налога", "не облагается", "ндс не облагается", "no vat", "exempt", "vat exempt", "—", "-")


def parse_date_column(values) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Dates from date cells, ``dd.mm.yyyy`` / ISO text (with or without a time, a UTC offset left aside: the
    day is the one the ERP wrote), ``dd/mm/yyyy`` (``mm/dd/yyyy`` when the column shows it) or Excel serials.

    Returns ``(datetime64 series at midnight, bad, blank)``.
    """
    series = pd.Series(values, copy=False).reset_index(drop=True)
    n = len(series)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        blank = series.isna().to_numpy()
        stamps = series.dt.tz_localize(None) if getattr(series.dt, "tz", None) is not None else series
        return stamps.dt.normalize().astype("datetime64[s]"), np.zeros(n, dtype=bool), blank
    result = pd.Series(pd.NaT, index=range(n), dtype="datetime64[s]")
    kinds = cell_kinds(series.to_numpy(dtype=object))
    blank, bad = kinds.blank, kinds.other.copy()
    if kinds.date.any():
        stamps = pd.to_datetime(series[kinds.date].to_numpy(), format="mixed", utc=False)
        result[kinds.date] = stamps.tz_localize(None).normalize() if stamps.tz is not None else stamps.normalize()
    if kinds.number.any():
        serial = series[kinds.number].astype(np.float64)
        ok = (serial >= 1) & (serial <= MAX_SERIAL)
        result[kinds.number] = (EXCEL_EPOCH + pd.to_timedelta(np.floor(serial.where(ok, 0)), unit="D")).where(ok)
        bad[np.flatnonzero(kinds.number)[~ok.to_numpy()]] = True
    if kinds.text.any():
        text = series[kinds.text].astype(str).str.strip().str.replace(UTC_OFFSET, "", regex=True)
        parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[s]")
        for fmt in _formats_for(text):
            todo = parsed.isna()
            if not todo.any():
                break
            parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        serials = parsed.isna() & text.str.fullmatch(r"\d{5}(?:\.0+)?")
        if serials.any():
            parsed[serials] = EXCEL_EPOCH + pd.to_timedelta(text[serials].astype(float).astype(np.int64), unit="D")
        result[kinds.text] = parsed.dt.normalize()
        bad[np.flatnonzero(kinds.text)[parsed.isna().to_numpy()]] = True
    return result, bad, blank


def _formats_for(text: pd.Series) -> tuple[str, ...]:
    """The date formats to try on a column's text: ``dd/mm/yyyy`` as written in Russia and Europe, unless the
    column shows itself month first (a second part above 12, none first: ``12/13/2010``, the US order)."""
    parts = text.str.extract(r"^(\d{1,2})/(\d{1,2})/\d{2,4}")
    if parts[0].isna().all():
        return DATE_FORMATS
    first, second = parts[0].dropna().astype(int), parts[1].dropna().astype(int)
    if (second > 12).any() and not (first > 12).any():
        return tuple(MONTH_FIRST.get(fmt, fmt) for fmt in DATE_FORMATS)
    return DATE_FORMATS


def parse_text_column(values) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Identifiers and names as text: ``101.0`` read from a number cell is ``101``; trimmed."""
    series = pd.Series(values, copy=False).reset_index(drop=True)
    n = len(series)
    if not pd.api.types.is_object_dtype(series.dtype) and pd.api.types.is_string_dtype(series.dtype):
        text = series.str.strip()
        blank = blank_text(text)
        return text.astype(object).where(~blank, None), np.zeros(n, dtype=bool), blank
    kinds = cell_kinds(series.to_numpy(dtype=object))
    out = pd.Series([None] * n, dtype=object)
    if kinds.text.any():
        out[kinds.text] = series[kinds.text].astype(str).str.strip()
    if kinds.number.any():
        numbers = series[kinds.number].astype(np.float64)
        whole = numbers == np.floor(numbers)
        out[kinds.number] = np.where(whole, numbers.astype(np.int64).astype(str), numbers.astype(str))
    if kinds.date.any():
        out[kinds.date] = pd.to_datetime(series[kinds.date].to_numpy(), format="mixed").strftime("%Y-%m-%d")
    if kinds.other.any():
        out[kinds.other] = series[kinds.other].astype(str)
    return out, np.zeros(n, dtype=bool), kinds.blank


def parse_int_column(values, minimum: int | None = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole numbers (line numbers, days): ``7``, ``7.0``, ``"7"``; ``7.5`` or below ``minimum`` is bad."""
    return whole_numbers(*parse_scaled_column(values, WHOLE_DECIMALS), minimum)


WHOLE_DECIMALS = 3  # whole numbers are parsed at this scale first, so that 7.5 is seen as not whole


def whole_numbers(scaled: np.ndarray, bad: np.ndarray, blank: np.ndarray, minimum: int | None = 0):
    """Numbers parsed at WHOLE_DECIMALS as whole numbers: a fraction, or a value below ``minimum``, is bad."""
    unit = 10**WHOLE_DECIMALS
    ints = scaled // unit
    bad = bad | (~blank & (scaled % unit != 0))
    if minimum is not None:
        bad |= ~blank & (ints < minimum)
    return np.where(bad | blank, 0, ints), bad, blank


def parse_vat_column(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """VAT rates in percent units: ``22%``, ``22``, ``Без НДС`` (0), or a percent cell's ``0.22``."""
    series = pd.Series(values, copy=False).reset_index(drop=True)
    if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
        kinds = cell_kinds(series.to_numpy(dtype=object))
        numeric = kinds.number
        written = kinds.text | kinds.placeholder  # "-" and "—" are "no VAT" here, not blanks
        if written.any():
            lowered = series[written].astype(str).str.strip().str.casefold()
            no_vat = lowered.isin(NO_VAT)
            series = series.copy()
            series[no_vat[no_vat].index] = "0"
    else:
        numeric = ~series.isna().to_numpy()
    return vat_rates(*parse_scaled_column(series, PCT_DECIMALS), numeric)


def vat_rates(scaled: np.ndarray, bad: np.ndarray, blank: np.ndarray, numeric: np.ndarray):
    """Parsed VAT rates checked: from 0 to 100 %.

    A number (``numeric``) strictly between 0 and 1 among rates of 1 % or more is a
    cell formatted as Excel percent (no VAT rate is a fraction of one percent), so it
    is multiplied by 100. When every rate given is below 1 %, the column is left as it
    is for the reader to read ×100 with a notice (Odoo's ``0.07``).
    """
    one = 10**PCT_DECIMALS
    below_one = ~bad & ~blank & (scaled > 0) & (scaled < one)
    if below_one.sum() == (~bad & ~blank & (scaled != 0)).sum():
        return scaled, bad, blank  # every rate a fraction: a fraction column, read ×100 with a notice (parse.py)
    fraction = numeric & below_one
    scaled = np.where(fraction, scaled * 100, scaled)
    bad = bad | (~blank & ((scaled < 0) | (scaled > 100 * one)))
    return scaled, bad, blank
