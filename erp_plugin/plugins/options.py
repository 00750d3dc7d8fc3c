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

from ..i18n import msg
from ..lines import with_columns
from ..money import pct_to_scaled
from ..parallel import by_blocks
from ..pipeline import Findings, LinePlugin, PluginResult, RunContext
from .lookup import BLANK, categorical, category_codes

DAY_OPTIONS = ("reservation_days", "moneyback_days")


def plugin(lines: pd.DataFrame, ctx: RunContext) -> PluginResult:
    found = Findings()
    payment = _Payments(lines, ctx, found)
    brackets = {option: _brackets(ctx, option) for option in DAY_OPTIONS}
    days = {option: lines[option].to_numpy(dtype=np.int64, na_value=0) if option in lines.columns
            else np.zeros(len(lines), np.int64) for option in DAY_OPTIONS}

    def block(rows: slice) -> dict[str, np.ndarray]:
        at = payment.slots(rows)
        weight = payment.weight[at]  # percent units (10^6 = 100 %): int32
        beyond = {}
        for option, (values, weights) in brackets.items():
            bracket = np.searchsorted(values, days[option][rows], side="left")  # the smallest value >= days
            beyond[option] = bracket == len(values)
            weight += weights[bracket]
        return {"option_weight_pct": weight, "payment": payment.code[at], "unknown": payment.unknown[at], **beyond}

    columns = by_blocks(len(lines), block)
    for option, (values, _) in brackets.items():
        _flag_beyond(lines, ctx, found, option, values, columns[option], days[option])
    payment.flag(columns["unknown"])
    return found.result(with_columns(
        lines, option_weight_pct=columns["option_weight_pct"],
        payment_option=pd.Categorical.from_codes(columns["payment"], categories=payment.names or ["-"])))


def _brackets(ctx: RunContext, option: str) -> tuple[np.ndarray, np.ndarray]:
    """The configured values in ascending order and their weights (then 0 beyond the last); an option
    the workbook does not configure is one bracket of 0 days weighing 0."""
    rows = sorted(ctx.book.option_values(option), key=lambda o: o.value)
    values = np.array([o.value for o in rows] or [0], dtype=np.int64)
    weights = np.array([pct_to_scaled(o.weight_pct) for o in rows] + [0] * (1 + (not rows)), dtype=np.int32)
    return values, weights


def _flag_beyond(lines: pd.DataFrame, ctx: RunContext, found: Findings, option: str, values: np.ndarray, beyond: np.ndarray,
                 days: np.ndarray) -> None:
    if not beyond.any():
        return
    if ctx.book.option_values(option):
        texts = [msg("{option} {days} is more than the largest configured value {largest}; add a larger bracket "
                     "on the Options sheet or correct the line", option=option, days=d, largest=values[-1])
                 for d in days[beyond]]
    else:
        texts = [msg("{option} {days}, but the tariff workbook offers no {option} option; add rows on the Options "
                     "sheet", option=option, days=d) for d in days[beyond]]
    found.flag(lines, beyond, option, "price.option_days", texts)


class _Payments:
    """The payment of the lines, worked out per distinct export value: its code among the configured
    payments (blank: ``default_payment``), its weight, and whether it is not a payment option."""

    def __init__(self, lines: pd.DataFrame, ctx: RunContext, found: Findings):
        configured = ctx.book.option_values("payment")
        self.lines, self.found = lines, found
        self.names = [str(o.value) for o in configured]
        weights = np.array([pct_to_scaled(o.weight_pct) for o in configured] + [0], dtype=np.int32)
        if "payment" in lines.columns:
            values = categorical(lines["payment"])
            per_value, self.codes = category_codes(values, self.names), values.array.codes  # then BLANK for code -1
        else:
            per_value, self.codes = np.array([BLANK], dtype=np.int64), None
        default = ctx.book.default_payment
        if default is not None:
            chosen = self.names.index(next(n for n in self.names if n.casefold() == default.casefold()))
            per_value = np.where(per_value == BLANK, chosen, per_value)
        self.unknown = per_value < 0  # UNKNOWN, or BLANK without a default
        self.weight = weights[np.where(self.unknown, len(self.names), per_value)]
        self.code = np.where(self.unknown, -1, per_value).astype(np.int16)

    def slots(self, rows: slice):
        """Each line's place in the per-value tables (the last: a blank cell, or no payment column)."""
        return self.codes[rows] if self.codes is not None else np.full(rows.stop - rows.start, -1, dtype=np.int32)

    def flag(self, unknown: np.ndarray) -> None:
        if unknown.any():
            lines = self.lines
            shown = lines["payment"].astype(object).to_numpy()[unknown] if "payment" in lines.columns else [None] * unknown.sum()
            self.found.flag(lines, unknown, "payment", "price.payment",
                            [msg("payment {payment!r} is not a payment option; expected one of {names}", payment=p, names=', '.join(self.names)) for p in shown])


PLUGIN = LinePlugin("options", 400, needs=(), adds=("option_weight_pct", "payment_option"), apply=plugin)
