"""The IFRS 15 liability, reproducing IFRS 15 Illustrative Example 52 (customer loyalty programme) exactly.

The example: sales of CU100 000 earn 10 000 points; 9 500 are expected to be redeemed,
so the points' stand-alone selling price is CU9 500 and CU8 676 of revenue is deferred.
Period 1: 4 500 points redeemed → CU4 110 recognised, contract liability CU4 566.
Period 2: 8 500 redeemed in all and now 9 700 expected → CU3 493 recognised, liability CU1 073.
"""

import numpy as np
import pandas as pd

from erp_plugin.ledger.ifrs15 import deferred_revenue, liability_report
from erp_plugin.money import PCT_SCALE


def test_deferred_revenue_of_example_52():
    # 100 000 × 9 500 / (100 000 + 9 500) = 8 675.8 → 8 676 (whole currency units here: minor units of 0 decimals)
    pct = 95 * PCT_SCALE
    assert deferred_revenue([100_000], [10_000], pct).tolist() == [8_676]
    assert deferred_revenue([100_000, 500, 0], [0, 10, 0], pct).tolist() == [0, 9, 0]  # 500 × 9.5 / 509.5 = 9.32 → 9


def test_liability_report_reproduces_example_52():
    periods = pd.DataFrame({
        "period": ["year 1", "year 2"],
        "deferred": [8_676, 0],
        "redeemed": [4_500, 4_000],
        "expected": [9_500, 9_700],
    })
    report = liability_report(periods)
    assert report.to_dict("list") == {
        "period": ["year 1", "year 2"],
        "opening": [0, 4_566],
        "deferred": [8_676, 0],
        "recognised": [4_110, 3_493],  # 8 676 × 4 500 / 9 500 = 4 109.7; 8 676 × 8 500 / 9 700 − 4 110 = 3 492.7
        "closing": [4_566, 1_073],
    }


def test_the_liability_ends_at_zero_when_every_expected_point_is_redeemed_or_expired():
    periods = pd.DataFrame({
        "period": ["1", "2", "3"], "deferred": [8_676, 0, 0], "redeemed": [4_500, 4_000, 1_000],
        "expected": [9_500, 9_700, 9_500],  # by period 3, 9 500 redeemed and the rest expired: the estimate is met
    })
    report = liability_report(periods)
    assert report["closing"].tolist()[-1] == 0
    assert int(np.sum(report["recognised"])) == 8_676  # everything deferred is recognised, once
