"""Small tables that sum a run up for people; the output layer draws a chart beside each in .xlsx outputs.

They are ordinary result tables too (``out.markers.csv`` …), so a script gets the
same figures the chart shows: discount by marker after pricing; the biggest
clients' turnover against the rebate steps and the rebate by tier after the
year end; the bonus liability by month from the ledger.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .money import group_sums, share_pct
from .tables import INT, PCT, TEXT, Table, money
from .tariffs.model import TariffBook

TOP_CLIENTS = 20  # clients on the turnover chart: more bars than this cannot be read
NO_TIER = "(no tier)"
STEP_SUFFIX = " % from"  # the turnover_steps table's threshold columns: "2 % from"


def markers_table(lines: pd.DataFrame, book: TariffBook) -> Table:
    """Per marker: lines, gross, what is given away (discount, bonus, reservation cost) and its share of gross.

    Markers in the order of the Markers sheet, then any other the export named."""
    marker = pd.Categorical(lines["marker"])
    codes, count = marker.codes.astype(np.intp), len(marker.categories)  # every line has a marker
    grouped = pd.DataFrame({
        "lines": np.bincount(codes, minlength=count),
        **{name: group_sums(lines[name].to_numpy(), codes, count) for name in ("gross", *GIVEN)},
    }, index=marker.categories.astype(str))
    return finish_markers(grouped[grouped["lines"] > 0], book)


GIVEN = ("price_discount", "bonus_accrued", "reservation_cost")  # what a line gives away


def finish_markers(sums: pd.DataFrame, book: TariffBook) -> Table:
    """The markers table from its sums per marker (index: marker; lines, gross and GIVEN) — one run's, or
    several client buckets' added up (the Dask engine): ordered, with the concession's share of gross."""
    order = [m for m in book.markers if m in sums.index] + sorted(set(sums.index) - set(book.markers))
    frame = sums.reindex(order).rename_axis("marker").reset_index()
    gross = frame["gross"].to_numpy(dtype=np.int64)
    concession = sum(frame[name].to_numpy(dtype=np.int64) for name in GIVEN)
    frame["concession_pct"] = share_pct(concession, gross)
    m = money(book.settings.minor_units)
    kinds = {"marker": TEXT, "lines": INT, "gross": m, **{name: m for name in GIVEN}, "concession_pct": PCT}
    return Table("markers", frame, kinds)


def turnover_steps_table(rebates: pd.DataFrame, book: TariffBook, top: int = TOP_CLIENTS) -> Table:
    """The ``top`` clients by turnover with their rebate, and each step of the scale as a threshold column
    (the same figure on every row: a level line on the chart).

    Steps above the next one the biggest client could reach are left out: a line far above every bar
    would only squash the bars."""
    frame = rebates.nlargest(top, "turnover", keep="first")[["client_id", "turnover", "rebate_pct", "rebate"]]
    frame = frame.reset_index(drop=True)
    m = money(book.settings.minor_units)
    kinds = {"client_id": TEXT, "turnover": m, "rebate_pct": PCT, "rebate": m}
    biggest = int(frame["turnover"].max()) if len(frame) else 0
    reachable = [s for s in book.rebate_scale if s.from_turnover > 0]
    beyond = [i for i, s in enumerate(reachable) if s.from_turnover > biggest]
    for step in reachable[: beyond[0] + 1 if beyond else None]:
        name = f"{step.rebate_pct.normalize():f}{STEP_SUFFIX}"
        frame[name] = np.full(len(frame), step.from_turnover, dtype=np.int64)
        kinds[name] = m
    return Table("turnover_steps", frame, kinds)


def rebate_by_tier_table(rebates: pd.DataFrame, book: TariffBook) -> Table:
    """Per card tier (in the Tiers sheet's order): clients, turnover and rebate."""
    tiers = rebates["tier"].fillna("").replace("", NO_TIER)
    grouped = (rebates.assign(tier=tiers, clients=1)
               .groupby("tier", sort=False)[["clients", "turnover", "rebate"]].sum())
    order = [t.tier for t in book.tiers if t.tier in grouped.index]
    order += [t for t in grouped.index if t not in order]
    frame = grouped.reindex(order).reset_index()
    m = money(book.settings.minor_units)
    return Table("rebate_by_tier", frame, {"tier": TEXT, "clients": INT, "turnover": m, "rebate": m})
