"""What a change of the programme would have cost on real history (SPEC §9 ``impact``).

The same export is priced, and its year-end rebates computed, under the current
tariff workbook and under the proposed one; this compares the two runs' lines.
Per client, per tariff and per marker: ``net``, ``price_discount``,
``bonus_accrued``, ``rebate`` and ``concession`` under each workbook and their
difference (proposed − current). The concession is what the programme gives
away on a line: its price discount, the bonus it accrues, its reservation cost
(SPEC §5's guardrail counts these three) and its share of the client's
year-end rebate. Every figure is a sum of exact minor units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..money import group_sums
from ..tables import TEXT, Table, money

FIGURES = ("net", "price_discount", "bonus_accrued", "rebate", "concession")
RUNS = ("current", "proposed")


def line_figures(lines: pd.DataFrame) -> pd.DataFrame:
    """A rebated run's lines reduced to what impact compares: client, tariff, marker and the FIGURES."""
    rebate = lines["rebate"].to_numpy(dtype=np.int64, na_value=0) if "rebate" in lines else np.zeros(len(lines), np.int64)
    figures = {name: lines[name].to_numpy(dtype=np.int64, na_value=0) for name in ("net", "price_discount", "bonus_accrued")}
    concession = figures["price_discount"] + figures["bonus_accrued"] + rebate \
        + lines["reservation_cost"].to_numpy(dtype=np.int64, na_value=0)
    return pd.DataFrame({"client_id": lines["client_id"].astype(str).to_numpy(dtype=object),
                         "tariff": lines["tariff"].astype(str).to_numpy(dtype=object),
                         "marker": lines["marker"].astype(str).to_numpy(dtype=object),
                         **figures, "rebate": rebate, "concession": concession})


def impact_tables(current: pd.DataFrame, proposed: pd.DataFrame, minor_units: int) -> dict[str, Table]:
    """``impact`` (per client, with its tariff under each workbook), ``impact_by_tariff`` and
    ``impact_by_marker`` from the two runs' ``line_figures``; a line's tariff and marker are the ones its
    own run gave it, so a client moved to another tariff counts under each where it was."""
    per_client = _compare({"current": current, "proposed": proposed}, "client_id")
    tariffs = {run: frame.groupby("client_id", sort=False)["tariff"].first() for run, frame in
               (("current", current), ("proposed", proposed))}
    per_client.insert(1, "tariff_current", per_client["client_id"].map(tariffs["current"]))
    per_client.insert(2, "tariff_proposed", per_client["client_id"].map(tariffs["proposed"]))
    kinds = {f"{figure}_{part}": money(minor_units) for figure in FIGURES for part in (*RUNS, "delta")}
    return {
        "impact": Table("impact", per_client, {"client_id": TEXT, "tariff_current": TEXT, "tariff_proposed": TEXT, **kinds}),
        "impact_by_tariff": Table("impact_by_tariff", _compare({"current": current, "proposed": proposed}, "tariff"),
                                  {"tariff": TEXT, **kinds}),
        "impact_by_marker": Table("impact_by_marker", _compare({"current": current, "proposed": proposed}, "marker"),
                                  {"marker": TEXT, **kinds}),
    }


def _compare(runs: dict[str, pd.DataFrame], key: str) -> pd.DataFrame:
    """The FIGURES summed by ``key`` in each run, side by side (0 where a key is in one run only), and the
    deltas; keys in the current run's order of first appearance, then the proposed run's new ones."""
    keys = pd.Index(pd.unique(np.concatenate([runs["current"][key].to_numpy(), runs["proposed"][key].to_numpy()])))
    columns: dict[str, object] = {key: keys.to_numpy(dtype=object)}
    sums = {}
    for run, frame in runs.items():
        codes = keys.get_indexer(frame[key].to_numpy())
        for figure in FIGURES:
            sums[figure, run] = group_sums(frame[figure].to_numpy(), codes, len(keys))
    for figure in FIGURES:
        columns[f"{figure}_current"] = sums[figure, "current"]
        columns[f"{figure}_proposed"] = sums[figure, "proposed"]
        columns[f"{figure}_delta"] = sums[figure, "proposed"] - sums[figure, "current"]
    return pd.DataFrame(columns)
