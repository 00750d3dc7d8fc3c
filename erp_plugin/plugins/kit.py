"""The tariff's kit figures (SPEC §5 steps 3, 5, 6).

kit_pct = max(0, marker_pct − options);
kit_discount = round(gross × kit_pct / 100); kit_bonus = round(kit_discount ×
bonus_share_pct / 100); kit_price_discount = kit_discount − kit_bonus.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..lines import with_columns
from ..money import pct_to_scaled, percent_of
from ..parallel import by_blocks
from ..pipeline import LinePlugin, PluginResult, RunContext


def plugin(lines: pd.DataFrame, ctx: RunContext) -> PluginResult:
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

    return PluginResult(with_columns(lines, **by_blocks(len(lines), block)))


PLUGIN = LinePlugin("kit", 500, needs=("gross", "tariff", "marker", "bonus_mode", "option_weight_pct"),
                    adds=("marker_pct", "kit_pct", "kit_discount", "kit_bonus", "kit_price_discount"), apply=plugin)
