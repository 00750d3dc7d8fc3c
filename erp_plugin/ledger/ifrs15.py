"""The contract liability of bonus points under IFRS 15 (a material right; IFRIC 13 before it), SPEC §8.

Revenue is deferred on an accruing line by relative stand-alone selling price:
deferred = round(net × SSP / (net + SSP)), SSP = bonus_accrued ×
expected_redemption_pct / 100. It is recognised by cumulative catch-up: to date,
total deferred × points redeemed to date / points expected to be redeemed (the
estimate as of that period), minus what earlier periods recognised. Once every
point still expected has been redeemed or has expired (breakage), what is left is
recognised: the liability ends at 0. All figures are integer minor units
(1 point = 1 currency unit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..money import PCT_SCALE, mul_div_round


def deferred_revenue(net, bonus_accrued, expected_redemption_scaled) -> np.ndarray:
    """Per accruing line: round(net × SSP / (net + SSP)); 0 where nothing accrues (or net + SSP is 0).

    ``expected_redemption_scaled``: the expected redemption in PCT_SCALE units, one for all lines or
    one per line (the estimate in force on its date).
    """
    net = np.asarray(net, dtype=np.int64)
    # SSP is not rounded on its own: with SSP = b × p / S (p in percent units, S = 100 × PCT_SCALE),
    # net × SSP / (net + SSP) = net × b·p / (net·S + b·p), rounded once
    ssp_scaled = np.asarray(bonus_accrued, dtype=np.int64) * np.asarray(expected_redemption_scaled, dtype=np.int64)
    denominator = net * (100 * PCT_SCALE) + ssp_scaled
    safe = np.where(denominator == 0, 1, denominator)
    return np.where((ssp_scaled == 0) | (denominator == 0), 0, mul_div_round(net, ssp_scaled, safe))


def liability_report(periods: pd.DataFrame) -> pd.DataFrame:
    """The liability per period from its figures, in order.

    ``periods`` has one row per period: ``period`` (a label), ``deferred`` (revenue
    deferred on the period's accruals), ``redeemed`` (points redeemed in the period)
    and ``expected`` (points expected to be redeemed in all, as estimated at the
    period's end, for the points accrued so far). Returns the rows with
    ``opening``, ``deferred``, ``recognised`` and ``closing``.
    """
    deferred = periods["deferred"].to_numpy(dtype=np.int64)
    redeemed = periods["redeemed"].to_numpy(dtype=np.int64)
    expected = periods["expected"].to_numpy(dtype=np.int64)
    total_deferred = np.cumsum(deferred)
    total_redeemed = np.cumsum(redeemed)
    # cumulative catch-up; once redemptions reach the estimate, everything deferred is recognised
    fraction_done = total_redeemed >= expected
    catch_up = mul_div_round(total_deferred, np.minimum(total_redeemed, np.maximum(expected, 1)), np.maximum(expected, 1))
    recognised_to_date = np.where(fraction_done, total_deferred, catch_up)
    recognised = np.diff(recognised_to_date, prepend=0)
    closing = total_deferred - recognised_to_date
    opening = np.concatenate([[0], closing[:-1]])
    return pd.DataFrame({
        "period": periods["period"].to_numpy(), "opening": opening, "deferred": deferred,
        "recognised": recognised, "closing": closing,
    })
