"""Card tiers at the year end (SPEC §7): the highest tier a client reaches by its period turnover or by
its largest single document's net."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..tables import TEXT, Table, money
from ..tariffs.model import TariffBook


def tiers_reached(book: TariffBook, turnover: np.ndarray, largest: np.ndarray) -> np.ndarray:
    """The highest tier each client reaches by turnover or by its largest single document."""
    tier = np.full(len(turnover), None, dtype=object)
    for t in book.tiers:  # listed lowest to highest: a later tier reached wins
        reached = np.full(len(turnover), t.is_base)
        if t.min_turnover is not None:
            reached |= turnover >= t.min_turnover
        if t.min_single_document is not None:
            reached |= largest >= t.min_single_document
        tier = np.where(reached, t.tier, tier)
    return tier


def tier_table(book: TariffBook, names, tier: np.ndarray, turnover: np.ndarray, largest: np.ndarray) -> Table:
    """Each client's tier with the turnover and the largest document it was judged by."""
    minor = book.settings.minor_units
    return Table("tiers", pd.DataFrame({"client_id": names, "tier": tier, "turnover": turnover, "largest_document": largest}),
                 {"client_id": TEXT, "tier": TEXT, "turnover": money(minor), "largest_document": money(minor)})
