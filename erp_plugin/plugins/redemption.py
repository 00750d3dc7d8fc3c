"""Bonus points spent on a line (SPEC §5 step 13): bonus_redeemed and cash_due.

bonus_redeemed = the line's bonus_paid, at most net and at most the client's
available balance just before the line, in ledger order (date, doc_id, line_no);
more is an error for the line, or capped when ``on_overdraw`` is ``cap``.

The balance is the client's lots (ledger.lots): the ledger's, when one is given, and
the export's own earlier lines, in ledger order: accruals pending for their
money-back window, reversals of returns out of their sale's lot, expired points
gone. A return line's bonus_paid gives points back (a new lot): it is mirrored, at
most the return's net, with no balance check. cash_due = net − bonus_redeemed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..i18n import Number, msg
from ..ledger.lots import Opening, lots_and_debits, simulate
from ..lines import with_columns
from ..pipeline import MAX_LINE_PROBLEMS, Findings, LinePlugin, PluginResult, RunContext


def plugin(lines: pd.DataFrame, ctx: RunContext) -> PluginResult:
    found = Findings()
    net = lines["net"].to_numpy()
    paid_at, paid = _bonus_paid(lines)
    sign = lines["sign"].to_numpy()[paid_at]
    redeemed = np.zeros(len(lines), dtype=np.int64)
    back = paid_at[sign < 0]  # returns giving points back: at most the return's net, no balance check
    redeemed[back] = -np.minimum(paid[sign < 0], np.abs(net[back]))
    spending, wanted = paid_at[sign > 0], paid[sign > 0]
    if len(spending) or (ctx.opening is not None and (lines["bonus_accrued"].to_numpy() < 0).any()):
        redeemed[spending] = _spend(lines, ctx, found, spending, wanted, net, back, redeemed[back])
    return found.result(with_columns(lines, bonus_redeemed=redeemed, cash_due=net - redeemed))


def _bonus_paid(lines: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The lines that pay with points (positions, ascending) and how many each pays (> 0)."""
    if "bonus_paid" not in lines:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
    paid = lines["bonus_paid"].to_numpy(dtype=np.int64, na_value=0)
    at = np.flatnonzero(paid)
    return at, np.abs(paid[at])


def _spend(lines: pd.DataFrame, ctx: RunContext, found: Findings, spending: np.ndarray, wanted: np.ndarray,
           net: np.ndarray, back: np.ndarray, refunds: np.ndarray) -> np.ndarray:
    """What each of the ``spending`` lines (paying ``wanted`` points) may take: redemptions in ledger
    order over the lots (ledger.lots) of the clients that spend points (and, with a ledger, of those that
    return points: the ledger may hold their spending): their lines that accrue, reverse or give back
    points (``back``, ``refunds`` < 0), and the ledger's lots of those clients. A return whose points
    were spent already is warned about: the client's balance goes below 0. Without a ledger, a client
    that spends nothing in the export has spent nothing: its returns need no look.

    Only the lines of those clients are looked at, so the work follows the clients that spend,
    not the export's length."""
    client = lines["client_id"].array.codes
    accrued = lines["bonus_accrued"].to_numpy()
    returning = client[accrued < 0] if ctx.opening is not None else client[:0]
    spenders = np.unique(np.r_[client[spending], returning])
    of_spender = np.zeros(len(lines["client_id"].cat.categories) + 1, dtype=bool)  # the last: a line without client
    of_spender[spenders] = True
    counted = of_spender[client] & (accrued != 0)
    counted[spending] = True
    lots_back = (refunds != 0) & of_spender[client[back]]  # points given back by a spender: a lot each
    counted[back[lots_back]] = True
    at = np.flatnonzero(counted)
    points = np.zeros(len(at), dtype=np.int64)  # > 0 spent, < 0 given back (a lot), per line at ``at``
    points[np.searchsorted(at, spending)] = wanted
    points[np.searchsorted(at, back[lots_back])] = refunds[lots_back]
    # a line dated after its client's last debit makes a lot no debit can take from: left out (ledger
    # order is by date first; simulate leaves out the same day's later lots too)
    debit = (points > 0) | (accrued[at] < 0)
    day = lines["date"].to_numpy().view(np.int64)[at]
    last = np.full(len(of_spender), np.iinfo(np.int64).min)
    np.maximum.at(last, client[at][debit], day[debit])
    kept = day <= last[client[at]]
    at, points = at[kept], points[kept]
    opening = ctx.opening or Opening.empty()
    names = set(lines["client_id"].cat.categories[spenders].astype(str))
    mine = opening.lots[opening.lots["client_id"].isin(names)] if len(opening.lots) else opening.lots
    lots, debits = lots_and_debits(lines, at, Opening(mine, opening.debts, opening.sales),
                                   ctx.book.settings.bonus_expiry_months, points)
    run = simulate(lots, debits, opening.debts, "cap" if ctx.book.settings.on_overdraw == "cap" else "refuse")
    redemption = debits["redemption"].to_numpy()
    at = debits["at"].to_numpy()[redemption]
    result = np.zeros(len(spending), dtype=np.int64)
    result[np.searchsorted(spending, at)] = run.taken[redemption]
    units, rows = ctx.minor_units, lines["source_row"].to_numpy()
    debit_at, debit_wanted = debits["at"].to_numpy(), debits["wanted"].to_numpy()
    shorts = np.flatnonzero(run.short > 0)
    for k in shorts[:MAX_LINE_PROBLEMS].tolist():
        i = int(debit_at[k])
        found.warn("price.return_spent", msg("the return takes back {points} points, {spent} of "
                                             "which the client had already spent (or they expired): the "
                                             "client's balance goes below 0 by that much",
                                             points=Number.money(debit_wanted[k], units), spent=Number.money(run.short[k], units)), row=int(rows[i]),
                   field_name="qty")
    if len(shorts) > MAX_LINE_PROBLEMS:
        found.warn_unlisted("price.return_spent", len(shorts) - MAX_LINE_PROBLEMS)
    refused = run.refused[redemption]
    if refused.any():  # flagged together, in the lines' order
        bad = np.sort(at[refused])
        balance = dict(zip(at.tolist(), run.available[redemption].tolist()))
        mask = np.zeros(len(lines), dtype=bool)
        mask[bad] = True
        found.flag(lines, mask, "bonus_paid", "price.overdraw", [
            msg("bonus_paid {wanted} is more than the client can spend here: available {available}, "
                "net {net} (on_overdraw = cap would take what is available)",
                wanted=Number.money(wanted[np.searchsorted(spending, i)], units), available=Number.money(max(balance[i], 0), units),
                net=Number.money(net[i], units)) for i in bad.tolist()])
    return result


PLUGIN = LinePlugin("redemption", 1000, needs=("net", "sign", "client_id", "bonus_accrued"),
                    adds=("bonus_redeemed", "cash_due"), apply=plugin)
