"""Credit notes for the year-end rebates (SPEC §7).

With ``rebate_reduces_price`` the rebate lowers the price of the lines that got
it: one credit note row per client and VAT rate of those lines, vat = Σ
round(line rebate × r / (100 + r)). Otherwise one row per client, a bonus
payment without VAT.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..money import PCT_SCALE, group_sums, mul_div_round
from ..tables import PCT, TEXT, Table, money
from ..tariffs.model import TariffBook


def credit_notes(lines: pd.DataFrame, book: TariffBook, names, rebate, clients: np.ndarray, count: int) -> Table:
    """The credit notes of priced ``lines`` with their ``rebate`` column; ``names`` and ``rebate`` are per
    client with a rebate figure, ``clients`` each line's client code of 0..count-1."""
    minor = book.settings.minor_units
    kinds = {"client_id": TEXT, "vat_rate": PCT, "amount": money(minor), "vat": money(minor)}
    if not book.settings.rebate_reduces_price:
        given = rebate != 0
        frame = pd.DataFrame({"client_id": names[given], "vat_rate": pd.array([pd.NA] * int(given.sum()), dtype="Int64"),
                              "amount": rebate[given], "vat": np.zeros(int(given.sum()), dtype=np.int64)})
        return Table("credit_notes", frame, kinds)
    from ..plugins.totals import line_vat_rates

    share = lines["rebate"].to_numpy()
    with_rebate = share != 0
    share = share[with_rebate]
    rate = line_vat_rates(lines, book)[with_rebate]
    vat = mul_div_round(share, rate, 100 * PCT_SCALE + rate)
    rate_index, rates = pd.factorize(rate)
    width = max(len(rates), 1)
    key = clients[with_rebate] * width + rate_index  # one group per client and rate
    size = count * width
    present = np.flatnonzero(np.bincount(key, minlength=size))
    categories = lines["client_id"].cat.categories.to_numpy(dtype=object)
    frame = pd.DataFrame({
        "client_id": categories[present // width], "vat_rate": np.asarray(rates)[present % width],
        "amount": group_sums(share, key, size)[present], "vat": group_sums(vat, key, size)[present],
    }).sort_values(["client_id", "vat_rate"], kind="stable", ignore_index=True)
    return Table("credit_notes", frame, kinds)
