"""Churn risk per client from the BG/NBD model (SPEC §10), and whom to call first.

Each client's history is its distinct sale days up to D (a day with several
sale documents is one purchase occasion), in weeks: x = distinct sale days − 1,
t_x = weeks from the first to the last, T = weeks from the first to D. The
model (bgnbd.py) is fitted on all clients at once; per client it gives p_alive,
the purchases to expect in the next 90 days, and churn_risk = 1 − p_alive.

For the people who act on it: ``churn_bands`` counts clients (and their net to
date) in five bands of risk, charted; ``churn_at_risk`` lists the 50 clients
with the most net to date among those more likely gone than not (risk ≥ 50 %).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from ..i18n import msg
from ..problems import InputError, Problem
from ..tables import DATE, FLOAT, INT, TEXT, Table, money
from . import bgnbd
from .sales import client_names, day_number, sales

HORIZON_DAYS = 90
AT_RISK = 0.5  # churn_risk from which a client is more likely gone than not
AT_RISK_SHOWN = 50
BANDS = ("0–20 %", "20–40 %", "40–60 %", "60–80 %", "80–100 %")


@dataclass(frozen=True)
class Churn:
    churn: Table
    model: Table
    bands: Table
    at_risk: Table
    fitted: bgnbd.BgNbd
    warnings: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Histories:
    """Per client with a sale: its code, x, t_x and T in weeks, its first and last sale day."""

    codes: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    last_day: np.ndarray


def histories(doc_client: np.ndarray, doc_day: np.ndarray, count: int, as_of: int) -> Histories:
    """x, t_x, T of each client from its sale documents' clients and days (day numbers)."""
    low = int(doc_day.min())
    width = int(doc_day.max()) - low + 1
    occasions = pd.unique(doc_client.astype(np.int64) * width + (doc_day - low))  # distinct (client, day)
    client, day = (occasions // width).astype(np.intp), occasions % width + low
    days = np.bincount(client, minlength=count)
    first = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(count, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, client, day)
    np.maximum.at(last, client, day)
    codes = np.flatnonzero(days > 0)
    first, last = first[codes], last[codes]
    return Histories(codes, (days[codes] - 1).astype(np.int64), (last - first) / 7.0, (as_of - first) / 7.0, last)


@dataclass(frozen=True)
class ClientHistories:
    """Each client's history up to D with its net to date, before the fit: what a part of whole clients
    (a Dask bucket) hands back; parts' histories concatenate (sales.joined)."""

    client_id: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    last_day: np.ndarray
    net_to_date: np.ndarray
    warnings: list[Problem] = field(default_factory=list)


def client_histories(lines: pd.DataFrame, as_of: date) -> ClientHistories:
    """x, t_x, T, the last sale day and the net to date of each client with a sale up to ``as_of``."""
    through = day_number(as_of)
    found = sales(lines, None, through, f"up to {as_of:%d.%m.%Y}")
    if not len(found.doc_client):
        empty = np.zeros(0)
        return ClientHistories(found.names[:0], empty.astype(np.int64), empty, empty, empty.astype(np.int64),
                               empty.astype(np.int64), found.without_sale)
    h = histories(found.doc_client, found.doc_day, found.count, through)
    return ClientHistories(found.names[h.codes], h.x, h.t_x, h.T, h.last_day, found.client_net[h.codes],
                           found.without_sale)


def churn(lines: pd.DataFrame, names: dict[str, str], as_of: date, minor_units: int) -> Churn:
    """The churn tables as of ``as_of``: InputError when there is no sale up to it or the model cannot be
    fitted on these histories (too few repeat buyers)."""
    return churn_tables(client_histories(lines, as_of), names, as_of, minor_units)


def churn_tables(h: ClientHistories, names: dict[str, str], as_of: date, minor_units: int) -> Churn:
    """The model fitted on every client's history at once, and the churn tables from it."""
    if not len(h.client_id):
        raise InputError([Problem("churn.no_sales", msg("no sale document (net above 0) up to --as-of "
                                                        "{as_of:%d.%m.%Y}; the churn model needs clients' "
                                                        "purchases",
                                                        as_of=as_of))])
    try:
        fitted = bgnbd.fit(h.x, h.t_x, h.T)
    except bgnbd.NotFitted as exc:
        raise InputError([Problem("churn.fit", msg("the churn model cannot be fitted on the sales up to "
                                                   "{as_of:%d.%m.%Y}: {exc}",
                                                   as_of=as_of, exc=exc))]) from None
    model = fitted.model
    warnings = [*h.warnings, *_limit_warnings(fitted)]
    alive = bgnbd.p_alive(model, h.x, h.t_x, h.T)
    expected = bgnbd.expected_purchases(model, HORIZON_DAYS / 7, h.x, h.t_x, h.T)
    if not (np.isfinite(alive).all() and np.isfinite(expected).all()):
        raise InputError([Problem("churn.fit", msg("the model fitted on the sales up to {as_of:%d.%m.%Y} (r "
                                                   "{r:.4g}, alpha {alpha:.4g}, a {a:.4g}, b {b:.4g}) gives no "
                                                   "finite figure for some clients; more history is needed",
                                                   as_of=as_of, r=model.r, alpha=model.alpha, a=model.a, b=model.b))])
    risk = 1.0 - alive
    ids, value = h.client_id, h.net_to_date
    frame = pd.DataFrame({
        "client_id": ids, "name": client_names(ids, names), "x": h.x, "t_x": h.t_x,
        "T": h.T, "p_alive": alive, "expected_purchases_90d": expected, "churn_risk": risk,
    })
    kinds = {"client_id": TEXT, "name": TEXT, "x": INT, "t_x": FLOAT, "T": FLOAT, "p_alive": FLOAT,
             "expected_purchases_90d": FLOAT, "churn_risk": FLOAT}
    table = Table("churn", frame.sort_values(["churn_risk", "client_id"], ascending=[False, True], kind="stable",
                                             ignore_index=True), kinds)
    return Churn(table, _model_table(model), _bands(risk, value, minor_units),
                 _at_risk(frame, value, h.last_day, minor_units), model, warnings)


LIMITS = {  # what a parameter at its bound says about the clients, for the person reading the report
    "b": "almost no client seems to drop out after a purchase (b very large): p_alive is near 1 for everyone",
    "a": "almost no client seems to drop out after a purchase (a very small): p_alive is near 1 for everyone",
    "r": "clients' buying rates hardly differ (r and alpha very large): the model treats them as one rate",
    "alpha": "clients' buying rates hardly differ (r and alpha very large): the model treats them as one rate",
}


def _limit_warnings(fitted: bgnbd.Fitted) -> list[Problem]:
    said = dict.fromkeys(LIMITS[name] for name in fitted.at_bound)
    return [Problem("churn.limit", msg("{text}; the parameters are the best fit there is, at a limit of the "
                                       "model",
                                       text=text),
                    "warning") for text in said]


def _model_table(model: bgnbd.BgNbd) -> Table:
    frame = pd.DataFrame([{"r": model.r, "alpha": model.alpha, "a": model.a, "b": model.b,
                           "log_likelihood": model.log_likelihood, "clients": model.clients}])
    return Table("churn_model", frame, {**dict.fromkeys(("r", "alpha", "a", "b", "log_likelihood"), FLOAT),
                                        "clients": INT})


def _bands(risk: np.ndarray, value: np.ndarray, minor_units: int) -> Table:
    band = np.minimum((risk * len(BANDS)).astype(np.intp), len(BANDS) - 1)
    total = np.zeros(len(BANDS), dtype=np.int64)
    np.add.at(total, band, value)
    frame = pd.DataFrame({"churn_risk": list(BANDS), "clients": np.bincount(band, minlength=len(BANDS)).astype(np.int64),
                          "net_to_date": total})
    return Table("churn_bands", frame, {"churn_risk": TEXT, "clients": INT, "net_to_date": money(minor_units)})


def _at_risk(frame: pd.DataFrame, value: np.ndarray, last_day: np.ndarray, minor_units: int) -> Table:
    picked = frame.assign(net_to_date=value, last_sale=last_day.astype("datetime64[D]").astype("datetime64[s]"))
    picked = picked[picked["churn_risk"] >= AT_RISK].sort_values(["net_to_date", "client_id"], ascending=[False, True],
                                                                  kind="stable").head(AT_RISK_SHOWN)
    columns = ["client_id", "name", "net_to_date", "last_sale", "churn_risk", "p_alive", "expected_purchases_90d"]
    kinds = {"client_id": TEXT, "name": TEXT, "net_to_date": money(minor_units), "last_sale": DATE,
             "churn_risk": FLOAT, "p_alive": FLOAT, "expected_purchases_90d": FLOAT}
    return Table("churn_at_risk", picked[columns].reset_index(drop=True), kinds)
