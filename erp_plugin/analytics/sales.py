"""Each client's sale documents over a span of days: what RFM and churn both count (SPEC §10).

A document is one ``doc_id`` of one client (two clients' documents may share a
number, as in period/rebates.py); a *sale document* is one whose net, summed
over its lines in the span, is above zero — so a return document, or a sale
wholly returned in the same document, is not a purchase. Its day is its latest
line's date. Everything is worked on the lines' category codes with
``pd.factorize`` and exact ``group_sums``: no Python loop per line or client.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import numpy as np
import pandas as pd

from ..i18n import msg
from ..lines import SOURCE_ROW
from ..money import group_sums
from ..problems import InputError, Problem

EPOCH = date(1970, 1, 1)


def day_number(day: date) -> int:
    """Days since 1970-01-01: the integer day every array here holds."""
    return (day - EPOCH).days


def day_of(number: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + int(number))


def line_days(lines: pd.DataFrame) -> np.ndarray:
    return lines["date"].to_numpy(dtype="datetime64[D]").astype(np.int64)


def resolve_as_of(lines: pd.DataFrame, as_of: date | None) -> date:
    """The report's day D: ``as_of``, else the export's last date. An ``as_of`` before every line is an
    InputError naming the dates the export has (there would be nothing to report)."""
    days = line_days(lines)
    if not len(days):
        raise InputError([Problem("report.no_lines", msg("the export has no lines; nothing to report"))])
    first, last = day_of(days.min()), day_of(days.max())
    if as_of is None:
        return last
    if as_of < first:
        raise InputError([Problem("report.as_of", msg("--as-of {as_of:%d.%m.%Y} is before every line: the "
                                                      "export's lines run from {first:%d.%m.%Y} to "
                                                      "{last:%d.%m.%Y}; give a day from {first:%d.%m.%Y} on, "
                                                      "or leave --as-of out for the last one",
                                                      as_of=as_of, first=first, last=last))])
    return as_of


def client_names(ids: np.ndarray, names: dict[str, str]) -> pd.Series:
    """The Clients sheet's name of each client id; None (a blank cell, never NaN) where it has none."""
    return blanks_as_none(pd.Series(ids, dtype=object).map(names))


def blanks_as_none(values) -> pd.Series:
    """Text kept as Python objects with None for a blank: pandas' own string dtype would hold NaN there, and
    a frame handed to a script shows no NaN."""
    series = pd.Series(values, dtype=object)
    return series.where(series.notna(), None).reset_index(drop=True)


def joined(parts: list):
    """Per-client figures of parts of whole clients (dataclasses of arrays and ``warnings``) as one: each
    array concatenated, the warnings in turn."""
    arrays = [f.name for f in fields(parts[0]) if f.name != "warnings"]
    return type(parts[0])(**{name: np.concatenate([getattr(p, name) for p in parts]) for name in arrays},
                          warnings=[w for p in parts for w in p.warnings])


@dataclass(frozen=True)
class Sales:
    """Sale documents in a span, and per client code (the lines' ``client_id`` categories) what it bought."""

    names: np.ndarray  # client_id of each client code
    doc_client: np.ndarray  # per sale document: its client's code
    doc_day: np.ndarray  # per sale document: its day number
    doc_net: np.ndarray  # per sale document: its net, minor units
    client_net: np.ndarray  # per client code: Σ net of all its lines in the span (returns included)
    without_sale: list[Problem]  # a warning per client with lines in the span but no sale document

    @property
    def count(self) -> int:
        return len(self.names)


def sales(lines: pd.DataFrame, after: int | None, through: int, span: str) -> Sales:
    """The sale documents of lines dated in (``after``, ``through``] (day numbers; ``after`` None: from the
    first line). ``span`` says the span in the warnings, e.g. ``in 01.12.2025–30.11.2026``."""
    days = line_days(lines)
    inside = days <= through
    if after is not None:
        inside &= days > after
    clients_all = lines["client_id"].array.codes
    names = lines["client_id"].cat.categories.to_numpy(dtype=object)
    count = len(names)
    clients = clients_all[inside].astype(np.intp)
    net = lines["net"].to_numpy(dtype=np.int64)[inside]
    key = lines["doc_id"].array.codes[inside].astype(np.int64) * max(count, 1) + clients
    document, unique = pd.factorize(key)
    doc_net = group_sums(net, document, len(unique))
    doc_day = np.full(len(unique), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(doc_day, document, days[inside])
    sale = doc_net > 0
    doc_client = (unique % max(count, 1)).astype(np.intp)[sale]
    client_net = group_sums(net, clients, count)
    bought = np.bincount(doc_client, minlength=count) > 0
    idle = (np.bincount(clients, minlength=count) > 0) & ~bought
    return Sales(names, doc_client, doc_day[sale], doc_net[sale], client_net,
                 _without_sale(lines, inside, clients_all, idle, names, span))


def _without_sale(lines, inside, clients_all, idle: np.ndarray, names, span: str) -> list[Problem]:
    """A warning for each client whose lines in the span make no sale document (only returns, or documents
    netting to zero or less), at the export row of its first line there."""
    if not idle.any():
        return []
    rows = lines[SOURCE_ROW].to_numpy(dtype=np.int64)
    picked = inside & idle[clients_all.clip(min=0)] & (clients_all >= 0)
    first = np.full(len(names), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, clients_all[picked], rows[picked])
    return [Problem("report.no_sale", msg("client {names} has no sale document (net above 0) {span}, only "
                                          "returns or documents netting to zero or less; it is left out",
                                          names=names[c], span=span), "warning", row=int(first[c]),
                    field="client_id") for c in np.flatnonzero(idle)]
