"""The marker and the tariff's kit figures (SPEC §5 steps 2, 3, 5, 6).

marker: ``Products`` wins, else the export's, else ``white`` (the first marker
when the workbook defines no white). kit_pct = max(0, marker_pct − options);
kit_discount = round(gross × kit_pct / 100); kit_bonus = round(kit_discount ×
bonus_share_pct / 100); kit_price_discount = kit_discount − kit_bonus.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..parallel import by_blocks
from ..lines import with_columns
from ..money import pct_to_scaled, percent_of
from ..pipeline import Context
from .lookup import BLANK, UNKNOWN, categorical, category_codes


def marker_plugin(lines: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """The marker and, for promotions, the category of each line: per distinct SKU and export value
    first, then spread to the lines in blocks of rows."""
    book = ctx.book
    markers = list(book.markers)
    fallback = markers.index("white") if "white" in markers else 0
    sku = categorical(lines["sku"])
    product_of = _per_sku(sku, book)
    by_sku = product_of([markers.index(p.marker) if p.marker in markers else BLANK for p in book.products.values()])
    export_marker = _per_value(lines, "marker", lambda values: category_codes(values, markers))
    categories = sorted({p.category for p in book.products.values() if p.category})
    category_by_sku = product_of([categories.index(p.category) if p.category else BLANK for p in book.products.values()])
    known = {name: i for i, name in enumerate(categories)}
    if "category" in lines.columns:
        for extra in categorical(lines["category"]).cat.categories:
            known.setdefault(str(extra), len(known))
    export_category = _per_value(lines, "category", lambda values: np.array(
        [known[str(c)] for c in values.cat.categories] + [BLANK], dtype=np.int32))
    sku_codes = sku.array.codes

    def block(rows: slice) -> dict[str, np.ndarray]:
        from_export = export_marker(rows)
        from_products = by_sku[sku_codes[rows]]
        marker = np.where(from_products >= 0, from_products, np.where(from_export >= 0, from_export, fallback))
        category = category_by_sku[sku_codes[rows]]
        category = np.where(category >= 0, category, export_category(rows))  # BLANK (-1): no category
        return {"marker": marker.astype(np.int16), "unknown": from_export == UNKNOWN, "category": category}

    columns = by_blocks(len(lines), block)
    unknown = columns["unknown"]
    if unknown.any():
        shown = lines["marker"].astype(object).to_numpy()[unknown]
        ctx.flag(lines, unknown, "marker", "price.marker",
                 [f"marker {m!r} is not in Markers; expected one of {', '.join(markers)}" for m in shown])
    return with_columns(lines, marker=pd.Categorical.from_codes(columns["marker"], categories=markers),
                        _category=pd.Categorical.from_codes(columns["category"], categories=list(known)))


def _per_sku(sku: pd.Series, book):
    """``per_product`` (a small code per row of Products) -> that code per SKU category (exact match),
    BLANK where the SKU is not in Products, then BLANK for a line without SKU (code -1)."""
    product = category_codes(sku, list(book.products), exact=True)

    def spread(per_product: list[int]) -> np.ndarray:
        return np.array(per_product + [BLANK], dtype=np.int32)[np.where(product >= 0, product, len(per_product))]

    return spread


def _per_value(lines: pd.DataFrame, name: str, table):
    """A block's codes of an export column through ``table`` (per category, then BLANK for a blank
    cell); BLANK for every line when the export has no such column."""
    if name not in lines.columns:
        return lambda rows: np.int32(BLANK)
    values = categorical(lines[name])
    per_category, codes = table(values), values.array.codes
    return lambda rows: per_category[codes[rows]]


def plugin(lines: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    book = ctx.book
    tariffs, markers, modes = list(book.tariffs), list(book.markers), list(book.bonus_modes)
    # percentages in int32 (100 % is 10^6 units): half the memory of a money column
    table = np.array([[pct_to_scaled(book.tariffs[t].discount(m)) for m in markers] for t in tariffs], dtype=np.int32)
    shares = np.array([pct_to_scaled(book.bonus_modes[m].bonus_share_pct) for m in modes], dtype=np.int64)
    tariff, marker, mode = (lines[name].array.codes for name in ("tariff", "marker", "bonus_mode"))
    weight, gross = lines["option_weight_pct"].to_numpy(), lines["gross"].to_numpy()

    def block(rows: slice) -> dict[str, np.ndarray]:
        marker_pct = table[tariff[rows], marker[rows]]
        kit_pct = np.maximum(0, marker_pct - weight[rows], dtype=np.int32)
        kit_discount = percent_of(gross[rows], kit_pct)
        kit_bonus = percent_of(kit_discount, shares[mode[rows]])
        return dict(marker_pct=marker_pct, kit_pct=kit_pct, kit_discount=kit_discount, kit_bonus=kit_bonus,
                    kit_price_discount=kit_discount - kit_bonus)

    return with_columns(lines, **by_blocks(len(lines), block))
