"""The tariff and bonus mode in force on each line's date (SPEC §5 step 1).

The client's ``Clients`` row holds from the beginning of time; each of its
``TariffChanges`` rows with from_date <= the line's date then applies in date
order, a blank keeping what was in force. A client absent from ``Clients`` gets
BASE and ``discount``, or is an error when ``unknown_client`` is ``error``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..i18n import msg
from ..lines import with_columns
from ..pipeline import Findings, LinePlugin, PluginResult, RunContext

BEGINNING = pd.Timestamp("1900-01-01")


def _timeline(ctx: RunContext, client_codes: pd.Index) -> pd.DataFrame:
    """Per client (as its code in the lines' categories): from_date, tariff, mode, forward-filled. Only the
    lines' clients are looked up in Clients (a Dask engine's bucket holds a few hundred of 100 000)."""
    book = ctx.book
    clients = [book.clients[c] for c in client_codes if c in book.clients]
    base = pd.DataFrame({
        "client_id": [c.client_id for c in clients],
        "from_date": BEGINNING,
        "tariff": [c.tariff or "BASE" for c in clients],
        "bonus_mode": [c.bonus_mode or "discount" for c in clients],
    })
    changes = pd.DataFrame(
        [(c.client_id, pd.Timestamp(c.from_date), c.tariff, c.bonus_mode) for c in book.tariff_changes],
        columns=["client_id", "from_date", "tariff", "bonus_mode"],
    )
    events = pd.concat([base, changes], ignore_index=True) if len(changes) else base
    events["client"] = client_codes.get_indexer(events["client_id"])
    events = events[events["client"] >= 0].sort_values(["client", "from_date"], kind="stable")
    events[["tariff", "bonus_mode"]] = events.groupby("client")[["tariff", "bonus_mode"]].ffill()
    events["from_date"] = events["from_date"].astype("datetime64[s]")
    return events[["client", "from_date", "tariff", "bonus_mode"]]


def plugin(lines: pd.DataFrame, ctx: RunContext) -> PluginResult:
    book = ctx.book
    found = Findings()
    tariffs, modes = list(book.tariffs) or ["BASE"], list(book.bonus_modes) or ["discount"]
    clients = lines["client_id"].cat.categories
    events = _timeline(ctx, clients)
    events["tariff"] = pd.Categorical(events["tariff"], categories=tariffs).codes
    events["bonus_mode"] = pd.Categorical(events["bonus_mode"], categories=modes).codes
    codes = lines["client_id"].array.codes
    changing = events["client"].duplicated(keep=False).to_numpy()
    # Clients without TariffChanges have one state each, spread by category code; only the lines
    # of clients whose tariff changes need the date-wise look-up. -1: none (yet), as the trailing
    # entry for a line without a client (code -1).
    steady = events[~changing]
    tariff_of = np.full(len(clients) + 1, -1, dtype=np.int16)
    mode_of = np.full(len(clients) + 1, -1, dtype=np.int16)
    tariff_of[steady["client"].to_numpy()] = steady["tariff"].to_numpy()
    mode_of[steady["client"].to_numpy()] = steady["bonus_mode"].to_numpy()
    tariff, mode = tariff_of[codes], mode_of[codes]
    if changing.any():
        dated = np.isin(codes, events.loc[changing, "client"].to_numpy())
        tariff[dated], mode[dated] = _in_force(lines[dated], events[changing])
    unknown = tariff < 0
    if unknown.any():
        if book.settings.unknown_client == "error":
            ids = lines["client_id"].astype(object).to_numpy()[unknown]
            found.flag(lines, unknown, "client_id", "price.unknown_client",
                     [msg("client {client!r} is not in Clients (unknown_client = error); add it there", client=c) for c in ids])
        else:
            missing = lines.loc[unknown, "client_id"].astype(object).unique()
            found.warn("price.unknown_client",
                     msg("{lines} lines of {count} clients not in Clients are priced on BASE with the discount "
                         "mode (e.g. {examples})",
                         lines=unknown.sum(), count=len(missing), examples=', '.join(map(str, missing[:3]))))
        tariff = np.where(unknown, tariffs.index("BASE") if "BASE" in tariffs else 0, tariff)
        mode = np.where(unknown, modes.index("discount") if "discount" in modes else 0, mode)
    return found.result(with_columns(
        lines,
        tariff=pd.Categorical.from_codes(tariff, categories=tariffs),
        bonus_mode=pd.Categorical.from_codes(mode, categories=modes),
    ))


def _in_force(lines: pd.DataFrame, events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The state in force on each line's date: the last event on or before it."""
    left = pd.DataFrame({
        "client": lines["client_id"].array.codes.astype(np.int64),
        "date": lines["date"].to_numpy(dtype="datetime64[s]"),
        "position": np.arange(len(lines)),
    }).sort_values("date", kind="stable")
    merged = pd.merge_asof(
        left, events.sort_values("from_date", kind="stable"), left_on="date", right_on="from_date",
        by="client", direction="backward",
    ).sort_values("position")
    return merged["tariff"].to_numpy(dtype=np.int64), merged["bonus_mode"].to_numpy(dtype=np.int64)


PLUGIN = LinePlugin("tariff", 200, needs=("client_id", "date"), adds=("tariff", "bonus_mode"), apply=plugin)
