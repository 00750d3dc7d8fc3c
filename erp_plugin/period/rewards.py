"""Numeric stamp-card and quest rewards as bonus-point lots for the ledger (SPEC §8 Rewards).

A stamp card's reward that is a number of points is earned once per completed
column, on the day the column's last stamp was given (the date of the client's
k × cells_per_column-th document of the fiscal year with net ≥ min_document, in
date then document order); a quest's, on its completion day. Each reward has a
key (rule, client, fiscal year, column), so ``rebates --ledger`` posts it once
however often it runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..tariffs.model import TariffBook

COLUMNS = ["reward", "client_id", "day", "amount"]


def reward_lots(lines: pd.DataFrame, book: TariffBook, start, end, year: int, quests: pd.DataFrame) -> pd.DataFrame:
    """The rewards earned in the fiscal year [start, end]: key, client_id, day, amount (points, minor units)."""
    parts = [_stamp_rewards(lines, book, start, end, year), _quest_rewards(quests, start, end, year)]
    return pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
        else pd.DataFrame(columns=COLUMNS)


def _stamp_rewards(lines: pd.DataFrame, book: TariffBook, start, end, year: int) -> pd.DataFrame:
    card = book.stamp_card
    if card is None or card.reward_points is None:
        return pd.DataFrame(columns=COLUMNS)
    day = lines["date"].to_numpy(dtype="datetime64[D]")
    inside = (day >= np.datetime64(start, "D")) & (day <= np.datetime64(end, "D"))
    year_lines = lines[inside]
    documents = (year_lines.groupby(["client_id", "doc_id"], observed=True, sort=False)
                 .agg(day=("date", "min"), net=("net", "sum")).reset_index())
    documents = documents[documents["net"] >= card.min_document]
    documents = documents.assign(client_id=documents["client_id"].astype(str), doc=documents["doc_id"].astype(str))
    documents = documents.sort_values(["client_id", "day", "doc"], kind="stable")
    stamp = documents.groupby("client_id", sort=False).cumcount().to_numpy() + 1
    column = stamp // card.cells_per_column
    done = (stamp % card.cells_per_column == 0) & (column <= card.columns)
    hit = documents[done]
    return pd.DataFrame({
        "reward": [f"stamp/{year}/{c}/{k}" for c, k in zip(hit["client_id"], column[done])],
        "client_id": hit["client_id"].to_numpy(), "day": pd.to_datetime(hit["day"]).to_numpy(),
        "amount": np.full(len(hit), card.reward_points, dtype=np.int64),
    })


def _quest_rewards(quests: pd.DataFrame, start, end, year: int) -> pd.DataFrame:
    day = pd.to_datetime(quests["completed_on"])
    hit = quests[quests["reward_points"].notna().to_numpy() & (day >= pd.Timestamp(start)).to_numpy()
                 & (day <= pd.Timestamp(end)).to_numpy()]
    return pd.DataFrame({
        "reward": [f"quest/{q}/{year}/{c}" for q, c in zip(hit["quest_id"], hit["client_id"])],
        "client_id": hit["client_id"].astype(str).to_numpy(), "day": pd.to_datetime(hit["completed_on"]).to_numpy(),
        "amount": hit["reward_points"].to_numpy(dtype=np.int64),
    })
