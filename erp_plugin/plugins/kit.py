"""The marker and the tariff's kit figures (SPEC §5 steps 2, 3, 5, 6).

marker: ``Products`` wins, else the export's, else ``white`` (the first marker
when the workbook defines no white). kit_pct = max(0, marker_pct − options);
kit_discount = round(gross × kit_pct / 100); kit_bonus = round(kit_discount ×
bonus_share_pct / 100); kit_price_discount = kit_discount − kit_bonus.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..blocks import by_blocks
from ..erp.lines import with_columns
from ..money import pct_to_scaled, percent_of
from ..pipeline import Context
from .lookup import BLANK, UNKNOWN, categorical, category_codes, name_codes


def marker_plugin(lines: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    book = ctx.book
    markers = list(book.markers)
    fallback = markers.index("white") if "white" in markers else 0
    from_export = name_codes(lines["marker"], markers) if "marker" in lines.columns else np.full(len(lines), BLANK)
    unknown = from_export == UNKNOWN
    if unknown.any():
        shown = lines["marker"].astype(object).to_numpy()[unknown]
        ctx.flag(lines, unknown, "marker", "price.marker",
                 [f"marker {m!r} is not in Markers; expected one of {', '.join(markers)}" for m in shown])
    product_marker = [markers.index(p.marker) if p.marker in markers else BLANK for p in book.products.values()]
    from_products = _by_sku(lines, book, product_marker)
    code = np.where(from_products >= 0, from_products, np.where(from_export >= 0, from_export, fallback))
    category = _category(lines, book)
    return with_columns(lines, marker=pd.Categorical.from_codes(code, categories=markers), _category=category)


def _by_sku(lines: pd.DataFrame, book, per_product: list[int]) -> np.ndarray:
    """A small per-product code spread to the lines by SKU (exact match); BLANK where the SKU is not in
    Products. Looked up per distinct SKU, then one take per line."""
    sku = categorical(lines["sku"])
    product = category_codes(sku, list(book.products), exact=True)
    table = np.array(per_product + [BLANK], dtype=np.int32)
    return table[np.where(product >= 0, product, len(per_product))][sku.array.codes]


def _category(lines: pd.DataFrame, book) -> pd.Categorical:
    """The line's category for promotions: Products' category wins, else the export's (built from codes)."""
    names = sorted({p.category for p in book.products.values() if p.category})
    # BLANK (-1, a categorical's missing code) where Products gives no category
    code = _by_sku(lines, book, [names.index(p.category) if p.category else BLANK for p in book.products.values()])
    if "category" in lines.columns:
        export = categorical(lines["category"])
        known = {name: i for i, name in enumerate(names)}
        for extra in export.cat.categories:
            known.setdefault(str(extra), len(known))
        names = list(known)
        mapped = np.array([known[str(c)] for c in export.cat.categories] + [BLANK], dtype=np.int32)[export.array.codes]
        code = np.where(code >= 0, code, mapped)
    return pd.Categorical.from_codes(code, categories=names)


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
