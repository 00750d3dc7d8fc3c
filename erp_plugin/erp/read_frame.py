"""A DataFrame a script hands over, read as an export: ``conform(frame) -> (lines, problems)``.

The frame's columns are matched to the canonical fields exactly as an export's
headers are (``client_id``, ``Контрагент``, the Columns sheet's names), and its
values parsed by the same rules (erp/parse.py), so ``api.price(df, book)`` and
``erp-plugin price`` of the same lines agree to the kopeck. What a user passes
is taken as it is meant: text, integers, ``Decimal``, dates (``date``,
``datetime64``, ISO text), pandas and Arrow dtypes. A float is taken only where
it holds the number exactly (``74000.0``, ``12.5``); ``19.99`` as a float is
not 19.99, so it is a problem asking for ``Decimal("19.99")`` or text, as is a
number with more decimals than its field keeps (money: the minor units). A
problem's row is the frame's ``source_row`` when it has one, else the line's
position counted from 1.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..i18n import msg
from ..lines import REQUIRED_FIELDS, SOURCE_ROW, input_kinds
from ..problems import Problem, Problems
from .fields import FIELDS
from .header import ExportSource, match_fields
from .parse import parse_chunk, report_overflow, shown
from .read import Export

FRAME = Path("<DataFrame>")  # the source a DataFrame's lines came from, as problems and the ledger name it
SCALED = ("qty", "price", "money", "pct")  # the kinds whose numbers are integers at a scale


def conform(frame: pd.DataFrame, minor_units: int = 2, columns: Mapping[str, str] | None = None,
            skip_bad_lines: bool = False) -> Export:
    """The engine's lines of ``frame`` (see lines.py), with every problem; the caller must not go on when
    ``problems.errors``. ``columns`` maps fields to the frame's own names (the Columns sheet)."""
    problems = Problems()
    headers = [str(name) for name in frame.columns]
    fields = match_fields(headers, columns or {})
    missing = [name for name in REQUIRED_FIELDS if name not in fields]
    if missing:
        problems.error("frame.column", msg("the frame has no {missing} column (its columns: {value}); name "
                                           "them as SPEC §6 does, e.g. client_id, qty, unit_price",
                                           missing=', '.join(missing), value=', '.join(headers) or 'none'))
        return Export(pd.DataFrame(), None, problems)
    rows = _rows(frame, problems)
    raw = pd.DataFrame({SOURCE_ROW: rows, **{name: _raw(frame.iloc[:, at]) for name, at in fields.items()}})
    kinds = input_kinds(minor_units)
    inexact = [_inexact(raw[name], kinds[name].decimals, name, rows, kinds[name].name)
               for name in fields if kinds[name].name in SCALED]
    for found in inexact:
        problems.extend(found)
    if problems.errors:
        return Export(pd.DataFrame(), None, problems)
    counts: dict = {}
    lines = parse_chunk(raw, minor_units, skip_bad_lines, problems, counts)
    report_overflow(problems, counts, skip_bad_lines)
    source = ExportSource(FRAME, "frame", headers=headers, fields={name: fields[name] for name in FIELDS if name in fields})
    return Export(lines, source, problems)


def _rows(frame: pd.DataFrame, problems: Problems) -> np.ndarray:
    """The frame's own ``source_row`` when it has whole, distinct ones, else positions from 1."""
    if SOURCE_ROW in frame.columns:
        given = pd.Series(frame[SOURCE_ROW], copy=False)
        if pd.api.types.is_integer_dtype(given.dtype) and not given.isna().any() and given.is_unique:
            return given.to_numpy(dtype=np.int64)
        problems.warning("frame.source_row", msg("source_row is not whole, distinct numbers: rows are counted "
                                                 "from 1 instead"))
    return np.arange(1, len(frame) + 1, dtype=np.int64)


def _raw(values: pd.Series) -> pd.Series:
    """A column as the export parser takes it: typed numbers, dates and text as they are; Decimal objects as
    their exact text (the parser reads a number object through a float)."""
    if values.dtype != object:
        if isinstance(values.dtype, pd.ArrowDtype) or pd.api.types.is_string_dtype(values.dtype):
            return values.astype(object).where(values.notna(), None).reset_index(drop=True)
        return values.reset_index(drop=True)
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    texts = np.array([str(v) if isinstance(v, Decimal) else v for v in distinct] + [None], dtype=object)
    return pd.Series(texts[codes], dtype=object)


def _inexact(values: pd.Series, decimals: int, name: str, rows: np.ndarray, kind: str) -> list[Problem]:
    """A problem for each number that the field's scale cannot hold exactly: a float that is not exact
    (``19.99``), or more decimals than the field keeps."""
    if pd.api.types.is_float_dtype(values.dtype):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isfinite(numbers) & (np.modf(np.ldexp(numbers, decimals))[0] != 0)
        bad |= np.isinf(numbers)
        shown_values = numbers
    elif values.dtype == object:
        codes, distinct = pd.factorize(values, use_na_sentinel=True)
        per_value = np.array([_too_precise(v, decimals) for v in distinct] + [False], dtype=bool)
        bad = per_value[codes]
        shown_values = values.to_numpy(dtype=object)
    else:
        return []
    unit = {"money": "minor units", "qty": "thousandths", "price": "ten-thousandths", "pct": "ten-thousandths of a %"}
    return [Problem("frame.inexact", msg("{name} {value} {why} ({decimals} decimals: {unit}); pass a Decimal "
                                         "or text with the exact figure",
                                         name=name, value=shown(value), why=_why(value, decimals), decimals=decimals, unit=unit[kind]), row=int(row), field=name)
            for row, value in zip(rows[bad][:1000].tolist(), shown_values[bad][:1000].tolist())]


def _why(value, decimals: int) -> str:
    if isinstance(value, float):
        return "is a float that does not hold this figure exactly"
    return "has more decimals than the field keeps"


def _too_precise(value, decimals: int) -> bool:
    if isinstance(value, (float, np.floating)):
        return bool(np.isfinite(value) and np.modf(np.ldexp(float(value), decimals))[0] != 0)
    if isinstance(value, (Decimal, str)):
        try:
            number = Decimal(str(value).strip().replace(" ", "").replace("\u00a0", "").replace(",", "."))
        except InvalidOperation:
            return False  # not a plain number: the parser reads it (1 234,56 ₽) or reports it
        return number.is_finite() and number.scaleb(decimals) != number.scaleb(decimals).to_integral_value()
    return False
