"""Year-end cumulative rebates, with credit notes, card tiers and stamp cards (SPEC §7).

Works on priced lines (each line's ``net`` and ``vat``), per client, vectorised:

* turnover = Σ net (or net − vat with ``rebate_basis`` = net_ex_vat) over the
  fiscal year, returns included; turnover <= 0 earns nothing;
* ``retroactive``: rebate = round(turnover × pct / 100), pct of the highest step
  <= turnover; ``stepped``: round(Σ part of turnover in each step × its pct / 100);
* the rebate is split over the client's lines with net > 0 in proportion to net
  (largest remainder, ties to the earlier line) as the column ``rebate``;
* credit notes (credit_notes.py), card tiers (tiers.py) and stamp cards
  (stamps.py) come from the same per-client figures, computed here in one pass
  over parts of the clients (parallel.client_parts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from ..lines import with_columns
from ..money import (
    PCT_SCALE,
    allocate,
    group_sums,
    mul_div_round,
    pct_to_scaled,
    percent_of,
)
from ..parallel import client_parts, side_by_side
from ..tables import INT, PCT, TEXT, Table, money
from ..tariffs.model import TariffBook
from .credit_notes import credit_notes
from .stamps import client_stamps, stamp_table
from .tiers import tier_table, tiers_reached


@dataclass(frozen=True)
class FiscalYear:
    year: int
    start: date
    end: date  # inclusive

    @classmethod
    def of(cls, book: TariffBook, year: int) -> FiscalYear:
        """Fiscal year ``year`` starts on its ``fiscal_year_start`` (01-04 and 2026: 2026-04-01 to 2027-03-31)."""
        month, day = book.settings.fiscal_year_start
        start = date(year, month, day)
        following = date(year + 1, month, day)
        return cls(year, start, date.fromordinal(following.toordinal() - 1))


def rebate_for(turnover: np.ndarray, book: TariffBook) -> tuple[np.ndarray, np.ndarray]:
    """Per client: (the pct of the highest step reached, the rebate in minor units)."""
    steps = book.rebate_scale
    turnover = np.asarray(turnover, dtype=np.int64)
    if not steps:
        zeros = np.zeros(len(turnover), dtype=np.int64)
        return zeros, zeros
    bounds = np.array([s.from_turnover for s in steps], dtype=np.int64)
    pcts = np.array([pct_to_scaled(s.rebate_pct) for s in steps], dtype=np.int64)
    reached = np.searchsorted(bounds, turnover, side="right") - 1
    positive = turnover > 0
    pct = np.where(positive & (reached >= 0), pcts[np.maximum(reached, 0)], 0)
    if book.settings.rebate_mode == "retroactive":
        return pct, percent_of(np.where(positive, turnover, 0), pct)
    upper = np.append(bounds[1:], np.iinfo(np.int64).max)
    parts = np.clip(turnover[:, None] - bounds[None, :], 0, (upper - bounds)[None, :])
    return pct, np.where(positive, _stepped(parts, pcts), 0)


def _stepped(parts: np.ndarray, pcts: np.ndarray) -> np.ndarray:
    """round(Σ part × pct / 100) per row, rounded once; exact, int64 where it cannot overflow."""
    divisor = 100 * PCT_SCALE
    limit = 2**62 // max(1, parts.shape[1])
    # judged in float64 with a wide margin below int64; rows near the limit take the exact path
    wide = np.abs(parts).max(axis=1, initial=0).astype(np.float64) * float(pcts.max(initial=0)) >= limit
    numerator = np.where(wide[:, None], 0, parts) @ pcts if len(parts) else np.zeros(0, dtype=np.int64)
    result = mul_div_round(numerator, 1, divisor)
    for row in np.flatnonzero(wide):
        exact = sum(int(p) * int(q) for p, q in zip(parts[row], pcts))
        q, r = divmod(exact, divisor)
        result[row] = q + (2 * r >= divisor)
    return result


@dataclass(frozen=True)
class Rebates:
    lines: pd.DataFrame  # the priced lines with ``rebate``
    rebates: Table
    credit_notes: Table
    tiers: Table
    stamps: Table
    fiscal_year: FiscalYear


def year_end(lines: pd.DataFrame, book: TariffBook, year: int) -> Rebates:
    """Rebates, credit notes, tiers and stamps of fiscal year ``year`` over priced ``lines``.

    Every figure is per client, so the clients are split into parts (by client
    code) of about parallel.PART_LINES lines, computed side by side on a thread
    pool — the work is numpy over the parts' arrays, which runs outside the GIL,
    and a part's groups stay in the processor's cache — then put back in client
    order.
    Grouping is on the client and document codes with exact integer sums
    (group_sums), not a hash group-by.
    """
    fy = FiscalYear.of(book, year)
    days = lines["date"].to_numpy(dtype="datetime64[D]")
    inside = (days >= np.datetime64(fy.start, "D")) & (days <= np.datetime64(fy.end, "D"))
    clients = lines["client_id"].array.codes.astype(np.intp)
    count = len(lines["client_id"].cat.categories)
    net = lines["net"].to_numpy()
    year_lines = _YearLines(clients, net, net - lines["vat"].to_numpy() if book.settings.rebate_basis == "net_ex_vat" else net,
                            lines["doc_id"].array.codes, count, book)
    parts = client_parts(clients, inside)
    done = side_by_side(year_lines.part, parts)
    order = np.argsort(np.concatenate([part.codes for part in done]))
    codes, turnover, pct, rebate, documents, largest, stamps, completed = (
        np.concatenate([getattr(part, name) for part in done])[order] for name in _Part.CLIENT_FIELDS)
    line_rebate = np.zeros(len(lines), dtype=np.int64)
    for rows, part in zip(parts, done):
        line_rebate[rows] = part.line_rebate
    tier = tiers_reached(book, turnover, largest)
    names = lines["client_id"].cat.categories.to_numpy(dtype=object)[codes]
    minor = book.settings.minor_units
    table = pd.DataFrame({
        "client_id": names, "turnover": turnover, "rebate_pct": pct, "rebate": rebate,
        "documents": documents, "tier": tier, "stamps": stamps,
        "completed_columns": completed,
    })
    kinds = {"turnover": money(minor), "rebate_pct": PCT, "rebate": money(minor), "documents": INT,
             "stamps": INT, "completed_columns": INT, "client_id": TEXT, "tier": TEXT}
    priced = with_columns(lines, rebate=line_rebate)
    notes = credit_notes(priced, book, names, rebate, clients, count)
    tiers = tier_table(book, names, tier, turnover, largest)
    return Rebates(priced, Table("rebates", table, kinds), notes, tiers, stamp_table(book, names, stamps, completed), fy)


@dataclass(frozen=True)
class _Part:
    """One part's clients (codes ascending) with their figures, and the rebate of each of its rows."""

    CLIENT_FIELDS = ("codes", "turnover", "pct", "rebate", "documents", "largest", "stamps", "completed")
    codes: np.ndarray
    turnover: np.ndarray
    pct: np.ndarray
    rebate: np.ndarray
    documents: np.ndarray
    largest: np.ndarray
    stamps: np.ndarray
    completed: np.ndarray
    line_rebate: np.ndarray


@dataclass(frozen=True)
class _YearLines:
    """The arrays a part is computed from (every line; a part takes its rows)."""

    clients: np.ndarray
    net: np.ndarray
    basis: np.ndarray
    docs: np.ndarray
    count: int  # client codes are 0..count-1
    book: TariffBook

    def part(self, rows: np.ndarray) -> _Part:
        clients, net, count = self.clients[rows], self.net[rows], self.count
        codes = np.flatnonzero(np.bincount(clients, minlength=count))
        turnover = group_sums(self.basis[rows], clients, count)[codes]
        pct, rebate = rebate_for(turnover, self.book)
        doc_client, doc_net = _documents(self.docs[rows], clients, net, count)
        largest = np.full(count, np.iinfo(np.int64).min)
        np.maximum.at(largest, doc_client, doc_net)
        documents = np.bincount(doc_client, minlength=count)[codes]
        stamps, completed = client_stamps(self.book, codes, count, doc_client, doc_net)
        return _Part(codes, turnover, pct, rebate, documents, largest[codes], stamps, completed,
                     _allocate(clients, net, codes, count, rebate))


def _documents(docs: np.ndarray, clients: np.ndarray, net: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Each document's client code and net: a document is a doc_id of one client (two clients' documents
    may share a number)."""
    key = docs.astype(np.int64) * count + clients
    document, unique = pd.factorize(key)
    return (unique % count).astype(np.intp), group_sums(net, document, len(unique))


def _allocate(clients: np.ndarray, net: np.ndarray, codes: np.ndarray, count: int, rebate: np.ndarray) -> np.ndarray:
    """Each client's rebate over its lines with net > 0, in proportion to net."""
    result = np.zeros(len(clients), dtype=np.int64)
    receiving = np.flatnonzero(net > 0)
    group = clients[receiving]
    totals = np.zeros(count, dtype=np.int64)
    totals[codes] = rebate
    totals[np.bincount(group, minlength=count) == 0] = 0  # a client with no positive line gets none
    result[receiving] = allocate(totals, net[receiving], group)
    return result
