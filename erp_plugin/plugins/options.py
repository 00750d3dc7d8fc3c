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

from ..blocks import by_blocks
from ..erp.lines import with_columns
from ..money import pct_to_scaled
from ..pipeline import Context
from .lookup import BLANK, UNKNOWN, name_codes

DAY_OPTIONS = ("reservation_days", "moneyback_days")


def plugin(lines: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    payment_weight, payment = _payment(lines, ctx)
    brackets = {option: _brackets(ctx, option) for option in DAY_OPTIONS}
    days = {option: lines[option].to_numpy(dtype=np.int64, na_value=0) if option in lines.columns
            else np.zeros(len(lines), np.int64) for option in DAY_OPTIONS}

    def block(rows: slice) -> dict[str, np.ndarray]:
        weight = payment_weight[rows].copy()  # percent units (10^6 = 100 %): int32
        beyond = {}
        for option, (values, weights) in brackets.items():
            bracket = np.searchsorted(values, days[option][rows], side="left")  # the smallest value >= days
            beyond[option] = bracket == len(values)
            weight += weights[bracket]
        return {"option_weight_pct": weight, **beyond}

    columns = by_blocks(len(lines), block)
    for option, (values, _) in brackets.items():
        _flag_beyond(lines, ctx, option, values, columns[option], days[option])
    return with_columns(lines, option_weight_pct=columns["option_weight_pct"], _payment=payment)


def _brackets(ctx: Context, option: str) -> tuple[np.ndarray, np.ndarray]:
    """The configured values in ascending order and their weights (then 0 beyond the last); an option
    the workbook does not configure is one bracket of 0 days weighing 0."""
    rows = sorted(ctx.book.option_values(option), key=lambda o: o.value)
    values = np.array([o.value for o in rows] or [0], dtype=np.int64)
    weights = np.array([pct_to_scaled(o.weight_pct) for o in rows] + [0] * (1 + (not rows)), dtype=np.int32)
    return values, weights


def _flag_beyond(lines: pd.DataFrame, ctx: Context, option: str, values: np.ndarray, beyond: np.ndarray,
                 days: np.ndarray) -> None:
    if not beyond.any():
        return
    if ctx.book.option_values(option):
        texts = [f"{option} {d} is more than the largest configured value {values[-1]}; add a larger bracket "
                 f"on the Options sheet or correct the line" for d in days[beyond]]
    else:
        texts = [f"{option} {d}, but the tariff workbook offers no {option} option; add rows on the Options sheet"
                 for d in days[beyond]]
    ctx.flag(lines, beyond, option, "price.option_days", texts)


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
