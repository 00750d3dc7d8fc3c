"""Exact money: integer minor units, rounding half away from zero, exact allocation.

Amounts live in integer minor units (kopecks) in int64 arrays; percentages are
decimals held as integers scaled by ``PCT_SCALE`` (so ``2.5`` % is ``25_000``).
Nothing here passes through a binary float: text is parsed with ``Decimal``, and
a float handed over by a spreadsheet reader is read through its shortest
``repr`` (the decimal text the spreadsheet stored), never ``Decimal(float)``.

Whole-column operations are vectorised in int64; the rare rows whose product
would overflow int64 (a 10^12 line times a large percentage, a 363 M rebate
times a 7 bn turnover share) are recomputed exactly with Python integers.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np

PCT_DECIMALS = 4
PCT_SCALE = 10**PCT_DECIMALS  # percent units per 1 %: 2.5 % -> 25_000
_SAFE = 2**62  # products below this fit int64 with room for the rounding step


class MoneyError(ValueError):
    """A value that is not a number as a user would type it; the text says what was expected."""


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


def round_half_up(value: Decimal, places: int = 0) -> Decimal:
    """Round half away from zero (``decimal.ROUND_HALF_UP``) to ``places`` decimals."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def to_minor(value: object, minor_units: int = 2) -> int:
    """Parse ``value`` as money and return integer minor units, rounded half away from zero."""
    return int(round_half_up(parse_decimal(value).scaleb(minor_units)))


def decimals_of(value: Decimal) -> int:
    """How many decimals ``value`` carries once trailing zeros are dropped (``2.50`` -> 1)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -int(exponent))


def pct_to_scaled(pct: Decimal) -> int:
    """A percentage as integer percent units (``2.5`` -> ``25_000``); exact or MoneyError."""
    scaled = pct.scaleb(PCT_DECIMALS)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{pct} has more than {PCT_DECIMALS} decimals")
    return int(scaled)


def format_minor(minor: int, minor_units: int = 2, grouped: bool = False) -> str:
    """Minor units as plain text in currency units: ``123456`` -> ``1234.56``, ``-5`` -> ``-0.05``.

    ``grouped`` separates thousands with a space for people: ``1 234.56``.
    """
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(int(minor)), 10**minor_units)
    whole_text = f"{whole:,}".replace(",", " ") if grouped else str(whole)
    return f"{sign}{whole_text}.{part:0{minor_units}d}" if minor_units else f"{sign}{whole_text}"


# ---------------------------------------------------------------- vectorised


def _as_int64(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _surely_safe(a: np.ndarray, b: np.ndarray) -> bool:
    """True when even the largest magnitudes multiply within int64: no row needs the exact path."""
    if a.size == 0 or b.size == 0:
        return True
    return _largest_magnitude(a) * _largest_magnitude(b) < _SAFE


def _largest_magnitude(values: np.ndarray) -> int:
    """max |v| as a Python int, without an array of magnitudes (|int64 min| does not fit int64)."""
    return max(int(values.max()), -int(values.min()))


def _overflow_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rows where ``a * b`` may not fit int64 (judged in float64, with a wide margin)."""
    return np.abs(a.astype(np.float64)) * np.abs(b.astype(np.float64)) >= _SAFE


def mul_div_round(a, b, d) -> np.ndarray:
    """``round(a * b / d)`` half away from zero, element-wise, exact; ``d`` > 0.

    Vectorised in int64; rows where ``a * b`` would overflow are recomputed with
    Python integers. Negating ``a`` or ``b`` negates the result exactly.
    """
    a, b, d = _as_int64(a), _as_int64(b), _as_int64(d)
    if np.any(d <= 0):
        raise ValueError("divisor must be positive")
    if a.size == 0 or b.size == 0:
        return _round_quotient(a * b, d, 0)
    bound = _largest_magnitude(a) * _largest_magnitude(b)
    if bound < _SAFE:  # the common case: no row can overflow, no masking needed
        return _round_quotient(a * b, d, bound)
    a, b = np.broadcast_arrays(a, b)
    d_arr = np.broadcast_to(d, a.shape)
    big = _overflow_rows(a, b)
    safe = ~big
    result = _round_quotient(np.where(safe, a, 0) * np.where(safe, b, 0), d_arr, _SAFE)
    for i in np.flatnonzero(big):
        result[i] = exact_round(int(a.flat[i]) * int(b.flat[i]), int(d_arr.flat[i]))
    return result


_INT64_LIMIT = 2**63


def _round_quotient(product: np.ndarray, d: np.ndarray, bound: int) -> np.ndarray:
    """``product / d`` rounded half away from zero (``d`` > 0, |product| <= ``bound``); ``product`` is
    used up as scratch space.

    ⌊(2|p| + d) / 2d⌋, with |p| turned into the result in place: one division, and
    one by a single number when ``d`` is one, which numpy does without a division
    instruction per row. At ten million lines each temporary array is 80 MB to fill.
    Where 2|p| + d or 2d could leave int64, the remainder is taken instead.
    """
    shape = np.broadcast(product, d).shape
    if np.shape(product) != shape or not shape:  # a scalar, or smaller than d: a full-size array to work in
        product = np.array(np.broadcast_to(product, shape), dtype=np.int64, ndmin=1)
    if product.size == 0:
        return product.reshape(shape)
    negative = product < 0
    q = np.abs(product, out=product)
    largest_d = int(np.max(d))
    if 2 * bound + largest_d < _INT64_LIMIT and 2 * largest_d < _INT64_LIMIT:
        q *= 2
        q += d
        np.floor_divide(q, 2 * d, out=q)
    else:
        r = np.remainder(q, d)
        np.floor_divide(q, d, out=q)
        r *= 2
        q += r >= d
    np.negative(q, out=q, where=negative)
    return q.reshape(shape)


def exact_round(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half away from zero, in Python integers (``denominator`` > 0)."""
    q, r = divmod(abs(numerator), denominator)
    q += 2 * r >= denominator
    if abs(q) > np.iinfo(np.int64).max:
        raise OverflowError(f"{numerator}/{denominator} does not fit 64-bit minor units")
    return -q if numerator < 0 else q


def percent_of(amounts, pct_scaled) -> np.ndarray:
    """``round(amount × pct / 100)`` per element; ``pct_scaled`` in percent units (see PCT_SCALE)."""
    return mul_div_round(amounts, pct_scaled, 100 * PCT_SCALE)


def share_pct(part, whole) -> np.ndarray:
    """``part / whole`` in percent units (PCT_SCALE), half away from zero, element-wise; 0 where ``whole`` is 0."""
    part, whole = _as_int64(part), _as_int64(whole)
    sign = np.where(whole < 0, -1, 1)
    return mul_div_round(part * sign, 100 * PCT_SCALE, np.maximum(np.abs(whole), 1)) * (whole != 0)


def _floor_mul_div(a: np.ndarray, b: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``divmod(a * b, d)`` for a, b >= 0, d > 0, with the Python-int fallback."""
    big = np.zeros(len(a), dtype=bool) if _surely_safe(a, b) else _overflow_rows(a, b)  # the scan only when needed
    q, r = np.divmod(np.where(big, 0, a) * np.where(big, 0, b) if big.any() else a * b, d)
    for i in np.flatnonzero(big):
        q[i], r[i] = divmod(int(a[i]) * int(b[i]), int(d[i]))
    return q, r


_PART_BITS = 21  # group_sums splits int64 values in three parts of at most this many bits


FEW_GROUPS = 4096  # group_sums over at most this many groups goes block by block


def group_sums(values, groups: np.ndarray, count: int) -> np.ndarray:
    """Exact int64 sums of ``values`` per group code 0..count-1, by np.bincount (several times faster than
    a hash group-by on the same codes).

    With few groups (markers, tiers) the rows are summed in blocks on every core
    (blocks.py) and the blocks' sums added up: no column-sized temporary. With
    many (clients, documents) a block's sums would be as big as the groups, so
    the column is summed whole.
    """
    values, groups = _as_int64(values), np.asarray(groups)
    if count <= FEW_GROUPS:
        from .parallel import each_block

        sums = each_block(len(values), lambda rows: _exact_bincount(values[rows], groups[rows], count))
        return np.sum(sums, axis=0, dtype=np.int64) if sums else np.zeros(count, dtype=np.int64)
    return _exact_bincount(values, groups, count)


def _exact_bincount(values: np.ndarray, groups, count: int) -> np.ndarray:
    """np.bincount sums in float64, exact only below 2**53. When the magnitudes
    together stay below 2**52 (money of ten million lines does), no partial sum
    can leave that range and one pass is exact. Otherwise each value is split
    into three parts (low and middle 21 bits, unsigned; the high rest, signed),
    every part summed on its own — exact while a group has fewer than 2**31 rows
    — and the parts are put back together in int64.
    """
    groups = np.asarray(groups, dtype=np.intp)
    weights = values.astype(np.float64)
    if float(np.abs(weights).sum()) < 2.0**52:  # summed with a relative error far below the margin to 2**53
        return np.bincount(groups, weights=weights, minlength=count).astype(np.int64)
    if len(values) >= 2**31:  # beyond the exactness bound of the parts: a hash group-by
        import pandas as pd

        sums = pd.Series(values, copy=False).groupby(groups, sort=False).sum()
        result = np.zeros(count, dtype=np.int64)
        result[sums.index.to_numpy()] = sums.to_numpy(dtype=np.int64)
        return result
    mask = (1 << _PART_BITS) - 1
    parts = (values & mask, (values >> _PART_BITS) & mask, values >> (2 * _PART_BITS))
    total = np.zeros(count, dtype=np.int64)
    for shift, part in zip((0, _PART_BITS, 2 * _PART_BITS), parts):
        summed = np.bincount(groups, weights=part.astype(np.float64), minlength=count).astype(np.int64)
        total += summed << shift  # int64 wraps modulo 2**64: the total is right whenever it fits
    return total


def allocate(total, weights, groups=None) -> np.ndarray:
    """Split totals over rows in proportion to ``weights``, the parts summing exactly.

    Largest remainder: each row first gets ``floor(|total| × w / W)``; the units
    left over go one each to the rows with the largest remainders, ties to the
    earlier row. A negative total is split as its magnitude and negated, so
    ``allocate(-t, w) == -allocate(t, w)``.

    ``groups`` (optional) gives each row's group code 0..G-1, and ``total`` is
    then an array of G totals, one per group; otherwise ``total`` is one number
    split over all rows. Weights must be >= 0, and a group with a non-zero total
    needs a positive weight sum.
    """
    weights = _as_int64(weights)
    n = weights.shape[0]
    if np.any(weights < 0):
        raise ValueError("allocation weights must be >= 0")
    if groups is None:
        groups = np.zeros(n, dtype=np.int64)
        totals = _as_int64([total]).reshape(1)
    else:
        groups = _as_int64(groups)
        totals = _as_int64(total).reshape(-1)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    group_weight = group_sums(weights, groups, totals.shape[0])
    if np.any((group_weight == 0) & (totals != 0)):
        raise ValueError("cannot allocate a non-zero total over rows whose weights sum to 0")
    row_total = np.abs(totals[groups])
    row_weight_sum = np.maximum(group_weight[groups], 1)
    share, remainder = _floor_mul_div(row_total, weights, row_weight_sum)
    given = group_sums(share, groups, totals.shape[0])
    left_over = np.abs(totals) - given
    position = np.arange(n)
    order = _by_group_then_remainder(groups, remainder, totals.shape[0])
    sorted_groups = groups[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_groups)) + 1]
    rank_sorted = position - np.repeat(starts, np.diff(np.r_[starts, n]))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = rank_sorted
    share = share + (rank < left_over[groups])
    return np.where(totals[groups] < 0, -share, share)


def _by_group_then_remainder(groups: np.ndarray, remainder: np.ndarray, count: int) -> np.ndarray:
    """Row order by group, then remainder (largest first), ties to the earlier row.

    One stable sort of a combined key ``group × (R + 1) + (R − remainder)`` when it fits
    in int64 (R the largest remainder), else two stable sorts (remainder, then group)."""
    largest = int(remainder.max(initial=0))
    if count * (largest + 1) < 2**62:
        return np.argsort(groups * (largest + 1) + (largest - remainder), kind="stable")
    order = np.argsort(-remainder, kind="stable")
    return order[np.argsort(groups[order], kind="stable")]


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
