"""Promotions (SPEC §5.3): which rules apply to which lines, and what they give.

Everything is computed on the pricing document (a document's return lines form
their own, mirrored one) with absolute figures, then signed. Per rule: a mask of
the lines it matches (window, segment, marker, SKU list, category, payment,
min_qty, requires_sku), then its per-line discount, rounded per line:

* ``discount_pct``: round(gross × value / 100);
* ``discount_pct`` with ``every_nth`` = n: of the matching units U in the
  document, ⌊U / n⌋ units, cheapest first (ties: the earlier line), get value %
  off: round(units × unit_price × value / 100) on each line;
* ``bonus_multiplier``: multiplies kit_bonus; its total is Σ kit_bonus × (value − 1).

Rules sharing a group compete per document: the largest total wins (ties: lower
priority, then rule_id). Others stack: discounts add, multipliers multiply.
``promo_rules`` names the rules that changed the line, in the order of the
Promotions sheet, then the coupon.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import cached_property

import numpy as np
import pandas as pd

from ..i18n import Number, msg
from ..lines import with_columns
from ..money import PCT_SCALE, mul_div_round, pct_to_scaled, percent_of
from ..pipeline import Findings, LinePlugin, PluginResult, RunContext
from ..tables import PRICE_DECIMALS, QTY_DECIMALS
from ..tariffs.model import Promotion


def plugin(lines: pd.DataFrame, ctx: RunContext) -> PluginResult:
    rules = sorted(ctx.book.promotions, key=lambda r: (r.priority, r.rule_id))
    n = len(lines)
    found = Findings()
    facts = _Facts(lines, ctx, found)
    effects: list[tuple[Promotion, np.ndarray, np.ndarray]] = []  # (rule, mask, total in minor × PCT_SCALE)
    discounts: dict[str, np.ndarray] = {}
    for rule in rules:
        mask = facts.matches(rule)
        if rule.reward == "bonus_multiplier":
            total = facts.kit_bonus * (pct_to_scaled(rule.value) - PCT_SCALE) * mask
        else:
            discount = facts.every_nth(rule, mask) if rule.every_nth else percent_of(facts.gross, pct_to_scaled(rule.value)) * mask
            discounts[rule.rule_id] = discount
            total = discount * PCT_SCALE
        effects.append((rule, mask, total))
    applied = _decide_groups(effects, facts.pdoc)
    nothing = np.broadcast_to(np.int64(0), n)  # no rule, no coupon: one read-only 0 seen as a column, no memory
    promo = nothing
    multipliers = []
    for (rule, mask, _total), live in zip(effects, applied):
        if rule.reward == "bonus_multiplier":
            multipliers.append((rule, live & mask))
        else:
            promo = promo + np.where(live, discounts[rule.rule_id], 0)
    coupon_pct = lines["coupon_pct"].to_numpy()
    coupon = percent_of(facts.gross, coupon_pct) if coupon_pct.any() else nothing
    if coupon is not nothing:
        promo = promo + coupon
    num, den = _combined_multiplier(multipliers, n)
    names = _rule_names(effects, applied, discounts, facts, pd.Series(lines["coupon_applied"], copy=False), coupon)
    return found.result(with_columns(
        lines,
        promo_discount=nothing if promo is nothing else promo * facts.sign,
        promo_rules=names,
        bonus_multiplier_num=num,
        bonus_multiplier_den=den,
    ))


class _Facts:
    """The per-line facts rules filter on, computed once, and only when a rule asks."""

    def __init__(self, lines: pd.DataFrame, ctx: RunContext, found: Findings):
        self.lines, self.ctx, self.found = lines, ctx, found
        self.sign = lines["sign"].to_numpy()
        self.pdoc = lines["pricing_doc"].to_numpy()

    @cached_property
    def gross(self) -> np.ndarray:
        return np.abs(self.lines["gross"].to_numpy())

    @cached_property
    def qty(self) -> np.ndarray:
        return np.abs(self.lines["qty"].to_numpy(dtype=np.int64))

    @cached_property
    def kit_bonus(self) -> np.ndarray:
        return np.abs(self.lines["kit_bonus"].to_numpy())

    @cached_property
    def dates(self) -> np.ndarray:
        return self.lines["date"].to_numpy(dtype="datetime64[D]")

    @cached_property
    def client_codes(self) -> np.ndarray:
        return self.lines["client_id"].array.codes

    @cached_property
    def client_ids(self) -> list[str]:
        return [str(c) for c in self.lines["client_id"].cat.categories]

    def matches(self, rule: Promotion) -> np.ndarray:
        mask = np.ones(len(self.lines), dtype=bool)
        if rule.active_from:
            mask &= self.dates >= np.datetime64(rule.active_from, "D")
        if rule.active_to:
            mask &= self.dates <= np.datetime64(rule.active_to, "D")
        if rule.segment:
            mask &= self._segment(rule.segment)
        if rule.marker:
            mask &= (self.lines["marker"] == rule.marker).to_numpy()
        if rule.skus:
            mask &= self._text_in("sku", {s.strip().casefold() for s in rule.skus})
        if rule.category:
            mask &= self._text_in("kit_category", {rule.category.strip().casefold()})
        if rule.payment:
            mask &= self._text_in("payment_option", {rule.payment.strip().casefold()})
        if rule.min_qty is not None:
            mask &= self.qty >= int(rule.min_qty.scaleb(QTY_DECIMALS))
        if rule.requires_sku:
            holds = self._text_in("sku", {rule.requires_sku.strip().casefold()}) & (self.qty > 0)
            per_doc = pd.Series(holds).groupby(self.pdoc).transform("max").to_numpy()
            mask &= per_doc
        return mask

    def _text_in(self, column: str, wanted: set[str]) -> np.ndarray:
        values = self.lines[column]
        categories = values.cat.categories if isinstance(values.dtype, pd.CategoricalDtype) else None
        if categories is None:
            return values.astype(str).str.strip().str.casefold().isin(wanted).to_numpy()
        hit = np.array([str(c).strip().casefold() in wanted for c in categories] + [False])
        return hit[values.array.codes]

    @cached_property
    def _clients(self) -> pd.DataFrame:
        """Per client of the lines (by category code, plus a last row for a blank): joined, tier, segments.
        Only the lines' clients are looked up: a bucket of the Dask engine holds a few hundred of the
        workbook's 100 000."""
        book = self.ctx.book.clients
        clients = [book[c] for c in self.client_ids if c in book]
        frame = pd.DataFrame({
            "joined": pd.to_datetime([c.joined for c in clients]),
            "tier": pd.array([(c.tier or "").casefold() for c in clients], dtype="str"),  # text even when none is known
            "segments": pd.array(["," + ",".join(s.casefold() for s in c.segments) + "," for c in clients], dtype="str"),
        }, index=[c.client_id for c in clients])
        return frame.reindex([*self.client_ids, None])

    def _segment(self, segment: str) -> np.ndarray:
        clients = self._clients
        slot = np.where(self.client_codes < 0, len(clients) - 1, self.client_codes)
        if segment == "new":
            days = self.ctx.book.settings.new_client_days
            start = clients["joined"].to_numpy(dtype="datetime64[D]")[slot]
            with np.errstate(invalid="ignore"):
                return (start <= self.dates) & (self.dates < start + np.timedelta64(days, "D"))
        if segment.casefold().startswith("tier:"):
            per_client = clients["tier"].eq(segment.split(":", 1)[1].strip().casefold())
        else:
            per_client = clients["segments"].str.contains("," + segment.strip().casefold() + ",", regex=False)
        return per_client.fillna(False).to_numpy(dtype=bool)[slot]

    def every_nth(self, rule: Promotion, mask: np.ndarray) -> np.ndarray:
        """value % off the ⌊U/n⌋ cheapest matching units of each pricing document."""
        whole = self.qty % 10**QTY_DECIMALS == 0
        fractional = mask & ~whole
        if fractional.any():
            shown = [Number(Decimal(int(q)).scaleb(-QTY_DECIMALS), most=None) for q in self.qty[fractional]]
            self.found.flag(self.lines, fractional, "qty", "price.every_nth_fraction",
                            [msg("qty {qty} is not a whole number, but rule {rule_id} discounts every "
                                 "{ordinal} unit; only whole units can be counted",
                                 qty=q, rule_id=rule.rule_id, ordinal=_ordinal(rule.every_nth)) for q in shown])
        units = np.where(mask & whole, self.qty // 10**QTY_DECIMALS, 0)
        price = np.abs(self.lines["unit_price"].to_numpy(dtype=np.int64))
        frame = pd.DataFrame({"pdoc": self.pdoc, "price": price, "units": units, "position": np.arange(len(units))})
        frame = frame[units > 0].sort_values(["pdoc", "price", "position"], kind="stable")
        per_doc = frame.groupby("pdoc")["units"]
        free = (per_doc.transform("sum") // rule.every_nth).to_numpy()
        before = (per_doc.cumsum() - frame["units"]).to_numpy()
        discounted = np.clip(free - before, 0, frame["units"].to_numpy())
        result = np.zeros(len(units), dtype=np.int64)
        amount = discounted * frame["price"].to_numpy()  # currency × 10^PRICE_DECIMALS
        divisor = 100 * PCT_SCALE * 10 ** (PRICE_DECIMALS - self.ctx.minor_units)
        result[frame["position"].to_numpy()] = mul_div_round(amount, pct_to_scaled(rule.value), divisor)
        return result


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _decide_groups(effects, pdoc: np.ndarray) -> list[np.ndarray]:
    """Per rule, the lines where it is in force: everywhere it matches for a stacking rule, only in the
    documents it wins for a rule of an exclusive group (rules come sorted by priority, then rule_id)."""
    applied = [np.ones(len(pdoc), dtype=bool) for _ in effects]
    groups: dict[str, list[int]] = {}
    for i, (rule, _mask, _total) in enumerate(effects):
        if rule.group:
            groups.setdefault(rule.group.casefold(), []).append(i)
    for members in groups.values():
        totals = np.column_stack([
            pd.Series(effects[i][2]).groupby(pdoc).sum().reindex(range(pdoc.max() + 1), fill_value=0).to_numpy()
            for i in members
        ])
        winner = np.argmax(totals, axis=1)  # the first maximum: the lower priority, then rule_id
        for column, i in enumerate(members):
            applied[i] = winner[pdoc] == column
    return applied


def _combos(masks: list[np.ndarray], n: int) -> tuple[np.ndarray, list[list[int]]]:
    """Lines grouped by which masks hold on them: a combination id per line, and each combination's masks."""
    if not masks:
        return np.zeros(n, dtype=np.int8), [[]]
    keys = pd.DataFrame(np.column_stack(masks).astype(np.int8))
    combo = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
    first = pd.Series(np.arange(n)).groupby(combo).first().to_numpy()
    members = [np.flatnonzero(keys.to_numpy()[row]).tolist() for row in first]
    return combo, members


def _combined_multiplier(multipliers, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per line, the product of the multipliers in force, as an exact fraction num / den.

    With no multiplier rule every line's is 1/1: one read-only value seen as a column, no memory.
    """
    if not multipliers:
        one = np.broadcast_to(np.int64(1), n)
        return one, one
    combo, members = _combos([live for _rule, live in multipliers], n)
    products = [_product([Fraction(multipliers[j][0].value) for j in m]) for m in members]
    num = np.array([p.numerator for p in products], dtype=np.int64)[combo]
    den = np.array([p.denominator for p in products], dtype=np.int64)[combo]
    return num, den


def _product(values: list[Fraction]) -> Fraction:
    result = Fraction(1)
    for value in values:
        result *= value
    return result


def _rule_names(effects, applied, discounts, facts: _Facts, coupon_codes: pd.Series, coupon: np.ndarray) -> pd.Categorical:
    """``promo_rules``: the ids of the rules that changed the line, then its coupon, comma-separated."""
    changed = []
    for (rule, mask, _total), live in zip(effects, applied):
        if rule.reward == "bonus_multiplier":
            changed.append(live & mask & (facts.kit_bonus > 0) & (pct_to_scaled(rule.value) != PCT_SCALE))
        else:
            changed.append(live & (discounts[rule.rule_id] != 0))
    combo, members = _combos(changed, len(facts.pdoc))
    in_sheet_order = [sorted(m, key=lambda j: effects[j][0].src.row) for m in members]
    labels = [", ".join(effects[j][0].rule_id for j in m) for m in in_sheet_order]
    couponed = np.flatnonzero(coupon != 0)
    given = coupon_codes.iloc[couponed].to_numpy(dtype=object)
    couponed, given = couponed[pd.notna(given)], given[pd.notna(given)]
    if len(couponed):  # coupons are rare: their lines get labels of their own
        extra = {}
        combo = combo.copy()
        for i, code in zip(couponed, given):
            label = ", ".join(filter(None, [labels[combo[i]], str(code)]))
            combo[i] = extra.setdefault(label, len(labels) + len(extra))
        labels += list(extra)
    unique = {label: i for i, label in enumerate(dict.fromkeys(label for label in labels if label))}
    remap = np.array([unique.get(label, -1) for label in labels], dtype=np.int8 if len(unique) < 128 else np.int32)
    return pd.Categorical.from_codes(remap[combo], categories=list(unique))  # blank (-1): no rule changed the line


PLUGIN = LinePlugin(
    "promotions", 700,
    needs=("gross", "qty", "date", "client_id", "marker", "sku", "kit_bonus", "sign", "pricing_doc", "kit_category",
           "payment_option", "coupon_pct", "coupon_applied"),
    adds=("promo_discount", "promo_rules", "bonus_multiplier_num", "bonus_multiplier_den"), apply=plugin)
