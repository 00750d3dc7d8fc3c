"""The line's totals (SPEC §5 steps 8-12) and its concession, the margin guardrail.

price_discount = min(gross, kit_price_discount + promo_discount) (mirrored on a
return); net = gross − price_discount; bonus_accrued = round(kit_bonus ×
multipliers); reservation_cost = round(net × carrying_rate_pct / 100 ×
reservation_days / 365); vat = round(net × r / (100 + r)) when prices include
VAT, else round(net × r / 100), r being the line's own rate, else
``vat_rate_pct``, else the statutory rate of the line's date (20 %, 22 % from
2026-01-01).

concession_pct = (price_discount + bonus_accrued + reservation_cost) / gross ×
100: what the line costs the seller. Above the marker's max_pct it is a warning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..erp.lines import with_columns
from ..money import PCT_SCALE, mul_div_round, pct_to_scaled, percent_of
from ..pipeline import Context

RATE_CHANGE = np.datetime64("2026-01-01", "D")
DAYS_IN_YEAR = 365


def plugin(lines: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    settings = ctx.book.settings
    sign = lines["_sign"].to_numpy()
    gross = lines["gross"].to_numpy()
    discount_wanted = np.abs(lines["kit_price_discount"].to_numpy() + lines["promo_discount"].to_numpy())
    price_discount = sign * np.minimum(np.abs(gross), discount_wanted)
    net = gross - price_discount
    kit_bonus = lines["kit_bonus"].to_numpy()
    num, den = lines["_mult_num"].to_numpy(), lines["_mult_den"].to_numpy()
    bonus_accrued = kit_bonus if np.array_equal(num, den) else mul_div_round(kit_bonus, num, den)  # no multiplier: as is
    days = lines["reservation_days"].to_numpy(dtype=np.int64, na_value=0) if "reservation_days" in lines else 0
    carrying = pct_to_scaled(settings.carrying_rate_pct)
    reservation_cost = mul_div_round(net, carrying * np.asarray(days, dtype=np.int64), 100 * PCT_SCALE * DAYS_IN_YEAR)
    rate = line_vat_rates(lines, ctx.book)
    if settings.prices_include_vat:
        vat = mul_div_round(net, rate, 100 * PCT_SCALE + rate)
    else:
        vat = percent_of(net, rate)
    concession = np.abs(price_discount) + np.abs(bonus_accrued) + np.abs(reservation_cost)
    concession_pct = mul_div_round(concession, 100 * PCT_SCALE, np.maximum(np.abs(gross), 1)) * (gross != 0)
    lines = with_columns(
        lines,
        price_discount=price_discount,
        net=net,
        bonus_accrued=bonus_accrued,
        reservation_cost=reservation_cost,
        vat=vat,
        concession_pct=concession_pct,
    )
    _guardrail(lines, ctx)
    return lines


def line_vat_rates(lines: pd.DataFrame, book) -> np.ndarray:
    """Each line's VAT rate in percent units: its own, else vat_rate_pct, else the statutory rate of its date."""
    setting = book.settings.vat_rate_pct
    if setting is not None:
        default = np.full(len(lines), pct_to_scaled(setting), dtype=np.int64)
    else:
        dates = lines["date"].to_numpy(dtype="datetime64[D]")
        default = np.where(dates < RATE_CHANGE, 20 * PCT_SCALE, 22 * PCT_SCALE)
    if "vat_rate" not in lines.columns:
        return default
    own = pd.Series(lines["vat_rate"], copy=False)
    return np.where(own.isna().to_numpy(), default, own.to_numpy(dtype=np.int64, na_value=0))


def _guardrail(lines: pd.DataFrame, ctx: Context) -> None:
    markers = ctx.book.markers
    limits = np.array([pct_to_scaled(markers[m].max_pct) for m in lines["marker"].cat.categories], dtype=np.int64)
    limit = limits[lines["marker"].cat.codes.to_numpy()]
    over = np.flatnonzero(lines["concession_pct"].to_numpy() > limit)
    rows = lines["source_row"].to_numpy()
    for i in over[:1000]:
        ctx.warn(
            "price.concession",
            f"the line gives away {lines['concession_pct'].iat[i] / PCT_SCALE:g} % of its gross (discount, bonus and "
            f"reservation cost), above the {lines['marker'].iat[i]} marker's maximum {limit[i] / PCT_SCALE:g} %",
            row=int(rows[i]),
        )
    if len(over) > 1000:
        ctx.warn("price.concession", f"and {len(over) - 1000} more lines above their marker's maximum")
