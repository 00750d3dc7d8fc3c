"""Bonus points spent on a line (SPEC §5 step 13): bonus_redeemed and cash_due.

bonus_redeemed = the line's bonus_paid, at most net and at most the client's
available balance just before the line, in ledger order (date, doc_id, line_no);
more is an error for the line, or capped when ``on_overdraw`` is ``cap``.

The balance is the ledger's stored points for the client (when a ledger is given),
plus the export's own earlier lines: points accrued on a line become available when
its money-back window ends (date + moneyback_days); a return's negative accrual
counts at once (it cancels pending points first), and the balance never counts
below 0. A return line's bonus_paid gives points back: it is mirrored, at most
the return's net, with no balance check. cash_due = net − bonus_redeemed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..erp.lines import with_columns
from ..money import format_minor
from ..pipeline import Context


def plugin(lines: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    net = lines["net"].to_numpy()
    paid = np.abs(lines["bonus_paid"].to_numpy(dtype=np.int64, na_value=0)) if "bonus_paid" in lines else np.zeros(len(lines), np.int64)
    sign = lines["_sign"].to_numpy()
    redeemed = np.zeros(len(lines), dtype=np.int64)
    returns = (sign < 0) & (paid > 0)
    redeemed[returns] = -np.minimum(paid[returns], np.abs(net[returns]))
    spending = np.flatnonzero((sign > 0) & (paid > 0))
    if len(spending):
        redeemed[spending] = _spend(lines, ctx, spending, paid, net)
    return with_columns(lines, bonus_redeemed=redeemed, cash_due=net - redeemed)


def _stored_points(ctx: Context, lines: pd.DataFrame, spenders: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per spending client (by category code): the ledger's entries as (counts-from day, amount).

    An entry counts from its available_on day (an accrual's window end; spent or returned
    points at once) and only once booked.
    """
    if ctx.opening is None or ctx.opening.empty:
        return {}
    codes = lines["client_id"].cat.categories.get_indexer(ctx.opening["client_id"])
    frame = ctx.opening.assign(code=codes)
    frame = frame[np.isin(codes, spenders)]
    on = np.maximum(pd.to_datetime(frame["available_on"]).to_numpy(dtype="datetime64[D]"),
                    pd.to_datetime(frame["booked_on"]).to_numpy(dtype="datetime64[D]"))
    frame = frame.assign(on=on)
    return {int(code): (g["on"].to_numpy(), g["amount"].to_numpy(dtype=np.int64)) for code, g in frame.groupby("code")}


def _ledger_order(lines: pd.DataFrame, at: np.ndarray, client: np.ndarray) -> np.ndarray:
    """The lines at positions ``at`` by client, then in ledger order (date, doc_id as text, line_no, export row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    line_no = lines["line_no"].to_numpy(dtype=np.int64, na_value=0)[at] if "line_no" in lines else np.zeros(len(at), np.int64)
    docs = lines["doc_id"].array
    text_rank = pc.rank(pa.array(docs.categories.astype(str)), sort_keys="ascending", tiebreaker="first").to_numpy()
    doc = text_rank[docs.codes[at]]
    dates = lines["date"].to_numpy()[at].astype("datetime64[D]")
    return _sorted_by([client[at], dates.view(np.int64), doc, line_no, lines["source_row"].to_numpy()[at]])


def _sorted_by(keys: list[np.ndarray]) -> np.ndarray:
    """The order that sorts by ``keys``, the first most significant (np.lexsort's, stable), with
    neighbouring keys packed into one int64 where their ranges allow: fewer passes over the rows."""
    if not len(keys[0]):
        return np.zeros(0, dtype=np.intp)
    packed: list[np.ndarray] = []
    span = 0
    for key in keys:
        low = int(key.min())
        size = int(key.max()) - low + 1
        if packed and span * size < 2**62:  # the ranges multiplied stay within int64
            packed[-1] = packed[-1] * size + (key - low)
            span *= size
        elif size < 2**63:
            packed.append(key.astype(np.int64) - low)
            span = size
        else:  # wider than int64 can shift: as it is, and alone
            packed.append(key.astype(np.int64))
            span = 2**64
    return np.lexsort(packed[::-1])


def _spend(lines: pd.DataFrame, ctx: Context, spending: np.ndarray, paid: np.ndarray, net: np.ndarray) -> np.ndarray:
    """Redemptions in ledger order, one client's running balance at a time (a loop over spending lines only).

    Only the spending clients' lines that accrue points, and the spending lines, are
    needed. Sorted by client and then in ledger order, each client's lines are one
    slice, and the lines before a spending line in the ledger are the start of that
    slice.
    """
    client = lines["client_id"].array.codes
    spenders = np.unique(client[spending])
    accrued = lines["bonus_accrued"].to_numpy()
    of_spender = np.zeros(len(lines["client_id"].cat.categories) + 1, dtype=bool)  # the last: a line without client
    of_spender[spenders] = True
    counted = of_spender[client] & (accrued != 0)  # a line that accrues nothing cannot change a balance
    counted[spending] = True
    mine_at = np.flatnonzero(counted)
    sorted_at = mine_at[_ledger_order(lines, mine_at, client)]
    spends = np.zeros(len(lines), dtype=bool)
    spends[spending] = True
    heres = np.flatnonzero(spends[sorted_at])  # the spending lines' places in ledger order
    ks = np.searchsorted(spending, sorted_at[heres])  # and their indices in ``spending``
    day = lines["date"].to_numpy()
    dates = day[sorted_at].astype("datetime64[D]")
    mb = lines["moneyback_days"].to_numpy(dtype=np.int64, na_value=0)[sorted_at] if "moneyback_days" in lines else 0
    amount_sorted = accrued[sorted_at]
    on_sorted = dates + np.asarray(mb, dtype="timedelta64[D]")
    on_sorted = np.where(amount_sorted < 0, dates, on_sorted)  # a return cancels at once
    by_client_code = client[sorted_at]
    starts = np.searchsorted(by_client_code, spenders, side="left")
    first_of = {int(c): int(a) for c, a in zip(spenders, starts)}
    spend_dates = day[spending].astype("datetime64[D]")
    stored = _stored_points(ctx, lines, spenders)
    cap = ctx.book.settings.on_overdraw == "cap"
    spent_so_far: dict[int, int] = {}
    result = np.zeros(len(spending), dtype=np.int64)
    overdrawn: list[tuple[int, str]] = []
    for k, here in zip(ks.tolist(), heres.tolist()):  # one step per line that spends points, in ledger order
        i = spending[k]
        first, on_day = first_of[int(client[i])], spend_dates[k]
        earlier = on_sorted[first:here] <= on_day
        from_ledger = stored.get(int(client[i]))
        opening = int(from_ledger[1][(from_ledger[0] <= on_day)].sum()) if from_ledger is not None else 0
        balance = max(0, opening + int(amount_sorted[first:here][earlier].sum()) - spent_so_far.get(client[i], 0))
        wanted = int(paid[i])
        allowed = min(balance, max(int(net[i]), 0))
        if wanted > allowed and not cap:
            units = ctx.minor_units
            overdrawn.append((i, f"bonus_paid {format_minor(wanted, units)} is more than the client can spend here: "
                                f"available {format_minor(balance, units)}, net {format_minor(int(net[i]), units)} "
                                "(on_overdraw = cap would take what is available)"))
            continue
        result[k] = min(wanted, allowed)
        spent_so_far[client[i]] = spent_so_far.get(client[i], 0) + result[k]
    if overdrawn:  # flagged together, in the lines' order
        overdrawn.sort()
        mask = np.zeros(len(lines), dtype=bool)
        mask[[i for i, _ in overdrawn]] = True
        ctx.flag(lines, mask, "bonus_paid", "price.overdraw", [text for _, text in overdrawn])
    return result
