"""The line's totals (SPEC §5 steps 8-12) and its concession, the margin guardrail.

price_discount = min(gross, kit_price_discount + promo_discount) (mirrored on a
return); net = gross − price_discount; bonus_accrued = round(kit_bonus ×
multipliers); reservation_cost = round(net × carrying_rate_pct / 100 ×
reservation_days / 365); vat = round(net × r / (100 + r)) when prices include
VAT, else round(net × r / 100), r being the line's own rate, else
``vat_rate_pct``, else the statutory rate of the line's date (20 %, 22 % from
2026-01-01).

concession_pct = (price_discount + bonus_accrued + reservation_cost) / gross ×
100: what the line costs the seller. The margin guardrail compares the part the
client gets, discount and bonus, with the marker's ``max_concession_pct`` (blank:
no check) and shows the reservation cost beside it: one warning per marker and
combination of promotions, with its count of lines, listed at its worst line.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Callable

import numpy as np
import pandas as pd

from ..i18n import N_, Message, Number, msg
from ..lines import with_columns
from ..money import (
    PCT_DECIMALS,
    PCT_SCALE,
    mul_div_round,
    pct_to_scaled,
    percent_of,
    share_pct,
)
from ..parallel import by_blocks
from ..pipeline import Findings, LinePlugin, PluginResult, RunContext
from ..problems import Problem

RATE_CHANGE = np.datetime64("2026-01-01", "D")
DAYS_IN_YEAR = 365


def plugin(lines: pd.DataFrame, ctx: RunContext) -> PluginResult:
    columns = {name: _values(lines, name) for name in _INPUTS}
    default_vat = default_vat_rate(ctx.book)
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
    return np.where(_values(lines, "_vat_missing"), default_vat_rate(book)(_values(lines, "date")), own)


def default_vat_rate(book) -> Callable[[np.ndarray], np.ndarray]:
    """The rate of lines without their own: vat_rate_pct, else the statutory rate of the line's date."""
    setting = book.settings.vat_rate_pct
    if setting is not None:
        return lambda dates: np.full(len(dates), pct_to_scaled(setting), dtype=np.int64)
    return lambda dates: np.where(dates < RATE_CHANGE, 20 * PCT_SCALE, 22 * PCT_SCALE)


def _guardrail(lines: pd.DataFrame, ctx: RunContext, found: Findings) -> None:
    """Lines whose discount and bonus (the concession without the reservation cost, which is the seller's
    own cost and shown beside it) exceed their marker's ``max_concession_pct`` (blank: no check): one
    warning per marker and combination of promotions, counting its lines, listed at its worst line."""
    markers = ctx.book.markers
    names = list(lines["marker"].cat.categories)
    caps = [markers[name].max_concession_pct for name in names]
    if all(cap is None for cap in caps):
        return
    unchecked = np.iinfo(np.int64).max
    limit = np.array([unchecked if cap is None else pct_to_scaled(cap) for cap in caps], dtype=np.int64)
    marker = lines["marker"].array.codes
    # the whole concession bounds its discount-and-bonus part (both rounded alike): only these can exceed
    over = np.flatnonzero(lines["concession_pct"].to_numpy() > limit[marker])
    if not len(over):
        return
    gross = np.abs(lines["gross"].to_numpy(dtype=np.int64)[over])
    given = np.abs(lines["price_discount"].to_numpy(dtype=np.int64)[over]) + np.abs(
        lines["bonus_accrued"].to_numpy(dtype=np.int64)[over])
    given_pct = share_pct(given, gross)
    above = given_pct > limit[marker[over]]
    over, given_pct, gross = over[above], given_pct[above], gross[above]
    reserved_pct = share_pct(np.abs(lines["reservation_cost"].to_numpy(dtype=np.int64)[over]), gross)
    promos, promo = _promotion_groups(lines, ctx)
    group = marker[over].astype(np.int64) * len(promos) + promo[over]  # (marker, promotions) as one number
    found_over = pd.DataFrame({"group": group, "given": given_pct, "reserved": reserved_pct,
                               "row": lines["source_row"].to_numpy()[over]})
    # each group's worst line: its largest share, the earliest row among equals (hashing: a sort of millions
    # of lines over their maximum took seconds)
    at_worst = found_over[given_pct == found_over.groupby("group")["given"].transform("max").to_numpy()]
    worst = at_worst.loc[at_worst.groupby("group")["row"].idxmin()]
    counts = np.bincount(group)
    for line in sorted(worst.itertuples(index=False), key=lambda w: w.row):
        at, promotions = divmod(line.group, len(promos))
        name, promotions = names[at], promos[promotions]
        found.problems.append(Problem(
            "price.concession",
            msg("{name} marker {promotions}: discount and bonus above the marker's maximum concession of {pct} % "
                "of gross; the worst line, this one, gives {worst} % (its reservation cost, {reservation} %, beside "
                "it, not compared)", name=name, promotions=_with(promotions), pct=_pct(limit[at]),
                worst=_pct(line.given), reservation=_pct(line.reserved)),
            "warning", row=int(line.row), count=int(counts[line.group]),
            group=f"{name}: {promotions or '-'}", rank=int(line.given)))


def _promotion_groups(lines: pd.DataFrame, ctx: RunContext) -> tuple[list[str], np.ndarray]:
    """Each line's combination of promotions as a label (``""``: none) and its index into the labels; a
    coupon counts as ``coupon`` whatever its code, so that coupons do not make a group each."""
    if "promo_rules" not in lines:
        return [""], np.zeros(len(lines), dtype=np.int64)
    rules = {rule.rule_id for rule in ctx.book.promotions}
    labels = [", ".join(dict.fromkeys(part if part in rules else "coupon" for part in str(category).split(", ")))
              for category in lines["promo_rules"].cat.categories]
    unique = list(dict.fromkeys(["", *labels]))
    remap = np.array([unique.index(label) for label in labels] + [0], dtype=np.int64)  # the last: a blank (-1)
    return unique, remap[lines["promo_rules"].array.codes]


def _with(promotions: str) -> Message:
    if not promotions:
        return N_("with no promotion")
    if ", " in promotions:
        return msg("with promotions {names}", names=promotions)
    return msg("with promotion {name}", name=promotions)


def _pct(scaled: int) -> Number:
    """A share for a message: at most two decimals, in the language's way (55,5 % / 55.5 %, 25 %)."""
    return Number(Decimal(int(scaled)).scaleb(-PCT_DECIMALS), most=2)


PLUGIN = LinePlugin(
    "totals", 800,
    needs=("gross", "sign", "kit_price_discount", "promo_discount", "kit_bonus", "bonus_multiplier_num",
           "bonus_multiplier_den", "marker", "date"),
    adds=RESULTS, apply=plugin)
