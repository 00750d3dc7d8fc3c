"""Numbers as users type them, parsed exactly into ``Decimal`` or integers of a known scale.

A cell or a text field may hold ``1 234,56``, ``(12,50)``, SAP's ``12.50-``, a
currency or percent sign; a spreadsheet reader may hand over a float. All of it
is read here, one value at a time (``parse_decimal``, ``to_minor``) or a whole
column at a time (``parse_scaled_column``, its vectorised twin held to agree by
a property test), never through ``Decimal(float)``: a float is read through its
shortest ``repr`` (the decimal text the spreadsheet stored). Thousands separators
must group by three (``1 234,56,78`` is not a number). A column is parsed exactly
at its scale: a value with more decimals than the field keeps is bad, never
rounded (SPEC §6; a float is taken at Excel's 15 significant digits, so a cell's
binary noise is not a decimal the user typed). ``to_minor`` rounds half away
from zero, for figures the product computes. The arithmetic on the parsed
integers is in money.py.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

import numpy as np

from .i18n import msg
from .money import MoneyError, round_half_up

_CURRENCY = re.compile(r"(?i)(₽|руб\.?|р\.|rub|\$|€|usd|eur)")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009'’`]")
# a space (or apostrophe) between two digits groups thousands: kept as "_" so that the grouping can be checked
_DIGIT_GAP = r"(\d)[\s\u00a0\u202f\u2009'’`]+(\d)"
# what may be left once signs, currency and percent are gone: plain, or thousands grouped by three
_NUMBER_TEXT = (r"\d+(?:[.,]\d*)?|[.,]\d+|\d{1,3}(?:_\d{3})+(?:[.,]\d*)?|\d{1,3}(?:\.\d{3}){2,}|\d{1,3}(?:,\d{3}){2,}"
                r"|\d{1,3}(?:\.\d{3})+,\d*|\d{1,3}(?:,\d{3})+\.\d*")
EXCEL_DIGITS = Context(prec=15, rounding=ROUND_HALF_EVEN)  # the significant digits a spreadsheet cell holds


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
        raise MoneyError(msg("{value} is a TRUE/FALSE value, not a number", value=value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(msg("{value} is not a finite number", value=value))
        return value
    if isinstance(value, float) or isinstance(value, np.floating):
        if not np.isfinite(value):
            raise MoneyError(msg("{value} is not a finite number", value=value))
        return Decimal(repr(float(value)))
    if isinstance(value, np.integer):
        return Decimal(int(value))
    if not isinstance(value, str):
        raise MoneyError(msg("{value!r} is not a number", value=value))
    return _parse_text(value)


def _parse_text(raw: str) -> Decimal:
    text = _SPACES.sub("", re.sub(_DIGIT_GAP, r"\1_\2", re.sub(_DIGIT_GAP, r"\1_\2", raw)))
    text = text.replace("−", "-").replace("–", "-")
    text = _CURRENCY.sub("", text).rstrip("%")
    if not text:
        raise MoneyError(msg("{raw!r} is empty, expected a number", raw=raw))
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.endswith("-") and len(text) > 1:
        negative, text = True, text[:-1]
    if text and text[0] in "+-":
        negative ^= text[0] == "-"
        text = text[1:]
    if not re.fullmatch(_NUMBER_TEXT, text):
        raise MoneyError(msg("{raw!r} is not a number (expected e.g. 1234.56 or 1 234,56; thousands grouped by "
                             "three)",
                             raw=raw))
    text = _decimal_point(text.replace("_", ""))
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern above admits only valid text
        raise MoneyError(msg("{raw!r} is not a number", raw=raw)) from None
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


def to_scaled(value: object, decimals: int) -> int:
    """``value`` as an integer scaled by ``10**decimals``, exactly: more decimals than that is a MoneyError,
    never rounded. A float is taken at Excel's 15 significant digits (``0.30000000000000004`` is 0.3)."""
    number = parse_decimal(value)
    if isinstance(value, (float, np.floating)):
        number = EXCEL_DIGITS.plus(number)
    scaled = number.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise MoneyError(msg("{value!r} has {places} decimals; the field keeps {decimals}", value=value, places=decimals_of(number), decimals=decimals))
    return int(scaled)


def decimals_of(value: Decimal) -> int:
    """How many decimals ``value`` carries once trailing zeros are dropped (``2.50`` -> 1)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -int(exponent))


# ------------------------------------------------------- whole-column parsing

_SPACES_PATTERN = _SPACES.pattern
_CURRENCY_PATTERN = _CURRENCY.pattern
_EXACT_LIMIT = 2.0**31  # above this a float's scaled value is recomputed exactly from its repr


def parse_scaled_column(values, decimals: int):
    """Parse a whole column of numbers as users type them into integers scaled by ``10**decimals``.

    The same rules as ``to_scaled`` (the scalar twin, held to agree by a property
    test), vectorised with pandas string operations: numbers stay numbers, text
    such as ``1 234,56``, ``(12,50)`` or ``12.50-`` is normalised column-wide, and
    a value with more decimals than ``decimals`` is bad, not rounded.

    Returns ``(scaled int64, bad, blank)``: ``bad`` marks values that are not
    numbers, or not exactly at the scale (their scaled value is 0), ``blank``
    marks empty cells.
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

    A value with more decimals than ``decimals`` (not zeros) is bad, as is one beyond int64.
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
        rounded = pc.round(array, ndigits=decimals, round_mode="half_towards_infinity")
        finer = pc.fill_null(pc.not_equal(rounded, array), False).to_numpy(zero_copy_only=False)
        array = pc.if_else(finer, pa.scalar(0, array.type), rounded)  # exact at the scale now; the finer ones bad
        bad |= finer
    if array.type.scale != decimals or not pa.types.is_decimal128(array.type):  # same scale: the words already are
        try:
            array = array.cast(pa.decimal128(38, decimals))
        except pa.ArrowInvalid:  # beyond 38 digits after rescaling: not money
            return np.zeros(n, dtype=np.int64), ~blank, blank
    words = np.frombuffer(array.buffers()[1], dtype=np.int64)[2 * array.offset: 2 * (array.offset + n)]
    low, high = words[0::2], words[1::2]
    fits = high == np.where(low < 0, -1, 0)  # the high word is only the sign extension
    bad |= ~fits & ~blank
    return np.where(fits & ~blank & ~bad, low, 0).astype(np.int64), bad, blank


def scale_ints(ints: np.ndarray, decimals: int) -> tuple[np.ndarray, np.ndarray]:
    """Whole numbers scaled by ``10**decimals``; ``(scaled, bad)``, bad where the scaled value would not fit int64."""
    limit = np.iinfo(np.int64).max // 10**decimals
    bad = (ints > limit) | (ints < -limit)
    return np.where(bad, 0, ints) * 10**decimals, bad


def _scale_floats(numbers: np.ndarray, decimals: int) -> tuple[np.ndarray, np.ndarray]:
    """Floats as the decimals they were typed as (``to_scaled``); ``(scaled, bad)``.

    A float that scales to a whole number exactly is taken at once; one that is far from
    whole has more decimals than the scale (bad); the few in between (a cell's binary
    noise, such as 0.30000000000000004) and large values go through ``to_scaled``.
    Infinities and values beyond int64 are bad.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        y = numbers * float(10**decimals)
        nearest = np.rint(y)
        gap = np.abs(y - nearest)
    finite = np.isfinite(y)
    far = finite & (gap > np.maximum(np.abs(y), 1.0) * 1e-12)  # beyond any rounding at 15 significant digits
    look = finite & ~far & ((gap > 0) | (np.abs(y) >= _EXACT_LIMIT))
    result = np.where(finite & ~far & ~look, nearest, 0).astype(np.int64)
    bad = ~finite | far
    for i in np.flatnonzero(look):
        try:
            value = to_scaled(float(numbers[i]), decimals)
        except MoneyError:
            bad[i] = True
            continue
        if abs(value) > np.iinfo(np.int64).max:
            bad[i] = True
        else:
            result[i] = value
    return result, bad


def _scale_strings(text, decimals: int):
    """Vectorised ``_parse_text`` and ``to_scaled``: the same normalisation, one pandas string operation at
    a time; a value with more decimals than ``decimals`` is bad."""
    import pandas as pd

    t = text.str.replace(_DIGIT_GAP, r"\1_\2", regex=True).str.replace(_DIGIT_GAP, r"\1_\2", regex=True)
    t = t.str.replace(_SPACES_PATTERN, "", regex=True)
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
    good = t.str.fullmatch(_NUMBER_TEXT).fillna(False).to_numpy() & ~blank  # thousands grouped by three
    t = t.str.replace("_", "", regex=False)
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
    parts = t.where(good, "0").str.partition(".")
    whole_text = parts[0].where(parts[0] != "", "0")
    finer = (parts[2].str[decimals:].str.rstrip("0") != "").to_numpy()  # digits beyond the scale: not rounded
    good &= ~finer
    too_long = (whole_text.str.len() > 18 - decimals).to_numpy() & good
    whole_text = whole_text.where(~too_long, "0")
    digits = parts[2].str.pad(decimals, side="right", fillchar="0").str[:decimals]
    kept = digits.replace("", "0").astype(np.int64).to_numpy() if decimals else 0
    value = whole_text.astype(np.int64).to_numpy() * 10**decimals + kept
    value = np.where(negative.to_numpy(), -value, value)
    bad = ~good & ~blank
    value = np.where(good, value, 0).astype(np.int64)
    for i in np.flatnonzero(too_long):  # beyond the int64 fast path: exact, refused if it cannot fit
        exact = to_scaled(text.iloc[i], decimals)
        if abs(exact) > np.iinfo(np.int64).max:
            bad[i] = True
        else:
            value[i] = exact
    return value, bad, blank
