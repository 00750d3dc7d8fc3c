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

from typing import Callable

import numpy as np
import pandas as pd

from ..i18n import msg
from ..lines import with_columns
from ..money import PCT_SCALE, mul_div_round, pct_to_scaled, percent_of
from ..parallel import by_blocks
from ..pipeline import Findings, LinePlugin, PluginResult, RunContext

RATE_CHANGE = np.datetime64("2026-01-01", "D")
DAYS_IN_YEAR = 365


def plugin(lines: pd.DataFrame, ctx: RunContext) -> PluginResult:
    columns = {name: _values(lines, name) for name in _INPUTS}
    default_vat = _default_vat_rate(ctx.book)
    settings = ctx.book.settings
    carrying = pct_to_scaled(settings.carrying_rate_pct)
    multiplied = not np.array_equal(columns["bonus_multiplier_num"], columns["bonus_multiplier_den"])

    def block(rows: slice) -> dict[str, np.ndarray]:
        at = {name: values[rows] if np.ndim(values) else values for name, values in columns.items()}
        gross, sign = at["gross"], at["sign"]
        discount_wanted = np.abs(at["kit_price_discount"] + at["promo_discount"])
        price_discount = sign * np.minimum(np.abs(gross), discount_wanted)
        net = gross - price_discount
        bonus_accrued = mul_div_round(at["kit_bonus"], at["bonus_multiplier_num"], at["bonus_multiplier_den"]) if multiplied else at["kit_bonus"]
        reservation_cost = mul_div_round(net, carrying * at["reservation_days"], 100 * PCT_SCALE * DAYS_IN_YEAR)
        rate = np.where(at["_vat_missing"], default_vat(at["date"]), at["vat_rate"])
        if settings.prices_include_vat:
            vat = mul_div_round(net, rate, 100 * PCT_SCALE + rate)
        else:
            vat = percent_of(net, rate)
        concession = np.abs(price_discount) + np.abs(bonus_accrued) + np.abs(reservation_cost)
        concession_pct = mul_div_round(concession, 100 * PCT_SCALE, np.maximum(np.abs(gross), 1)) * (gross != 0)
        return dict(price_discount=price_discount, net=net, reservation_cost=reservation_cost, vat=vat,
                    concession_pct=concession_pct, **({"bonus_accrued": bonus_accrued} if multiplied else {}))

    totals = by_blocks(len(lines), block)
    if not multiplied:  # no multiplier: the kit bonus as it is, the same array
        totals["bonus_accrued"] = columns["kit_bonus"]
    lines = with_columns(lines, **{name: totals[name] for name in RESULTS})
    found = Findings()
    _guardrail(lines, ctx, found)
    return found.result(lines)


RESULTS = ("price_discount", "net", "bonus_accrued", "reservation_cost", "vat", "concession_pct")
_INPUTS = ("gross", "sign", "kit_price_discount", "promo_discount", "kit_bonus", "bonus_multiplier_num",
           "bonus_multiplier_den",
           "reservation_days", "date", "vat_rate", "_vat_missing")


def _values(lines: pd.DataFrame, name: str):
    """A column as the block arithmetic takes it: numpy values, a blank as 0 (``_vat_missing``: the
    lines without a VAT rate of their own); a column the export lacks is one 0 (or all missing)."""
    if name == "_vat_missing":
        return pd.Series(lines["vat_rate"], copy=False).isna().to_numpy() if "vat_rate" in lines else True
    if name not in lines:
        return 0
    if name == "date":
        return lines[name].to_numpy(dtype="datetime64[s]")
    return lines[name].to_numpy(dtype=np.int64, na_value=0)


def line_vat_rates(lines: pd.DataFrame, book) -> np.ndarray:
    """Each line's VAT rate in percent units: its own, else vat_rate_pct, else the statutory rate of its date."""
    own = _values(lines, "vat_rate")
    return np.where(_values(lines, "_vat_missing"), _default_vat_rate(book)(_values(lines, "date")), own)


def _default_vat_rate(book) -> Callable[[np.ndarray], np.ndarray]:
    """The rate of lines without their own: vat_rate_pct, else the statutory rate of the line's date."""
    setting = book.settings.vat_rate_pct
    if setting is not None:
        return lambda dates: np.full(len(dates), pct_to_scaled(setting), dtype=np.int64)
    return lambda dates: np.where(dates < RATE_CHANGE, 20 * PCT_SCALE, 22 * PCT_SCALE)


def _guardrail(lines: pd.DataFrame, ctx: RunContext, found: Findings) -> None:
    markers = ctx.book.markers
    limits = np.array([pct_to_scaled(markers[m].max_pct) for m in lines["marker"].cat.categories], dtype=np.int64)
    limit = limits[lines["marker"].array.codes]
    over = np.flatnonzero(lines["concession_pct"].to_numpy() > limit)
    rows = lines["source_row"].to_numpy()
    for i in over[:1000]:
        found.warn(
            "price.concession",
            msg("the line gives away {pct:g} % of its gross (discount, bonus and reservation cost), above the "
                "{marker} marker's maximum {limit:g} %",
                pct=lines['concession_pct'].iat[i] / PCT_SCALE, marker=lines['marker'].iat[i], limit=limit[i] / PCT_SCALE),
            row=int(rows[i]),
        )
    if len(over) > 1000:
        found.warn("price.concession", msg("and {more} more lines above their marker's maximum", more=len(over) - 1000))


PLUGIN = LinePlugin(
    "totals", 800,
    needs=("gross", "sign", "kit_price_discount", "promo_discount", "kit_bonus", "bonus_multiplier_num",
           "bonus_multiplier_den", "marker", "date"),
    adds=RESULTS, apply=plugin)
