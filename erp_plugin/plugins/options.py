"""The weight of the line's purchase options (SPEC §5 step 4).

Day options fall in the smallest configured value >= the line's days (blank = 0);
more days than the largest value is an error for the line. ``payment`` (blank =
``default_payment``) must be a configured value, compared trimmed and
case-insensitively. A day option the workbook does not configure at all weighs 0
for 0 days and is an error for more.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..erp.lines import with_columns
from ..money import pct_to_scaled
from ..pipeline import Context
from .lookup import BLANK, UNKNOWN, name_codes

DAY_OPTIONS = ("reservation_days", "moneyback_days")


def plugin(lines: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    weight = np.zeros(len(lines), dtype=np.int32)  # percent units (10^6 = 100 %) fit int32
    for option in DAY_OPTIONS:
        weight += _days_weight(lines, ctx, option)
    payment_weight, payment = _payment(lines, ctx)
    return with_columns(lines, option_weight_pct=weight + payment_weight, _payment=payment)


def _days_weight(lines: pd.DataFrame, ctx: Context, option: str) -> np.ndarray:
    rows = sorted(ctx.book.option_values(option), key=lambda o: o.value)
    days = lines[option].to_numpy(dtype=np.int64, na_value=0) if option in lines.columns else np.zeros(len(lines), np.int64)
    if not rows:
        too_many = days > 0
        if too_many.any():
            ctx.flag(lines, too_many, option, "price.option_days",
                     [f"{option} {d}, but the tariff workbook offers no {option} option; add rows on the Options sheet"
                      for d in days[too_many]])
        return np.zeros(len(lines), dtype=np.int32)
    values = np.array([o.value for o in rows], dtype=np.int64)
    weights = np.array([pct_to_scaled(o.weight_pct) for o in rows] + [0], dtype=np.int32)
    bracket = np.searchsorted(values, days, side="left")  # the smallest value >= days
    beyond = bracket == len(values)
    if beyond.any():
        ctx.flag(lines, beyond, option, "price.option_days",
                 [f"{option} {d} is more than the largest configured value {values[-1]}; add a larger bracket "
                  f"on the Options sheet or correct the line" for d in days[beyond]])
    return weights[bracket]


def _payment(lines: pd.DataFrame, ctx: Context) -> tuple[np.ndarray, pd.Categorical]:
    configured = ctx.book.option_values("payment")
    names = [str(o.value) for o in configured]
    weights = np.array([pct_to_scaled(o.weight_pct) for o in configured] + [0], dtype=np.int32)
    default = ctx.book.default_payment
    if "payment" in lines.columns:
        codes = name_codes(lines["payment"], names)
    else:
        codes = np.full(len(lines), BLANK, dtype=np.int64)
    if default is not None:
        codes = np.where(codes == BLANK, names.index(next(n for n in names if n.casefold() == default.casefold())), codes)
    unknown = (codes == UNKNOWN) | (codes == BLANK)
    if unknown.any():
        shown = lines["payment"].astype(object).to_numpy()[unknown] if "payment" in lines.columns else [None] * unknown.sum()
        ctx.flag(lines, unknown, "payment", "price.payment",
                 [f"payment {p!r} is not a payment option; expected one of {', '.join(names)}" for p in shown])
    safe = np.where(codes < 0, len(names), codes)
    return weights[safe], pd.Categorical.from_codes(np.where(codes < 0, -1, codes), categories=names or ["-"])
