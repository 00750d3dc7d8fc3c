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

import numpy as np
import pandas as pd

from ..ledger.ifrs15 import deferred_revenue
from ..ledger.lots import FIGURES, days, export_ref, line_ranks, text_codes, text_values
from ..lines import SOURCE_ROW, with_columns
from ..money import exact_round, format_minor
from ..pipeline import MAX_LINE_PROBLEMS, Findings, LinePlugin, PluginResult, RunContext

LINE_FIGURES = FIGURES[:-1]  # the columns of a priced line; ``deferred`` is the ledger's


def plugin(lines: pd.DataFrame, ctx: RunContext) -> PluginResult:
    found = Findings()
    count = len(lines)
    label = np.full(count, None, dtype=object)
    sale_ref = np.full(count, -1, dtype=np.int64)
    deferred = np.zeros(count, dtype=np.int64)
    returns = np.flatnonzero(lines["sign"].to_numpy() < 0)
    columns: dict[str, np.ndarray] = {}
    if len(returns):
        candidates = _candidates(lines, ctx, returns)
        reversed_figures = _match(lines, ctx, found, returns, candidates, label, sale_ref, deferred)
        if reversed_figures:  # the figure columns copied once, only when a return was matched
            at = np.fromiter(reversed_figures, dtype=np.int64)
            values = np.array(list(reversed_figures.values()), dtype=np.int64)
            for j, name in enumerate(LINE_FIGURES):
                column = lines[name].to_numpy(dtype=np.int64).copy()
                column[at] = values[:, j]
                columns[name] = column
    return found.result(with_columns(lines, **columns, matched_sale=_categorical(label), sale_ref=sale_ref,
                                     return_deferred=deferred))


def _categorical(label: np.ndarray) -> pd.Categorical:
    """The matched sales' names as a categorical, as the lines hold text: codes for the few named, -1 elsewhere."""
    named = np.flatnonzero(pd.notna(label))
    codes = np.full(len(label), -1, dtype=np.int32)
    values, codes[named] = np.unique(label[named].astype(str), return_inverse=True) if len(named) else ([], [])
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


def _labels(candidates: pd.DataFrame) -> list:
    """How the write-back names each candidate sale: ``(doc_id, day, row or line, from the ledger)``, made
    into text for the matched ones only (``_label``)."""
    return list(zip(candidates["doc_id"].astype(str).tolist(), candidates["day"].tolist(),
                    candidates["line"].astype(str).tolist(), (candidates["position"] < 0).tolist()))


def _label(parts: tuple) -> str:
    doc, day, line, stored = parts
    when = f"{pd.Timestamp(int(day), unit='D'):%d.%m.%Y}"
    return f"{doc} {when}, line {line} (ledger)" if stored else f"{doc} {when}, row {line}"


def _match(lines, ctx, found, returns, candidates, label, sale_ref, deferred) -> dict[int, list[int]]:
    """Match each return in ledger order (earlier returns first); its figures (LINE_FIGURES) by position."""
    client, clients = text_codes(lines["client_id"])
    sku, skus = text_codes(lines["sku"])
    return_pair = (client[returns].astype(np.int64) * (len(skus) + 1) + sku[returns]).tolist()
    client_names, sku_names = np.asarray(clients, dtype=object), np.asarray(skus, dtype=object)
    base = text_values(lines["base_doc"]) if "base_doc" in lines else None
    has_base = lines["base_doc"].notna().to_numpy() if base is not None else np.zeros(len(lines), dtype=bool)
    qty = lines["qty"].to_numpy(dtype=np.int64)
    rows = lines[SOURCE_ROW].to_numpy()
    stored = int((candidates["position"] < 0).sum())
    # every candidate and return in one ledger order: the ledger's sales first (as they were posted)
    at = np.r_[candidates["position"].to_numpy()[stored:], returns]
    ranks = line_ranks(lines, at)
    cand_rank = np.r_[np.arange(-stored, 0), ranks[:len(at) - len(returns)]].tolist()
    return_rank = ranks[len(at) - len(returns):]
    # each (client, SKU)'s candidates in ledger order: one sort, then a slice per pair
    pairs = candidates["pair"].to_numpy(dtype=np.int64)
    in_order = np.lexsort((np.asarray(cand_rank), pairs))
    starts = np.flatnonzero(np.r_[True, pairs[in_order][1:] != pairs[in_order][:-1]]) if len(pairs) else np.zeros(0, int)
    ends = np.r_[starts[1:], len(pairs)]
    by_pair = {int(pairs[in_order[a]]): in_order[a:b].tolist() for a, b in zip(starts.tolist(), ends.tolist())}
    left_qty = candidates["qty_left"].to_numpy(dtype=np.int64).tolist()
    sold = candidates["qty"].to_numpy(dtype=np.int64).tolist()
    original = candidates[list(FIGURES)].to_numpy(dtype=np.int64).tolist()
    left = candidates[[f"left_{name}" for name in FIGURES]].to_numpy(dtype=np.int64).tolist()
    docs = [str(doc) for doc in candidates["doc_id"].to_numpy(dtype=object)]
    labels = _labels(candidates)
    refs = candidates["ref"].to_numpy(dtype=np.int64).tolist()
    reversed_figures: dict[int, list[int]] = {}
    gross = lines["gross"].to_numpy(dtype=np.int64)
    units = ctx.minor_units
    unmatched = []
    for k in np.argsort(return_rank, kind="stable").tolist():
        i, r = int(returns[k]), int(return_rank[k])
        if return_pair[k] not in by_pair:  # no sale of this SKU to this client at all
            unmatched.append(i)
            continue
        want = -int(qty[i])
        chosen = -1
        for c in reversed(by_pair[return_pair[k]]):
            if cand_rank[c] < r and left_qty[c] >= want and not (has_base[i] and docs[c] != str(base[i])):
                chosen = c
                break
        if chosen < 0:
            unmatched.append(i)
            continue
        if left_qty[chosen] == want:  # the completing return takes exactly what is left
            values = list(left[chosen])
        else:
            values = [exact_round(v * want, sold[chosen]) for v in original[chosen]]
        left[chosen] = [a - b for a, b in zip(left[chosen], values)]
        left_qty[chosen] -= want
        own_gross = int(gross[i])
        reversed_figures[i] = [-v for v in values[:-1]]
        deferred[i] = -values[-1]
        label[i] = _label(labels[chosen])
        if own_gross != -values[0]:
            found.warn("price.return_amount", f"the return's amount {format_minor(-own_gross, units, grouped=True)} "
                       f"differs from what its sale charged for the quantity, "
                       f"{format_minor(values[0], units, grouped=True)} ({label[i]}): the sale's figures are reversed",
                       row=int(rows[i]), field_name="amount")
        sale_ref[i] = refs[chosen]
    for i in sorted(unmatched)[:MAX_LINE_PROBLEMS]:
        where = f"in document {base[i]} " if has_base[i] else ""
        found.warn("price.return_unmatched", f"no earlier sale of {sku_names[sku[i]]} to {client_names[client[i]]} "
                   f"{where}has {-qty[i] / 1000:g} not yet returned: the return is priced at this date's terms",
                   row=int(rows[i]), field_name="qty")
    if len(unmatched) > MAX_LINE_PROBLEMS:
        found.warn("price.return_unmatched", f"and {len(unmatched) - MAX_LINE_PROBLEMS} more returns with no sale to match")
    return reversed_figures


PLUGIN = LinePlugin("returns", 900, needs=("sign", "client_id", "sku", "qty", "date", *LINE_FIGURES),
                    adds=("matched_sale", "sale_ref", "return_deferred"), apply=plugin)
