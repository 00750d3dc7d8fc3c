"""``gross``: the line's ``amount`` when the export has one, else round(qty × unit_price) (SPEC §5)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..erp.lines import PRICE_DECIMALS, QTY_DECIMALS
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
    return lines.assign(gross=computed)
