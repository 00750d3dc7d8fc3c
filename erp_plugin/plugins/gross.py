"""``gross``: the line's ``amount`` when the export has one, else round(qty × unit_price) (SPEC §5)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..erp.lines import PRICE_DECIMALS, QTY_DECIMALS, with_columns
from ..money import mul_div_round


def add_gross(lines: pd.DataFrame, minor_units: int) -> pd.DataFrame:
    """Add ``gross`` in minor units; exact, rounded half away from zero, vectorised."""
    qty = lines["qty"].to_numpy(dtype=np.int64, na_value=0)
    price = lines["unit_price"].to_numpy(dtype=np.int64, na_value=0)
    computed = mul_div_round(qty, price, 10 ** (QTY_DECIMALS + PRICE_DECIMALS - minor_units))
    if "amount" in lines.columns:
        amount = pd.Series(lines["amount"], copy=False)
        given = amount.notna().to_numpy()
        computed = np.where(given, amount.to_numpy(dtype=np.int64, na_value=0), computed)
    return with_columns(lines, gross=computed)


def plugin(lines: pd.DataFrame, ctx) -> pd.DataFrame:
    """gross, and the pricing document of each line: its document, client, and sale or return side.

    A document's return lines are priced as a separate document of the same lines
    with positive quantities, their figures then negated (SPEC §5 Returns); ``_sign``
    is -1 on return lines and ``_pdoc`` numbers the pricing documents.
    """
    lines = add_gross(lines, ctx.minor_units)
    sign = np.where(lines["qty"].to_numpy(dtype=np.int64) < 0, -1, 1)
    clients = lines["client_id"].cat.codes.to_numpy().astype(np.int64)
    key = (lines["doc_id"].cat.codes.to_numpy().astype(np.int64) * (clients.max(initial=0) + 1) + clients) * 2 + (sign < 0)
    pdoc, _ = pd.factorize(key)  # numbered in order of first appearance
    return with_columns(lines, _sign=sign, _pdoc=pdoc)
