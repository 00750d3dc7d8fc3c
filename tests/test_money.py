from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from erp_plugin import money
from erp_plugin import parallel as blocks
from erp_plugin.cellkinds import PLACEHOLDERS
from erp_plugin.money import (
    MoneyError,
    allocate,
    format_minor,
    group_sums,
    mul_div_round,
    pct_to_scaled,
    percent_of,
)
from erp_plugin.parsing import parse_decimal, to_minor, to_scaled


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1234.56", "1234.56"),
        ("1 234,56", "1234.56"),
        ("1\u00a0234,56", "1234.56"),  # non-breaking space, as 1C writes it
        ("1\u202f234,56", "1234.56"),  # narrow no-break space, as Excel in ru-RU writes it
        ("1,234.56", "1234.56"),
        ("1.234.567,8", "1234567.8"),
        ("1,234,567", "1234567"),
        ("12,5", "12.5"),
        ("-5", "-5"),
        ("−5,10", "-5.10"),
        ("(12,50)", "-12.50"),
        ("12.50-", "-12.50"),  # SAP writes negatives with a trailing minus
        ("1 500 ₽", "1500"),
        ("2 000 руб.", "2000"),
        ("2,5 %", "2.5"),
        ("+7", "7"),
        (".5", "0.5"),
    ],
)
def test_parse_text_as_users_type_it(text, expected):
    assert parse_decimal(text) == Decimal(expected)


def test_parse_numbers_never_through_binary_float():
    assert parse_decimal(0.1) == Decimal("0.1")
    assert parse_decimal(1.005) == Decimal("1.005")
    assert to_minor(1.005) == 101  # Decimal(1.005) would be 1.00499999... -> 100
    assert to_minor(2.675) == 268
    assert parse_decimal(7) == Decimal(7)


@pytest.mark.parametrize("bad", ["", "abc", "1.2.3,4,5", "12-3", "--5", True, None, float("nan")])
def test_parse_refuses_what_is_not_a_number(bad):
    with pytest.raises(MoneyError):
        parse_decimal(bad)


def test_to_minor_rounds_half_away_from_zero():
    assert to_minor("0.005") == 1
    assert to_minor("-0.005") == -1
    assert to_minor("0.0049") == 0
    assert to_minor("1 234,565") == 123457
    assert to_minor("10", minor_units=0) == 10


def test_format_minor():
    assert format_minor(123456) == "1234.56"
    assert format_minor(-5) == "-0.05"
    assert format_minor(0) == "0.00"
    assert format_minor(7, 0) == "7"


def test_percent_of_hand_worked():
    # 1 000.00 at 2.5 % = 25.00; 0.33 at 2.5 % = 0.825 kopecks -> 1; 0.01 at 2.5 % -> 0
    # 0.33 at 50 % = 16.5 kopecks -> 17 (half away from zero), -0.33 -> -17
    amounts = np.array([100000, 33, -33, 1], dtype=np.int64)
    pct = pct_to_scaled(Decimal("2.5"))
    assert pct == 25000
    assert percent_of(amounts, pct).tolist() == [2500, 1, -1, 0]
    assert percent_of(amounts, pct_to_scaled(Decimal(50))).tolist() == [50000, 17, -17, 1]


def test_percent_of_huge_line_is_exact():
    # 10^12 minor units at 99.9999 %: 999 999 000 000 exactly, no int64 overflow.
    amount = np.array([10**12, -(10**12)], dtype=np.int64)
    assert percent_of(amount, pct_to_scaled(Decimal("99.9999"))).tolist() == [999999000000, -999999000000]
    # 10^12 at 250 % (a multiplier-like figure) needs the exact path: 2.5e12 * 2.5e6 > 2^62
    assert percent_of(amount[:1], 250 * 10**4).tolist() == [25 * 10**11]


def test_pct_with_too_many_decimals_is_refused():
    with pytest.raises(MoneyError):
        pct_to_scaled(Decimal("33.33333"))


def test_allocate_hand_worked_ties_go_to_earlier_line():
    # 100 over three equal lines: 33.33 each, one unit left, goes to the first line.
    assert allocate(100, [1, 1, 1]).tolist() == [34, 33, 33]
    # 10 over weights 1,2,3,4: exact 1,2,3,4
    assert allocate(10, [1, 2, 3, 4]).tolist() == [1, 2, 3, 4]
    # 7 over 2,2,1: shares 2.8,2.8,1.4 -> floors 2,2,1, two left; remainders .8,.8,.4
    assert allocate(7, [2, 2, 1]).tolist() == [3, 3, 1]
    # 5 over 1,1,1: 1.67 each -> floors 1, two left, all remainders tie -> the first two lines
    assert allocate(5, [1, 1, 1]).tolist() == [2, 2, 1]
    assert allocate(-5, [1, 1, 1]).tolist() == [-2, -2, -1]
    # a zero weight gets nothing
    assert allocate(5, [0, 1, 1]).tolist() == [0, 3, 2]


def test_allocate_groups():
    groups = np.array([0, 1, 0, 1, 1])
    weights = np.array([1, 1, 1, 1, 1])
    assert allocate(np.array([3, 10]), weights, groups).tolist() == [2, 4, 1, 3, 3]


def test_allocate_overflow_case_from_architecture_notes():
    # 363 M rebate (in kopecks) over lines of a 7 bn turnover: rebate x line net ~ 1.2e19.
    rebate = 363_000_000_00
    weights = np.array([3_500_000_000_00, 3_499_999_999_99, 1], dtype=np.int64)
    parts = allocate(rebate, weights)
    assert int(parts.sum()) == rebate
    exact = [Decimal(rebate) * w / int(weights.sum()) for w in weights.tolist()]
    assert all(abs(Decimal(int(p)) - e) < 1 for p, e in zip(parts.tolist(), exact))


def test_allocate_refuses_zero_weights_for_nonzero_total():
    with pytest.raises(ValueError):
        allocate(5, [0, 0])


amounts = st.integers(min_value=-(10**12), max_value=10**12)


@given(total=st.integers(-(10**13), 10**13), weights=st.lists(st.integers(0, 10**12), min_size=1, max_size=30))
def test_allocation_sums_exactly_and_is_symmetric(total, weights):
    if sum(weights) == 0:
        weights[0] = 1
    parts = allocate(total, weights)
    assert int(parts.sum()) == total
    assert (allocate(-total, weights) == -parts).all()
    w_sum = sum(weights)
    for part, w in zip(parts.tolist(), weights):
        exact = Decimal(abs(total)) * w / w_sum
        assert abs(Decimal(abs(part)) - exact) < 1


def _largest_remainder(totals: list[int], weights: list[int], groups: list[int]) -> list[int]:
    """The rule written out with Python integers, one group at a time: the reference for allocate."""
    parts = [0] * len(weights)
    for g, total in enumerate(totals):
        rows = [i for i, row_group in enumerate(groups) if row_group == g]
        whole = sum(weights[i] for i in rows)
        if not rows or whole == 0:
            continue
        for i in rows:
            parts[i] = abs(total) * weights[i] // whole
        left = abs(total) - sum(parts[i] for i in rows)
        for i in sorted(rows, key=lambda i: (-(abs(total) * weights[i] % whole), i))[:left]:
            parts[i] += 1
        for i in rows:
            parts[i] = -parts[i] if total < 0 else parts[i]
    return parts


@given(data=st.data(), huge=st.booleans())
def test_grouped_allocation_is_the_largest_remainder_rule(data, huge):
    # huge weights make remainders too large for the one-sort key: the two-sort path is checked too
    top = 10**17 if huge else 10**6
    n = data.draw(st.integers(1, 40))
    weights = data.draw(st.lists(st.integers(0, top), min_size=n, max_size=n))
    groups = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    totals = [data.draw(st.integers(-(10**12), 10**12)) if any(w for w, g in zip(weights, groups) if g == k) else 0
              for k in range(4)]
    parts = allocate(np.array(totals), np.array(weights), np.array(groups))
    assert parts.tolist() == _largest_remainder(totals, weights, groups)


@given(data=st.data())
@example(data=None)
def test_group_sums_are_exact_over_the_whole_int64_range(data):
    """The float64 sums (one pass, or three parts) must equal Python's integer sums, to the last unit of int64."""
    if data is None:  # the extremes, and a total that only fits after a negative part pulls it back
        values, groups = [2**63 - 1, -(2**63), 2**62, 2**62 - 1, -5], [0, 1, 2, 2, 3]
    else:
        n = data.draw(st.integers(0, 40))
        top = data.draw(st.sampled_from([2**40, 2**51, 2**63]))  # one float64 pass, its edge, the three parts
        values = data.draw(st.lists(st.integers(-top, top - 1), min_size=n, max_size=n))
        groups = data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    expected = [sum(v for v, g in zip(values, groups) if g == k) for k in range(5)]
    fits = [-(2**63) <= e < 2**63 for e in expected]
    # few groups: in blocks (one, or of 3 rows on the thread pool); or as if they were many: the column whole
    block_rows, few = data.draw(st.sampled_from([(1 << 16, 5), (3, 5), (1 << 16, 0)])) if data else (2, 5)
    saved = blocks.BLOCK_ROWS, money.FEW_GROUPS
    blocks.BLOCK_ROWS, money.FEW_GROUPS = block_rows, few
    try:
        got = group_sums(np.array(values, dtype=np.int64), np.array(groups, dtype=np.int64), 5)
    finally:
        blocks.BLOCK_ROWS, money.FEW_GROUPS = saved
    assert [int(x) for x, ok in zip(got, fits) if ok] == [e for e, ok in zip(expected, fits) if ok]


@given(a=amounts, pct=st.integers(0, 1_000_000))
def test_percent_of_agrees_with_decimal_half_up(a, pct):
    expected = (Decimal(a) * Decimal(pct) / Decimal(10**6)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert percent_of(np.array([a]), pct)[0] == int(expected)
    assert percent_of(np.array([-a]), pct)[0] == -int(expected)


@given(a=st.integers(-(10**15), 10**15), b=st.integers(-(10**8), 10**8), d=st.integers(1, 10**9))
def test_mul_div_round_agrees_with_decimal_half_up(a, b, d):
    with localcontext() as ctx:
        ctx.prec = 60
        expected = int((Decimal(a) * b / Decimal(d)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if abs(expected) < 2**63:
        assert mul_div_round(np.array([a]), np.array([b]), d)[0] == expected
    else:  # a result beyond 64-bit minor units is refused, never wrapped around
        with pytest.raises(OverflowError):
            mul_div_round(np.array([a]), np.array([b]), d)


@given(pairs=st.lists(st.tuples(st.integers(-(2**31), 2**31), st.integers(-(2**30), 2**30)), min_size=1, max_size=30),
       d=st.one_of(st.integers(1, 10**9), st.integers(2**60, 2**62)))
def test_mul_div_round_over_whole_columns_agrees_with_decimal_half_up(pairs, d):
    """Columns whose products stay in int64: one division of 2|p| + d by 2d, or the remainder where that
    sum would leave int64 (d near 2**62); by one divisor and by a divisor per row."""
    a = np.array([x for x, _ in pairs], dtype=np.int64)
    b = np.array([y for _, y in pairs], dtype=np.int64)
    expected = [int((Decimal(x) * y / Decimal(d)).quantize(Decimal(1), rounding=ROUND_HALF_UP)) for x, y in pairs]
    assert mul_div_round(a, b, d).tolist() == expected
    per_row = np.array([d - i for i in range(len(pairs))], dtype=np.int64)
    per_row = np.maximum(per_row, 1)
    expected_rows = [int((Decimal(x) * y / Decimal(int(r))).quantize(Decimal(1), rounding=ROUND_HALF_UP))
                     for (x, y), r in zip(pairs, per_row)]
    assert mul_div_round(a, b, per_row).tolist() == expected_rows


@given(minor=st.integers(-(10**15), 10**15), units=st.integers(0, 4))
def test_format_then_parse_round_trips(minor, units):
    assert to_minor(format_minor(minor, units), units) == minor


# The column parser is the vectorised twin of parse_decimal: they must agree on anything a user types.
typed_numbers = st.one_of(
    st.decimals(min_value=-(10**12), max_value=10**12, places=4, allow_nan=False).map(str),
    st.builds(
        lambda whole, frac, sep, group, neg: (
            ("-" if neg == 1 else "(" if neg == 2 else "")
            + f"{whole:,}".replace(",", group)
            + (sep + frac if frac else "")
            + (")" if neg == 2 else "-" if neg == 3 else "")
        ),
        st.integers(0, 10**9), st.text("0123456789", max_size=5), st.sampled_from([",", "."]),
        st.sampled_from([" ", "\u00a0", "", ".", ","]), st.integers(0, 3),
    ),
    st.text(" 0123456789,.-()%₽abc", max_size=12),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
    st.integers(-(10**9), 10**9),
)


@settings(deadline=None)  # the first example loads pandas' and Arrow's string kernels
@given(values=st.lists(typed_numbers, min_size=1, max_size=20), decimals=st.integers(0, 4))
@example(values=["%", "₽", " ", "()", "-", "1 234,565", "(0,005)", "12.50-", 1.005, "abc"], decimals=2)
@example(values=["1 234,56,78", "1 2 34", "1\u00a0234\u00a0567,5", "12.34,5", "1,234.5", "0,0004", 0.30000000000000004,
                 1.23456, 1e-20, "1,234,567"], decimals=3)
def test_column_parser_agrees_with_scalar_parser(values, decimals):
    import pandas as pd

    from erp_plugin.parsing import parse_scaled_column

    scaled, bad, blank = parse_scaled_column(pd.Series(values, dtype=object), decimals)
    for value, got, is_bad, is_blank in zip(values, scaled.tolist(), bad.tolist(), blank.tolist()):
        if isinstance(value, str) and (not value.strip() or value.strip().casefold() in PLACEHOLDERS):
            assert is_blank  # an export's placeholders (NA, -, …) are blank cells
            continue
        try:
            expected = to_scaled(value, decimals)
        except MoneyError:
            assert is_bad, value
            continue
        if abs(expected) >= 2**63:
            assert is_bad, value
        else:
            assert (got, is_bad) == (expected, False), value


def test_parquet_decimals_are_scaled_exactly_beyond_float_precision():
    """An 18-digit decimal would lose its last digits as a float; Arrow decimals are scaled from their integers."""
    import pandas as pd
    import pyarrow as pa

    from erp_plugin.parsing import parse_scaled_column

    values = pa.array([Decimal("12345678901234567.89"), Decimal("-0.005"), None, Decimal("1.120")], type=pa.decimal128(20, 3))
    scaled, bad, blank = parse_scaled_column(pd.Series(pd.array(values, dtype=pd.ArrowDtype(values.type))), 2)
    assert scaled.tolist() == [1234567890123456789, 0, 0, 112]  # -0.005 has a third decimal: bad, not rounded
    assert bad.tolist() == [False, True, False, False] and blank.tolist() == [False, False, True, False]


def test_parquet_decimal64_is_read_from_its_words_and_refused_when_finer():
    """pyarrow 22+ hands decimal64 columns over as they were written; a slice keeps its offset."""
    import pandas as pd
    import pyarrow as pa

    from erp_plugin.parsing import parse_scaled_column

    values = pa.array([Decimal("999999999999999.99"), Decimal("-0.01"), None, Decimal("12.30")], type=pa.decimal64(18, 2))
    scaled, bad, blank = parse_scaled_column(pd.Series(pd.array(values.slice(1), dtype=pd.ArrowDtype(values.type))), 2)
    assert scaled.tolist() == [-1, 0, 1230] and blank.tolist() == [False, True, False] and not bad.any()
    finer = pa.array([Decimal("2.345"), Decimal("-2.340"), None], type=pa.decimal64(10, 3))
    scaled, bad, blank = parse_scaled_column(pd.Series(pd.array(finer, dtype=pd.ArrowDtype(finer.type))), 2)
    assert scaled.tolist() == [0, -234, 0] and bad.tolist() == [True, False, False]  # never rounded silently


@pytest.mark.parametrize("typed, decimals, expected", [
    ("1 234,56", 2, 123456), ("1.234.567", 0, 1234567), ("1,234,567", 0, 1234567), ("1.234,5", 2, 123450),
    ("1,234.5", 2, 123450), ("1'234'567.89", 2, 123456789), ("1,234", 3, 1234), (0.30000000000000004, 2, 30),
    (12.340000000000002, 4, 123400), ("0,0000", 3, 0),
])
def test_numbers_read_exactly(typed, decimals, expected):
    assert to_scaled(typed, decimals) == expected


@pytest.mark.parametrize("typed, decimals", [
    ("1 234,56,78", 2),  # a second decimal comma: SPEC §6's example, never 12 345 678
    ("12 34", 0), ("1.23.456", 0), ("12.34,5", 2), ("1,2345.6", 2),  # thousands not grouped by three
    ("0,0004", 3), ("1,23456", 4), (1.23456, 4), ("10,005", 2), (1e-20, 4),  # more decimals than the field keeps
])
def test_malformed_or_over_precise_numbers_are_refused_not_rounded(typed, decimals):
    with pytest.raises(MoneyError):
        to_scaled(typed, decimals)
