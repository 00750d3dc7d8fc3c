"""Quests (SPEC §7): completed when, inside the window, a client has bought (net > 0) in every listed
category; the completion date is the day the last category was first covered."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..tables import DATE, TEXT, Table, money
from ..tariffs.model import TariffBook


def quests(lines: pd.DataFrame, book: TariffBook) -> Table:
    days = lines["date"].to_numpy(dtype="datetime64[D]")
    bought = lines["net"].to_numpy() > 0
    category = lines["kit_category"].astype(object).fillna("").astype(str).str.strip().str.casefold().to_numpy()
    clients = lines["client_id"].astype(object).to_numpy()
    found = []
    for quest in book.quests:  # one pass per quest, vectorised over the lines
        wanted = sorted({c.strip().casefold() for c in quest.categories})
        mask = bought & np.isin(category, wanted)
        if quest.active_from:
            mask &= days >= np.datetime64(quest.active_from, "D")
        if quest.active_to:
            mask &= days <= np.datetime64(quest.active_to, "D")
        firsts = pd.DataFrame({"client": clients[mask], "category": category[mask], "day": days[mask]}) \
            .groupby(["client", "category"])["day"].min().reset_index()
        per_client = firsts.groupby("client").agg(covered=("category", "nunique"), completed_on=("day", "max"))
        done = per_client[per_client["covered"] == len(wanted)]
        found.append(pd.DataFrame({
            "client_id": done.index.astype(str), "quest_id": quest.quest_id, "completed_on": done["completed_on"].to_numpy(),
            "reward": quest.reward, "reward_points": quest.reward_points,
        }))
    columns = ["client_id", "quest_id", "completed_on", "reward", "reward_points"]
    frame = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=columns)
    frame["reward_points"] = pd.array(frame["reward_points"], dtype="Int64")
    kinds = {"client_id": TEXT, "quest_id": TEXT, "completed_on": DATE, "reward": TEXT,
             "reward_points": money(book.settings.minor_units)}
    return Table("quests", frame[columns], kinds)
