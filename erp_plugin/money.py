"""Exact money: integer minor units, rounding half away from zero, exact allocation.

Amounts live in integer minor units (kopecks) in int64 arrays; percentages are
decimals held as integers scaled by ``PCT_SCALE`` (so ``2.5`` % is ``25_000``).
Nothing here passes through a binary float. Text and spreadsheet values become
these integers in parsing.py.

Whole-column operations are vectorised in int64; the rare rows whose product
would overflow int64 (a 10^12 line times a large percentage, a 363 M rebate
times a 7 bn turnover share) are recomputed exactly with Python integers.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from .i18n import Number, msg

PCT_DECIMALS = 4
PCT_SCALE = 10**PCT_DECIMALS  # percent units per 1 %: 2.5 % -> 25_000
_SAFE = 2**62  # products below this fit int64 with room for the rounding step


class MoneyError(ValueError):
    """A value that is not a number as a user would type it (parsing.py), or a percentage finer than
    PCT_DECIMALS; the text says what was expected."""


def round_half_up(value: Decimal, places: int = 0) -> Decimal:
    """Round half away from zero (``decimal.ROUND_HALF_UP``) to ``places`` decimals."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)

def pct_to_scaled(pct: Decimal) -> int:
    """A percentage as integer percent units (``2.5`` -> ``25_000``); exact or MoneyError."""
    scaled = pct.scaleb(PCT_DECIMALS)
    if scaled != scaled.to_integral_value():
        raise MoneyError(msg("{pct} has more than {decimals} decimals", pct=Number(pct, most=None), decimals=PCT_DECIMALS))
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
    (parallel.each_block) and the blocks' sums added up: no column-sized temporary. With
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
