"""RFM: recency, frequency and monetary per client, scored 1–5 and segmented (SPEC §10).

The scores are ranks, not quantile bins: a client's F (or M) score is
1 + ⌊5 × (clients with a strictly lower value) / n⌋ and its R score
1 + ⌊5 × (clients with strictly more days since the last sale) / n⌋, so clients
with equal values always score alike and the best client of n scores 5 only
when at least a fifth of the clients are strictly below it. Counts come from a
sort and ``np.searchsorted`` over the whole column, in integers.

The segment comes from the R and F scores on the usual 5 × 5 grid; M is
reported but, as in the grid, does not move the segment.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from ..i18n import msg
from ..problems import InputError, Problem
from ..tables import INT, TEXT, Table, money
from .sales import client_names, day_number, day_of, sales

SEGMENTS = ("champions", "loyal", "potential_loyalist", "new", "promising", "need_attention", "about_to_sleep",
            "cant_lose", "at_risk", "hibernating")
# GRID[r - 1][f - 1]: the segment's index in SEGMENTS
_ROWS = {  # r score -> segment by f score 1..5
    5: ("new", "potential_loyalist", "potential_loyalist", "champions", "champions"),
    4: ("promising", "potential_loyalist", "potential_loyalist", "loyal", "loyal"),
    3: ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"),
    1: ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"),
}
GRID = np.array([[SEGMENTS.index(s) for s in _ROWS[r]] for r in range(1, 6)], dtype=np.intp)


def months_before(day: date, months: int) -> date:
    """``day`` moved back ``months`` calendar months, on the same day of the month or the month's last
    (31.03 back one month is 28.02 or 29.02)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def score_up(values: np.ndarray) -> np.ndarray:
    """1 + ⌊5 × (values strictly lower) / n⌋ for each value: ties score alike."""
    ordered = np.sort(values)
    lower = np.searchsorted(ordered, values, side="left")
    return 1 + (5 * lower) // max(len(values), 1)


def score_down(values: np.ndarray) -> np.ndarray:
    """1 + ⌊5 × (values strictly higher) / n⌋: recency, where fewer days is better."""
    ordered = np.sort(values)
    higher = len(values) - np.searchsorted(ordered, values, side="right")
    return 1 + (5 * higher) // max(len(values), 1)


@dataclass(frozen=True)
class Rfm:
    rfm: Table
    segments: Table
    window: tuple[date, date]  # (first day, last day) of the window, both included
    warnings: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class RfmFigures:
    """Recency, frequency and monetary of each client with a sale in the window, before scoring: what a
    part of whole clients (a Dask bucket) hands back; parts' figures concatenate (sales.joined)."""

    client_id: np.ndarray
    recency: np.ndarray
    frequency: np.ndarray
    monetary: np.ndarray
    warnings: list[Problem] = field(default_factory=list)


def window(as_of: date, months: int) -> tuple[date, date, str]:
    """The window (as_of − months, as_of]: the day before its first day, its first day, and how the
    messages say it."""
    start = months_before(as_of, months)
    first = day_of(day_number(start) + 1)
    return start, first, f"in {first:%d.%m.%Y}–{as_of:%d.%m.%Y}"


def rfm_figures(lines: pd.DataFrame, as_of: date, months: int) -> RfmFigures:
    """Each client's recency (days), frequency (sale documents) and monetary (Σ net, returns included)
    over the window (as_of − months, as_of]."""
    start, _, span = window(as_of, months)
    found = sales(lines, day_number(start), day_number(as_of), span)
    last = np.full(found.count, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, found.doc_client, found.doc_day)
    frequency = np.bincount(found.doc_client, minlength=found.count)
    codes = np.flatnonzero(frequency > 0)
    return RfmFigures(found.names[codes], day_number(as_of) - last[codes], frequency[codes].astype(np.int64),
                      found.client_net[codes], found.without_sale)


def rfm(lines: pd.DataFrame, names: dict[str, str], as_of: date, months: int, minor_units: int) -> Rfm:
    """The ``rfm`` and ``rfm_segments`` tables over the window (as_of − months, as_of]. ``names``: the Clients
    sheet's name per client_id. A window without a sale document is an InputError."""
    return rfm_tables(rfm_figures(lines, as_of, months), names, as_of, months, minor_units)


def rfm_tables(figures: RfmFigures, names: dict[str, str], as_of: date, months: int, minor_units: int) -> Rfm:
    """The clients' figures scored (over all of them) and segmented: the ``rfm`` and ``rfm_segments`` tables."""
    _, first, span = window(as_of, months)
    if not len(figures.client_id):
        raise InputError([Problem("rfm.no_sales", msg("no sale document (net above 0) {span}, the {months} "
                                                      "months to --as-of {as_of:%d.%m.%Y}; check --as-of and "
                                                      "--months against the export's dates",
                                                      span=span, months=months, as_of=as_of))])
    recency, frequency, monetary = figures.recency, figures.frequency, figures.monetary
    r, f, m = score_down(recency), score_up(frequency), score_up(monetary)
    segment = np.asarray(SEGMENTS, dtype=object)[GRID[r - 1, f - 1]]
    ids = figures.client_id
    frame = pd.DataFrame({
        "client_id": ids, "name": client_names(ids, names),
        "recency_days": recency, "frequency": frequency, "monetary": monetary, "r": r, "f": f, "m": m,
        "segment": segment,
    }).sort_values(["monetary", "client_id"], ascending=[False, True], kind="stable", ignore_index=True)
    kinds = {"client_id": TEXT, "name": TEXT, "recency_days": INT, "frequency": INT, "monetary": money(minor_units),
             "r": INT, "f": INT, "m": INT, "segment": TEXT}
    return Rfm(Table("rfm", frame, kinds), segments_table(GRID[r - 1, f - 1], monetary, minor_units), (first, as_of),
               figures.warnings)


def segments_table(segment: np.ndarray, monetary: np.ndarray, minor_units: int) -> Table:
    """Clients and monetary per segment, every segment in the grid's order (an empty one with zeros)."""
    clients = np.bincount(segment, minlength=len(SEGMENTS))
    total = np.zeros(len(SEGMENTS), dtype=np.int64)
    np.add.at(total, segment, monetary)  # exact: int64, one row per client
    frame = pd.DataFrame({"segment": list(SEGMENTS), "clients": clients.astype(np.int64), "monetary": total})
    return Table("rfm_segments", frame, {"segment": TEXT, "clients": INT, "monetary": money(minor_units)})
