"""Returns matched to the sale line they return, reversing that sale's own figures (SPEC §5 Returns, §8).

A return line (qty < 0) is matched, in ledger order, to a sale line of the same
client and SKU whose quantity not yet returned covers the return's: the one in
document ``base_doc`` (any year) when the export gives it, else the most recent
earlier one. Sale lines are the export's and, with a ledger, the ones posted before
(``ctx.opening.sales``). A matched return's money figures are the sale's, pro rata
and negated: −round(figure × returned qty / sold qty), the return that completes the
sale line taking exactly what is left. So a return after a tariff change, the end
of a promotion or a VAT change gives back exactly what its sale gave.

An unmatched return keeps the figures it was priced with (§5: a separate document
of positive quantities, negated), with a warning. ``matched_sale`` names the sale
line; ``sale_ref`` is its lot ref (an export line) or ledger line id, -1 when none,
and ``return_deferred`` the IFRS 15 deferral the return reverses.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from ..i18n import Number, msg
from ..ledger.ifrs15 import deferred_revenue
from ..ledger.lots import FIGURES, days, export_ref, line_ranks, text_codes, text_values
from ..lines import SOURCE_ROW, with_columns
from ..money import mul_div_round
from ..pipeline import MAX_LINE_PROBLEMS, Findings, LinePlugin, PluginResult, RunContext
from ..tables import QTY_DECIMALS

LINE_FIGURES = FIGURES[:-1]  # the columns of a priced line; ``deferred`` is the ledger's


def plugin(lines: pd.DataFrame, ctx: RunContext) -> PluginResult:
    found = Findings()
    count = len(lines)
    sale_ref = np.full(count, -1, dtype=np.int64)
    deferred = np.zeros(count, dtype=np.int64)
    returns = np.flatnonzero(lines["sign"].to_numpy() < 0)
    matched_sale, patches = _categorical(count, returns[:0], np.zeros(0, dtype=object)), {}
    if len(returns):
        matched_sale, patches = _match(lines, ctx, found, returns, _candidates(lines, ctx, returns), sale_ref, deferred)
    return found.result(with_columns(lines, matched_sale=matched_sale, sale_ref=sale_ref, return_deferred=deferred),
                        patches)


def _categorical(count: int, at: np.ndarray, names: np.ndarray) -> pd.Categorical:
    """The matched sales' ``names`` at positions ``at`` as a categorical of ``count`` lines (the lines hold
    text so): codes for the few named, -1 elsewhere."""
    codes = np.full(count, -1, dtype=np.int32)
    values, codes[at] = np.unique(names.astype(str), return_inverse=True) if len(at) else ([], [])
    return pd.Categorical.from_codes(codes, categories=pd.Index(values, dtype=object))


def _candidates(lines: pd.DataFrame, ctx: RunContext, returns: np.ndarray) -> pd.DataFrame:
    """The sale lines a return could match: the export's and the ledger's of a returned (client, SKU),
    keyed by ``pair`` (client and SKU codes of the export)."""
    client, clients = text_codes(lines["client_id"])
    sku, skus = text_codes(lines["sku"])
    pair = client.astype(np.int64) * (len(skus) + 1) + sku
    # a sale of a client and a SKU that are both returned somewhere (two lookups per line), then exactly
    returned_client, returned_sku = np.zeros(len(clients) + 1, dtype=bool), np.zeros(len(skus) + 1, dtype=bool)
    returned_client[client[returns]] = True
    returned_sku[sku[returns]] = True
    near = returned_client[client] & returned_sku[sku] & (lines["sign"].to_numpy() > 0)
    wanted = near.copy()
    wanted[near] = pd.Series(pair[near]).isin(pd.unique(pair[returns])).to_numpy()  # hashed, not sorted
    at = np.flatnonzero(wanted)
    day = lines["date"].to_numpy()[at]
    net, accrued = lines["net"].to_numpy(dtype=np.int64)[at], lines["bonus_accrued"].to_numpy(dtype=np.int64)[at]
    own = pd.DataFrame({
        "pair": pair[at], "doc_id": text_values(lines["doc_id"], at), "day": days(day),
        "qty": lines["qty"].to_numpy(dtype=np.int64)[at], "ref": export_ref(at), "position": at,
        "line": lines[SOURCE_ROW].to_numpy()[at].astype(str),
        **{name: lines[name].to_numpy(dtype=np.int64)[at] for name in LINE_FIGURES},
        "deferred": deferred_revenue(net, accrued, ctx.book.expected_redemption_scaled(day.astype("datetime64[D]"))),
    })
    own["qty_left"] = own["qty"]
    for name in FIGURES:
        own[f"left_{name}"] = own[name]
    stored = ctx.opening.sales if ctx.opening is not None else None
    if stored is not None and len(stored):
        stored_client = clients.get_indexer(stored["client_id"].astype(str))
        stored_sku = skus.get_indexer(stored["sku"].astype(str))
        stored = stored.assign(pair=stored_client * (len(skus) + 1) + stored_sku)
        known = (stored_client >= 0) & (stored_sku >= 0) & stored["pair"].isin(pd.unique(pair[returns])).to_numpy()
        stored = stored[known].sort_values(["day", "id"])
        stored = stored.assign(ref=stored["id"], position=-1)
        own = pd.concat([stored[own.columns], own], ignore_index=True)
    return own


def _match(lines, ctx, found, returns, candidates, sale_ref, deferred) -> tuple[pd.Categorical, dict[str, tuple]]:
    """Match the returns to candidate sales and reverse the sales' figures: ``matched_sale``, and the
    figures of the matched returns as patches (PluginResult), where they differ from the return's own.

    Returns of different (client, SKU) pairs never compete for a sale, so they are matched in
    rounds: round k takes each pair's k-th return in ledger order, all pairs at once, and what the
    round's returns take is subtracted before the next round. Each return takes the latest candidate
    earlier than it in ledger order that covers its quantity (in its ``base_doc`` when given).
    """
    client, clients = text_codes(lines["client_id"])
    sku, skus = text_codes(lines["sku"])
    return_pair = client[returns].astype(np.int64) * (len(skus) + 1) + sku[returns]
    want = -lines["qty"].to_numpy(dtype=np.int64)[returns]
    stored = int((candidates["position"] < 0).sum())
    # every candidate and return in one ledger order: the ledger's sales first (as they were posted)
    ranks = line_ranks(lines, np.r_[candidates["position"].to_numpy()[stored:], returns])
    cand_rank = np.r_[np.arange(-stored, 0), ranks[:len(candidates) - stored]]
    return_rank = ranks[len(candidates) - stored:]
    docs, bases = _documents(lines, returns, candidates)
    # candidates by pair, each pair's in ledger order; returns likewise, numbered within their pair
    c_order = np.lexsort((cand_rank, candidates["pair"].to_numpy(dtype=np.int64)))
    c_pair, c_rank, c_doc = candidates["pair"].to_numpy(dtype=np.int64)[c_order], cand_rank[c_order], docs[c_order]
    sold = candidates["qty"].to_numpy(dtype=np.int64)[c_order]
    left_qty = candidates["qty_left"].to_numpy(dtype=np.int64)[c_order]
    original = candidates[list(FIGURES)].to_numpy(dtype=np.int64)[c_order]
    left = candidates[[f"left_{name}" for name in FIGURES]].to_numpy(dtype=np.int64)[c_order]
    r_order = np.lexsort((return_rank, return_pair))
    r_pair = return_pair[r_order]
    first = np.r_[True, r_pair[1:] != r_pair[:-1]]
    nth = np.arange(len(r_order)) - np.maximum.accumulate(np.where(first, np.arange(len(r_order)), 0))
    chosen = np.full(len(returns), -1, dtype=np.int64)  # per return (as ``returns``): its sale, in c_order
    values = np.zeros((len(returns), len(FIGURES)), dtype=np.int64)
    for k in range(int(nth.max()) + 1 if len(nth) else 0):
        now = r_order[nth == k]  # each pair's k-th return
        lo, hi = np.searchsorted(c_pair, return_pair[now], "left"), np.searchsorted(c_pair, return_pair[now], "right")
        owner = np.repeat(np.arange(len(now)), hi - lo)
        at = np.arange(len(owner)) - np.repeat(np.cumsum(hi - lo) - (hi - lo), hi - lo) + np.repeat(lo, hi - lo)
        fits = (c_rank[at] < return_rank[now][owner]) & (left_qty[at] >= want[now][owner]) \
            & ((bases[now][owner] < 0) | (c_doc[at] == bases[now][owner]))
        latest = np.full(len(now), -1, dtype=np.int64)
        np.maximum.at(latest, owner[fits], at[fits])
        now, sale = now[latest >= 0], latest[latest >= 0]
        taken = want[now]
        rest = left_qty[sale] == taken  # the completing return takes exactly what is left
        share = mul_div_round(original[sale].ravel(), np.repeat(taken, len(FIGURES)),
                              np.repeat(sold[sale], len(FIGURES))).reshape(-1, len(FIGURES))
        values[now] = np.where(rest[:, None], left[sale], share)
        left[sale] -= values[now]
        left_qty[sale] -= taken
        chosen[now] = sale
    matched = chosen >= 0
    at, sale = returns[matched], c_order[chosen[matched]]
    deferred[at] = -values[matched, -1]
    sale_ref[at] = candidates["ref"].to_numpy(dtype=np.int64)[sale]
    names = np.full(len(returns), None, dtype=object)
    names[matched] = _labels(candidates, sale)
    _warn(lines, ctx, found, returns, matched, return_rank, values, names, skus[sku[returns]], clients[client[returns]],
          bases >= 0, want)
    patches = {name: (at, -values[matched, j]) for j, name in enumerate(LINE_FIGURES)
               if (lines[name].to_numpy()[at] != -values[matched, j]).any()}  # a column copied only when a return changes it
    return _categorical(len(lines), at, names[matched]), patches


def _documents(lines: pd.DataFrame, returns: np.ndarray, candidates: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The candidates' documents and the returns' ``base_doc`` as codes of one numbering (-1: no base_doc)."""
    given = lines["base_doc"].notna().to_numpy()[returns] if "base_doc" in lines else np.zeros(len(returns), dtype=bool)
    if not given.any():
        return np.zeros(len(candidates), dtype=np.int64), np.full(len(returns), -1, dtype=np.int64)
    base = text_values(lines["base_doc"], returns[given])
    codes, _ = pd.factorize(np.r_[candidates["doc_id"].to_numpy(dtype=object), base].astype(str))
    bases = np.full(len(returns), -1, dtype=np.int64)
    bases[given] = codes[len(candidates):]
    return codes[:len(candidates)], bases


def _labels(candidates: pd.DataFrame, sale: np.ndarray) -> np.ndarray:
    """How the write-back names the sales at ``sale``: ``D2 02.03.2026, row 3`` for an export line,
    ``D1 02.03.2026, line A#0 (ledger)`` for one the ledger holds. Each distinct day is formatted once."""
    day_codes, day_values = pd.factorize(candidates["day"].to_numpy(dtype=np.int64)[sale])
    when = pd.to_datetime(day_values, unit="D").strftime("%d.%m.%Y").to_numpy(dtype=object)[day_codes]
    doc = candidates["doc_id"].to_numpy(dtype=object)[sale].astype(str)
    line = candidates["line"].to_numpy(dtype=object)[sale].astype(str)
    stored = candidates["position"].to_numpy()[sale] < 0
    return (pd.Series(doc, dtype=object) + " " + when + np.where(stored, ", line ", ", row ") + line
            + np.where(stored, " (ledger)", "")).to_numpy(dtype=object)


def _warn(lines, ctx, found, returns, matched, return_rank, values, names, sku_names, client_names, has_base, want):
    """A matched return credited at another amount than its sale charged (in ledger order); the returns
    no sale matched (in the lines' order)."""
    units, rows = ctx.minor_units, lines[SOURCE_ROW].to_numpy()
    gross = lines["gross"].to_numpy(dtype=np.int64)[returns]
    differs = np.flatnonzero(matched & (gross != -values[:, 0]))
    differs = differs[np.argsort(return_rank[differs], kind="stable")]
    for k in differs[:MAX_LINE_PROBLEMS].tolist():  # the listed ones only: a message each costs its formatting
        i = int(returns[k])
        found.warn("price.return_amount", msg("the return's amount {amount} differs from what its sale "
                                              "charged for the quantity, {charged} ({names}): the sale's "
                                              "figures are reversed",
                                              amount=Number.money(-int(gross[k]), units), charged=Number.money(values[k, 0], units), names=names[k]),
                   row=int(rows[i]), field_name="amount")
    if len(differs) > MAX_LINE_PROBLEMS:
        found.warn_unlisted("price.return_amount", len(differs) - MAX_LINE_PROBLEMS)
    unmatched = np.flatnonzero(~matched)
    base = text_values(lines["base_doc"], returns) if "base_doc" in lines else None
    for k in unmatched[:MAX_LINE_PROBLEMS].tolist():
        where = msg("in document {document} ", document=base[k]) if has_base[k] else ""
        found.warn("price.return_unmatched", msg("no earlier sale of {sku_names} to {client_names} {where}has "
                                                 "{want} not yet returned: the return is priced at this "
                                                 "date's terms",
                                                 sku_names=sku_names[k], client_names=client_names[k], where=where, want=Number(Decimal(int(want[k])).scaleb(-QTY_DECIMALS), most=None)),
                   row=int(rows[returns[k]]), field_name="qty")
    if len(unmatched) > MAX_LINE_PROBLEMS:
        found.warn_unlisted("price.return_unmatched", len(unmatched) - MAX_LINE_PROBLEMS)


PLUGIN = LinePlugin("returns", 900, needs=("sign", "client_id", "sku", "qty", "date", *LINE_FIGURES),
                    adds=("matched_sale", "sale_ref", "return_deferred"), apply=plugin)
