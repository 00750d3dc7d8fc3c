"""Rebate accrual during the year (SPEC §7): what the year-end rebate is heading for, and whom to call.

For the fiscal year holding ``as_of``: turnover to date; the run-rate projection
to year end (turnover × days in the year / days elapsed, rounded); the step that
projection reaches; the liability to date = round(turnover to date × that step's
pct / 100). And what no ERP gives: the next step above the projection, the gap to
it, and the extra year-end rebate that reaching it would bring.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ..money import mul_div_round, percent_of
from ..tables import PCT, TEXT, Table, money
from ..tariffs.model import TariffBook
from .rebates import FiscalYear, rebate_for


def fiscal_year_of(book: TariffBook, day: date) -> FiscalYear:
    month, first = book.settings.fiscal_year_start
    year = day.year if (day.month, day.day) >= (month, first) else day.year - 1
    return FiscalYear.of(book, year)


def accrual(lines: pd.DataFrame, book: TariffBook, as_of: date) -> Table:
    fy = fiscal_year_of(book, as_of)
    days = lines["date"].to_numpy(dtype="datetime64[D]")
    to_date = (days >= np.datetime64(fy.start, "D")) & (days <= np.datetime64(as_of, "D"))
    net = lines["net"].to_numpy()
    basis = net - lines["vat"].to_numpy() if book.settings.rebate_basis == "net_ex_vat" else net
    frame = pd.DataFrame({"client": lines["client_id"].array.codes[to_date], "basis": basis[to_date]})
    per_client = frame.groupby("client")["basis"].sum()
    turnover = per_client.to_numpy(dtype=np.int64)
    elapsed = (as_of - fy.start).days + 1
    year_days = (fy.end - fy.start).days + 1
    projected = mul_div_round(turnover, year_days, elapsed)
    pct, projected_rebate = rebate_for(projected, book)
    liability = percent_of(np.maximum(turnover, 0), pct)
    bounds = np.array([s.from_turnover for s in book.rebate_scale], dtype=np.int64)
    following = np.searchsorted(bounds, projected, side="right")
    has_next = following < len(bounds)
    threshold = np.where(has_next, bounds[np.minimum(following, max(len(bounds) - 1, 0))], 0) if len(bounds) else \
        np.zeros(len(turnover), dtype=np.int64)
    _, rebate_at_next = rebate_for(threshold, book)
    names = lines["client_id"].cat.categories.to_numpy(dtype=object)[per_client.index.to_numpy()]
    table = pd.DataFrame({
        "client_id": names,
        "turnover_to_date": turnover,
        "projected_turnover": projected,
        "rebate_pct": pct,
        "liability": liability,
        "projected_rebate": projected_rebate,
        "next_step_from": _where(has_next, threshold),
        "gap_to_next_step": _where(has_next, threshold - projected),
        "extra_rebate": _where(has_next, rebate_at_next - projected_rebate),
    })
    m = money(book.settings.minor_units)
    kinds = {"client_id": TEXT, "rebate_pct": PCT, **{c: m for c in table.columns if c not in ("client_id", "rebate_pct")}}
    return Table("accruals", table.sort_values("gap_to_next_step", na_position="last", kind="stable"), kinds)



def _where(present: np.ndarray, values: np.ndarray) -> pd.arrays.IntegerArray:
    """``values`` where ``present``, blank elsewhere (no next step above the top one)."""
    return pd.arrays.IntegerArray(np.where(present, values, 0).astype(np.int64), ~present)
