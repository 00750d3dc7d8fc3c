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
line; ``_sale`` is its lot ref (an export line) or ledger line id, -1 when none,
and ``_deferred`` the IFRS 15 deferral the return reverses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..erp.lines import SOURCE_ROW, with_columns
from ..ledger.ifrs15 import deferred_revenue
from ..ledger.lots import FIGURES, days, export_ref, line_ranks
from ..money import exact_round, format_minor
from ..pipeline import Context

LINE_FIGURES = FIGURES[:-1]  # the columns of a priced line; ``deferred`` is the ledger's


def plugin(lines: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    count = len(lines)
    label = np.full(count, None, dtype=object)
    sale_ref = np.full(count, -1, dtype=np.int64)
    deferred = np.zeros(count, dtype=np.int64)
    returns = np.flatnonzero(lines["_sign"].to_numpy() < 0)
    columns: dict[str, np.ndarray] = {}
    if len(returns):
        candidates = _candidates(lines, ctx, returns)
        figures = {name: lines[name].to_numpy(dtype=np.int64).copy() for name in LINE_FIGURES}
        matched = _match(lines, ctx, returns, candidates, figures, label, sale_ref, deferred)
        if matched.any():
            columns = figures
    return with_columns(lines, **columns, matched_sale=pd.array(label, dtype="string"), _sale=sale_ref,
                        _deferred=deferred)


def _candidates(lines: pd.DataFrame, ctx: Context, returns: np.ndarray) -> pd.DataFrame:
    """The sale lines a return could match: the export's and the ledger's of a returned (client, SKU)."""
    client = lines["client_id"].astype(str).to_numpy(dtype=object)
    sku = lines["sku"].astype(str).to_numpy(dtype=object)
    pairs = set(zip(client[returns].tolist(), sku[returns].tolist()))
    sale = lines["_sign"].to_numpy() > 0
    wanted = pd.MultiIndex.from_arrays([client, sku]).isin(list(pairs)) & sale
    at = np.flatnonzero(wanted)
    day = lines["date"].to_numpy()[at]
    net, accrued = lines["net"].to_numpy(dtype=np.int64)[at], lines["bonus_accrued"].to_numpy(dtype=np.int64)[at]
    own = pd.DataFrame({
        "client_id": client[at], "sku": sku[at], "doc_id": lines["doc_id"].astype(str).to_numpy(dtype=object)[at],
        "day": days(day), "qty": lines["qty"].to_numpy(dtype=np.int64)[at], "ref": export_ref(at),
        "label": [f"{d} {t:%d.%m.%Y}, row {r}" for d, t, r in zip(
            lines["doc_id"].astype(str).to_numpy()[at], pd.DatetimeIndex(day), lines[SOURCE_ROW].to_numpy()[at])],
        "position": at,
        **{name: lines[name].to_numpy(dtype=np.int64)[at] for name in LINE_FIGURES},
        "deferred": deferred_revenue(net, accrued, ctx.book.expected_redemption_scaled(day.astype("datetime64[D]"))),
    })
    own["qty_left"] = own["qty"]
    for name in FIGURES:
        own[f"left_{name}"] = own[name]
    stored = ctx.opening.sales if ctx.opening is not None else None
    if stored is not None and len(stored):
        stored = stored[pd.MultiIndex.from_arrays([stored["client_id"], stored["sku"]]).isin(list(pairs))]
        stored = stored.sort_values(["day", "id"]).assign(
            ref=stored["id"], position=-1,
            label=[f"{d} {pd.Timestamp(t, unit='D'):%d.%m.%Y}, line {n} (ledger)"
                   for d, t, n in zip(stored["doc_id"], stored["day"], stored["line"])])
        own = pd.concat([stored[own.columns], own], ignore_index=True)
    return own


def _match(lines, ctx, returns, candidates, figures, label, sale_ref, deferred) -> np.ndarray:
    """Match each return in ledger order (earlier returns first) and write its figures; True where matched."""
    client = lines["client_id"].astype(str).to_numpy(dtype=object)
    sku = lines["sku"].astype(str).to_numpy(dtype=object)
    base = lines["base_doc"].astype(str).to_numpy(dtype=object) if "base_doc" in lines else None
    has_base = lines["base_doc"].notna().to_numpy() if base is not None else np.zeros(len(lines), dtype=bool)
    qty = lines["qty"].to_numpy(dtype=np.int64)
    stored = int((candidates["position"] < 0).sum())
    # every candidate and return in one ledger order: the ledger's sales first (as they were posted)
    at = np.r_[candidates["position"].to_numpy()[stored:], returns]
    ranks = line_ranks(lines, at)
    cand_rank = np.r_[np.arange(-stored, 0), ranks[:len(at) - len(returns)]]
    return_rank = ranks[len(at) - len(returns):]
    by_pair: dict[tuple, list[int]] = {}
    for c in np.argsort(cand_rank, kind="stable").tolist():
        by_pair.setdefault((candidates["client_id"].iat[c], candidates["sku"].iat[c]), []).append(c)
    left_qty = candidates["qty_left"].to_numpy(dtype=np.int64).copy()
    sold = candidates["qty"].to_numpy(dtype=np.int64)
    original = candidates[list(FIGURES)].to_numpy(dtype=np.int64)
    left = candidates[[f"left_{name}" for name in FIGURES]].to_numpy(dtype=np.int64).copy()
    docs = candidates["doc_id"].to_numpy(dtype=object)
    matched = np.zeros(len(lines), dtype=bool)
    units = ctx.minor_units
    for k in np.argsort(return_rank, kind="stable").tolist():
        i, r = int(returns[k]), return_rank[k]
        want = -int(qty[i])
        chosen = -1
        for c in reversed(by_pair.get((client[i], sku[i]), [])):
            if cand_rank[c] >= r or left_qty[c] < want or (has_base[i] and docs[c] != base[i]):
                continue
            chosen = c
            break
        if chosen < 0:
            where = f"in document {base[i]} " if has_base[i] else ""
            ctx.warn("price.return_unmatched", f"no earlier sale of {sku[i]} to {client[i]} {where}has "
                     f"{want / 1000:g} not yet returned: the return is priced at this date's terms",
                     row=int(lines[SOURCE_ROW].iat[i]), field_name="qty")
            continue
        if left_qty[chosen] == want:  # the completing return takes exactly what is left
            values = left[chosen].copy()
        else:
            values = np.array([exact_round(int(v) * want, int(sold[chosen])) for v in original[chosen]], dtype=np.int64)
        left[chosen] -= values
        left_qty[chosen] -= want
        own_gross = int(figures["gross"][i])
        for j, name in enumerate(LINE_FIGURES):
            figures[name][i] = -values[j]
        deferred[i] = -values[-1]
        if own_gross != -values[0]:
            ctx.warn("price.return_amount", f"the return's amount {format_minor(-own_gross, units, grouped=True)} differs from "
                     f"what its sale charged for the quantity, {format_minor(int(values[0]), units, grouped=True)} "
                     f"({candidates['label'].iat[chosen]}): the sale's figures are reversed",
                     row=int(lines[SOURCE_ROW].iat[i]), field_name="amount")
        label[i] = candidates["label"].iat[chosen]
        sale_ref[i] = int(candidates["ref"].iat[chosen])
        matched[i] = True
    return matched
