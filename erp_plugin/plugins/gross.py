"""``gross``: the line's ``amount`` when the export has one, else round(qty × unit_price) (SPEC §5)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..lines import with_columns
from ..money import mul_div_round
from ..pipeline import LinePlugin, PluginResult, RunContext
from ..tables import PRICE_DECIMALS, QTY_DECIMALS


def add_gross(lines: pd.DataFrame, minor_units: int) -> pd.DataFrame:
    """Add ``gross`` in minor units; exact, rounded half away from zero, vectorised.

    qty × unit_price is worked out only for the lines without an amount.
    """
    qty = lines["qty"].to_numpy(dtype=np.int64, na_value=0)
    price = lines["unit_price"].to_numpy(dtype=np.int64, na_value=0)
    scale = 10 ** (QTY_DECIMALS + PRICE_DECIMALS - minor_units)
    if "amount" not in lines.columns:
        return with_columns(lines, gross=mul_div_round(qty, price, scale))
    amount = pd.Series(lines["amount"], copy=False)
    gross = amount.to_numpy(dtype=np.int64, na_value=0)
    missing = np.flatnonzero(amount.isna().to_numpy())
    if len(missing):
        gross = gross.copy() if not gross.flags.writeable else gross
        gross[missing] = mul_div_round(qty[missing], price[missing], scale)
    return with_columns(lines, gross=gross)


def plugin(lines: pd.DataFrame, ctx: RunContext) -> PluginResult:
    """gross, and the pricing document of each line: its document, client, and sale or return side.

    A document's return lines are priced as a separate document of the same lines
    with positive quantities, their figures then negated (SPEC §5 Returns); ``sign``
    is -1 on return lines and ``pricing_doc`` numbers the pricing documents.
    """
    lines = add_gross(lines, ctx.minor_units)
    returned = lines["qty"].to_numpy(dtype=np.int64) < 0
    sign = np.where(returned, np.int8(-1), np.int8(1))
    return PluginResult(with_columns(lines, sign=sign, pricing_doc=_pricing_documents(lines, returned)))


def _pricing_documents(lines: pd.DataFrame, returned: np.ndarray) -> np.ndarray:
    """Numbers 0..D-1 of the pricing documents: document × client × sale or return side.

    A document number nearly always belongs to one client; then document × side is
    the key, and its codes are dense enough to number by a lookup table instead of
    hashing every line.
    """
    docs, clients = lines["doc_id"].array.codes, lines["client_id"].array.codes
    count = len(lines["doc_id"].cat.categories)
    owner = np.empty(count, dtype=clients.dtype)
    owner[docs] = clients  # the last line's client, per document
    if np.array_equal(owner[docs], clients):
        key = docs.astype(np.int64 if 2 * count >= 2**31 else np.int32) * 2 + returned
        used = np.zeros(2 * len(owner), dtype=bool)
        used[key] = True
        return (np.cumsum(used, dtype=np.int32) - 1)[key]
    key = (docs.astype(np.int64) * (int(clients.max(initial=0)) + 1) + clients) * 2 + returned
    return pd.factorize(key)[0]


PLUGIN = LinePlugin("gross", 100, needs=("qty", "doc_id", "client_id"), adds=("gross", "sign", "pricing_doc"),
                    apply=plugin)
