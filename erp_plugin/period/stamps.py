"""Stamp cards at the year end (SPEC §7): a stamp for each document with net >= ``min_document``, one
column completed per ``cells_per_column`` stamps, at most ``columns``; a reward per completed column."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..tables import INT, TEXT, Table, money
from ..tariffs.model import TariffBook


def client_stamps(book: TariffBook, codes: np.ndarray, count: int, doc_client: np.ndarray,
                  doc_net: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(stamps, completed columns) of the clients ``codes`` (of 0..count-1), from each document's client
    code and net."""
    card = book.stamp_card
    if card is None:
        zeros = np.zeros(len(codes), dtype=np.int64)
        return zeros, zeros
    stamps = np.bincount(doc_client[doc_net >= card.min_document], minlength=count)[codes].astype(np.int64)
    return stamps, np.minimum(card.columns, stamps // card.cells_per_column)


def stamp_table(book: TariffBook, names, stamps: np.ndarray, completed: np.ndarray) -> Table:
    """Stamps, completed columns, the rewards they earned (one per column) and whether the card is full."""
    card = book.stamp_card
    frame = pd.DataFrame({"client_id": names, "stamps": stamps, "completed_columns": completed})
    kinds = {"client_id": TEXT, "stamps": INT, "completed_columns": INT}
    if card is not None:
        frame["complete"] = np.where(completed >= card.columns, "yes", "no")
        frame["rewards"] = completed
        kinds |= {"complete": TEXT, "rewards": INT}
        if card.reward_points is not None:
            frame["reward_points"] = completed * card.reward_points
            kinds["reward_points"] = money(book.settings.minor_units)
    return Table("stamps", frame, kinds)
