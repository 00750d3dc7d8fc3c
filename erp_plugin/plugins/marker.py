"""The marker of each line (SPEC §5 step 2), and the category promotions filter on.

marker: ``Products`` wins, else the export's, else ``white`` (the first marker
when the workbook defines no white). kit_category: the Products sheet's category,
else the export's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..i18n import msg
from ..lines import with_columns
from ..parallel import by_blocks
from ..pipeline import Findings, LinePlugin, PluginResult, RunContext
from .lookup import BLANK, UNKNOWN, categorical, category_codes


def plugin(lines: pd.DataFrame, ctx: RunContext) -> PluginResult:
    """The marker and, for promotions, the category of each line: per distinct SKU and export value
    first, then spread to the lines in blocks of rows."""
    book = ctx.book
    found = Findings()
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
        found.flag(lines, unknown, "marker", "price.marker",
                 [msg("marker {marker!r} is not in Markers; expected one of {markers}", marker=m, markers=', '.join(markers)) for m in shown])
    return found.result(with_columns(
        lines, marker=pd.Categorical.from_codes(columns["marker"], categories=markers),
        kit_category=pd.Categorical.from_codes(columns["category"], categories=list(known))))


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


PLUGIN = LinePlugin("marker", 300, needs=("sku",), adds=("marker", "kit_category"), apply=plugin)
