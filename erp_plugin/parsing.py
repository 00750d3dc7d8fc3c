"""Numbers as users type them, parsed exactly into ``Decimal`` or integers of a known scale.

A cell or a text field may hold ``1 234,56``, ``(12,50)``, SAP's ``12.50-``, a
currency or percent sign; a spreadsheet reader may hand over a float. All of it
is read here, one value at a time (``parse_decimal``, ``to_minor``) or a whole
column at a time (``parse_scaled_column``, its vectorised twin held to agree by
a property test), never through ``Decimal(float)``: a float is read through its
shortest ``repr`` (the decimal text the spreadsheet stored). Rounding beyond the
scale is half away from zero (``money.round_half_up``). The arithmetic on the
parsed integers is in money.py.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import numpy as np

from .money import MoneyError, round_half_up

_CURRENCY = re.compile(r"(?i)(₽|руб\.?|р\.|rub|\$|€|usd|eur)")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009'’`]")


def parse_decimal(value: object) -> Decimal:
    """A number as users type it: ``1 234,56``, ``1,234.56``, ``(12,50)``, ``12.50-``, ``5 %``.

    Ints and Decimals are taken as they are; a float is read through its shortest
    repr (``0.1`` stays ``0.1``); text may carry spaces (also non-breaking) as
    thousands separators, a decimal comma, a currency sign, a percent sign, and a
    negative written as ``-5``, ``−5``, ``(5)`` or SAP's ``5-``. With both ``,``
    and ``.`` present the last one is the decimal separator; a lone ``,`` is a
    decimal comma (Russian practice); repeated separators are thousands.
    """
    if isinstance(value, bool):
        raise MoneyError(f"{value} is a TRUE/FALSE value, not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(f"{value} is not a finite number")
        return value
    if isinstance(value, float) or isinstance(value, np.floating):
        if not np.isfinite(value):
            raise MoneyError(f"{value} is not a finite number")
        return Decimal(repr(float(value)))
    if isinstance(value, np.integer):
        return Decimal(int(value))
    if not isinstance(value, str):
        raise MoneyError(f"{value!r} is not a number")
    return _parse_text(value)


def _parse_text(raw: str) -> Decimal:
    text = _SPACES.sub("", raw).replace("−", "-").replace("–", "-")
    text = _CURRENCY.sub("", text).rstrip("%")
    if not text:
        raise MoneyError(f"{raw!r} is empty, expected a number")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.endswith("-") and len(text) > 1:
        negative, text = True, text[:-1]
    if text and text[0] in "+-":
        negative ^= text[0] == "-"
        text = text[1:]
    text = _decimal_point(text)
    if not re.fullmatch(r"\d+(\.\d*)?|\.\d+", text):
        raise MoneyError(f"{raw!r} is not a number (expected e.g. 1234.56 or 1 234,56)")
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern above admits only valid text
        raise MoneyError(f"{raw!r} is not a number") from None
    return -number if negative else number


def _decimal_point(text: str) -> str:
    """Rewrite thousands and decimal separators to plain ``1234.56``."""
    comma, dot = text.rfind(","), text.rfind(".")
    if comma >= 0 and dot >= 0:
        decimal_sep, thousands = (",", ".") if comma > dot else (".", ",")
        text = text.replace(thousands, "")
        return text.replace(decimal_sep, ".")
    for sep in (",", "."):
        count = text.count(sep)
        if count > 1:
            return text.replace(sep, "")
        if count == 1:
            return text.replace(sep, ".")
    return text


def to_minor(value: object, minor_units: int = 2) -> int:
    """Parse ``value`` as money and return integer minor units, rounded half away from zero."""
    return int(round_half_up(parse_decimal(value).scaleb(minor_units)))


def decimals_of(value: Decimal) -> int:
    """How many decimals ``value`` carries once trailing zeros are dropped (``2.50`` -> 1)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -int(exponent))


# ------------------------------------------------------- whole-column parsing

_SPACES_PATTERN = _SPACES.pattern
_CURRENCY_PATTERN = _CURRENCY.pattern
_NUMBER_PATTERN = r"\d+(?:\.\d*)?|\.\d+"
_EXACT_LIMIT = 2.0**31  # above this a float's scaled value is recomputed exactly from its repr


def parse_scaled_column(values, decimals: int):
    """Parse a whole column of numbers as users type them into integers scaled by ``10**decimals``.

    The same rules as ``parse_decimal`` (the scalar twin, held to agree by a property
    test), vectorised with pandas string operations: numbers stay numbers, text
    such as ``1 234,56``, ``(12,50)`` or ``12.50-`` is normalised column-wide, and
    rounding beyond ``decimals`` is half away from zero.

    Returns ``(scaled int64, bad, blank)``: ``bad`` marks values that are not
    numbers (their scaled value is 0), ``blank`` marks empty cells.
    """
    import pandas as pd

    series = pd.Series(values, copy=False)
    n = len(series)
    scaled = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    blank = np.zeros(n, dtype=bool)
    if n == 0:
        return scaled, bad, blank
    if isinstance(series.dtype, pd.ArrowDtype) and _is_decimal(series.dtype):
        return scale_arrow_decimals(series.array._pa_array, decimals)
    if pd.api.types.is_bool_dtype(series.dtype):
        bad[:] = True
        return scaled, bad, blank
    if pd.api.types.is_integer_dtype(series.dtype):  # whole numbers: scaled as they are, no float in between
        blank = series.isna().to_numpy()
        scaled, bad = scale_ints(series.to_numpy(dtype=np.int64, na_value=0), decimals)
        return scaled, bad, blank
    if pd.api.types.is_float_dtype(series.dtype):
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        blank = np.isnan(numbers)
        scaled[~blank], bad[~blank] = _scale_floats(numbers[~blank], decimals)
        return scaled, bad, blank
    from .cellkinds import cell_kinds

    kinds = cell_kinds(series.to_numpy(dtype=object))
    blank, bad = kinds.blank, kinds.other | kinds.date
    if kinds.number.any():
        numbers = series[kinds.number].astype(np.float64).to_numpy()
        scaled[kinds.number], bad[kinds.number] = _scale_floats(numbers, decimals)
    if kinds.text.any():
        values_s, bad_s, blank_s = _scale_strings(series[kinds.text].astype(str), decimals)
        scaled[kinds.text] = values_s
        bad[kinds.text] = bad_s
        blank[kinds.text] = blank_s
    return scaled, bad, blank


def _is_decimal(dtype) -> bool:
    import pyarrow as pa

    return pa.types.is_decimal(dtype.pyarrow_dtype)


def scale_arrow_decimals(values, decimals: int):
    """Arrow decimals (parquet; an Array or ChunkedArray) to integers scaled by ``10**decimals``, exactly,
    from their unscaled values. Returns ``(scaled, bad, blank)`` like parse_scaled_column.

    More decimals than ``decimals`` are rounded half away from zero; a value beyond int64 is bad.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.chunked_array([values]) if isinstance(values, pa.Array) else values
    array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    n = len(array)
    blank = array.is_null().to_numpy(zero_copy_only=False)
    bad = np.zeros(n, dtype=bool)
    if pa.types.is_decimal64(array.type) and array.type.scale == decimals:  # the values are the int64 words
        words = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset: array.offset + n]
        return np.where(blank, 0, words), bad, blank
    if array.type.scale > decimals:
        if not (pa.types.is_decimal128(array.type) or pa.types.is_decimal256(array.type)):  # round has no decimal32/64 kernel
            array = array.cast(pa.decimal128(38, array.type.scale))
        array = pc.round(array, ndigits=decimals, round_mode="half_towards_infinity")
    if array.type.scale != decimals or not pa.types.is_decimal128(array.type):  # same scale: the words already are
        try:
            array = array.cast(pa.decimal128(38, decimals))
        except pa.ArrowInvalid:  # beyond 38 digits after rescaling: not money
            return np.zeros(n, dtype=np.int64), ~blank, blank
    words = np.frombuffer(array.buffers()[1], dtype=np.int64)[2 * array.offset: 2 * (array.offset + n)]
    low, high = words[0::2], words[1::2]
    fits = high == np.where(low < 0, -1, 0)  # the high word is only the sign extension
    bad = ~fits & ~blank
    return np.where(fits & ~blank, low, 0).astype(np.int64), bad, blank


def scale_ints(ints: np.ndarray, decimals: int) -> tuple[np.ndarray, np.ndarray]:
    """Whole numbers scaled by ``10**decimals``; ``(scaled, bad)``, bad where the scaled value would not fit int64."""
    limit = np.iinfo(np.int64).max // 10**decimals
    bad = (ints > limit) | (ints < -limit)
    return np.where(bad, 0, ints) * 10**decimals, bad


def _scale_floats(numbers: np.ndarray, decimals: int) -> tuple[np.ndarray, np.ndarray]:
    """Floats as the decimals they were typed as; near-ties and large values go through ``repr``.

    Returns ``(scaled, bad)``; infinities and values beyond int64 are bad.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        y = numbers * float(10**decimals)
        magnitude = np.abs(y)
        whole = np.floor(magnitude)
        fraction = magnitude - whole
    finite = np.isfinite(y)
    exact = finite & ((np.abs(fraction - 0.5) < 1e-6) | (magnitude >= _EXACT_LIMIT))
    rounded = np.where(fraction >= 0.5, whole + 1, whole)
    result = np.where(exact | ~finite, 0, np.where(y < 0, -rounded, rounded)).astype(np.int64)
    bad = ~finite
    for i in np.flatnonzero(exact):
        value = int(round_half_up(parse_decimal(float(numbers[i])).scaleb(decimals)))
        if abs(value) > np.iinfo(np.int64).max:
            bad[i] = True
        else:
            result[i] = value
    return result, bad


def _scale_strings(text, decimals: int):
    """Vectorised ``_parse_text``: the same normalisation, one pandas string operation at a time."""
    import pandas as pd

    t = text.str.replace(_SPACES_PATTERN, "", regex=True)
    blank = (t == "").to_numpy()  # only white space; a lone "%" or "₽" is not a number, not blank
    t = t.str.replace("−", "-", regex=False).str.replace("–", "-", regex=False)
    t = t.str.replace(_CURRENCY_PATTERN, "", regex=True).str.rstrip("%")
    paren = t.str.startswith("(") & t.str.endswith(")")
    t = t.where(~paren, t.str[1:-1])
    trailing = t.str.endswith("-") & (t.str.len() > 1)
    t = t.where(~trailing, t.str[:-1])
    sign = t.str[:1]
    signed = sign.isin(["+", "-"])
    negative = (paren | trailing) ^ (sign == "-")
    t = t.where(~signed, t.str[1:])
    comma, dot = t.str.rfind(","), t.str.rfind(".")
    both = (comma >= 0) & (dot >= 0)
    comma_decimal = (both & (comma > dot)) | (~both & (t.str.count(",") == 1))
    dot_decimal = (both & (dot > comma)) | (~both & (t.str.count(r"\.") == 1))
    t = pd.Series(
        np.select(
            [comma_decimal.to_numpy(), dot_decimal.to_numpy()],
            [
                t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False).to_numpy(),
                t.str.replace(",", "", regex=False).to_numpy(),
            ],
            t.str.replace(",", "", regex=False).str.replace(".", "", regex=False).to_numpy(),
        ),
        index=t.index,
    )
    good = t.str.fullmatch(_NUMBER_PATTERN).fillna(False).to_numpy() & ~blank
    parts = t.where(good, "0").str.partition(".")
    whole_text = parts[0].where(parts[0] != "", "0")
    too_long = (whole_text.str.len() > 18 - decimals).to_numpy()
    whole_text = whole_text.where(~too_long, "0")
    digits = parts[2].str.pad(decimals + 1, side="right", fillchar="0").str[: decimals + 1]
    kept = digits.str[:decimals].replace("", "0").astype(np.int64).to_numpy() if decimals else 0
    round_up = (digits.str[decimals].astype(np.int64) >= 5).to_numpy()
    value = whole_text.astype(np.int64).to_numpy() * 10**decimals + kept + round_up
    value = np.where(negative.to_numpy(), -value, value)
    bad = ~good & ~blank
    value = np.where(good, value, 0).astype(np.int64)
    for i in np.flatnonzero(too_long & good):  # beyond the int64 fast path: exact, refused if it cannot fit
        exact = int(round_half_up(parse_decimal(text.iloc[i]).scaleb(decimals)))
        if abs(exact) > np.iinfo(np.int64).max:
            bad[i] = True
        else:
            value[i] = exact
    return value, bad, blank
