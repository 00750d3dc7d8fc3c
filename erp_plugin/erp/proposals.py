"""Columns that could be the required fields an export's header does not name (SPEC §6, header mapping).

When a required field has no column by the Columns sheet or the built-in
aliases, each unmapped column is weighed by its header (how close it is to the
field's aliases: all of an alias's words in the header, or a close spelling)
and by the values under it (dates for ``date``, numbers for ``qty`` and
``unit_price``, short text for ``doc_id``; for ``client_id`` and ``sku`` codes,
short and with a digit, so that ``C-001`` beats ``ООО «Ромашка»``). Nothing here maps a column by itself: the
reader names the candidates and the Columns row to add, and ``erp-plugin read
--save-columns`` writes the best one into the tariff workbook, so money never
flows from a guess.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ..i18n import N_, Message, joined, msg
from .fields import FIELD_ALIASES, header_keys, normalize_header

SAMPLE_ROWS = 25  # values looked at under the header
LIKE = 0.75  # a header at least this close to one of the field's aliases is like it


@dataclass(frozen=True)
class Candidate:
    field: str
    header: str
    column: int  # 0-based, in the header row
    likeness: float  # 0..1: the header against the field's aliases
    fits: bool  # the values under it look like the field's
    alias: str  # the alias the header is most like

    @property
    def score(self) -> float:
        return self.likeness + (0.5 if self.fits else 0.0)

    def describe(self) -> Message:
        why = [msg("its header is like {alias!r}", alias=self.alias)] if self.likeness >= LIKE else []
        if self.fits:
            why.append(FITS[self.field])
        if not why:
            return msg("{header!r} (column {column})", header=self.header, column=self.column + 1)
        return msg("{header!r} (column {column}: {why})", header=self.header, column=self.column + 1,
                   why=joined(N_(" and "), why))


FITS = {
    "date": N_("its values are dates"),
    "doc_id": N_("its values are document numbers"),
    "client_id": N_("its values are codes"),
    "sku": N_("its values are codes"),
    "qty": N_("its values are numbers"),
    "unit_price": N_("its values are numbers"),
}


def candidates(field: str, header_row: list, rows: list[list], taken: set[int]) -> list[Candidate]:
    """The columns of ``header_row`` (not ``taken``) that could be ``field``, best first: those whose header
    is like one of its aliases, or whose values fit it while their header is not another field's."""
    found = []
    for column, header in enumerate(header_row):
        if column in taken or not isinstance(header, str) or not header.strip():
            continue
        alias, likeness = _likeness(field, header)
        values = [row[column] for row in rows[:SAMPLE_ROWS] if column < len(row)]
        fits = _fits(field, values)
        if likeness >= LIKE or (fits and likeness >= 0.4):
            found.append(Candidate(field, header.strip(), column, likeness, fits, alias))
    return sorted(found, key=lambda c: (-c.score, c.column))


def best(found: list[Candidate]) -> Candidate | None:
    """The candidate to propose: the only one, or one clearly ahead of the next (a header like the field's
    and values that fit, where the next has not both)."""
    if not found:
        return None
    if len(found) == 1 or found[0].score - found[1].score >= 0.25:
        return found[0]
    return None


def propose(missing: list[str], header_row: list, rows: list[list], taken: set[int]) -> dict[str, list[Candidate]]:
    """Each missing field's candidates, best first, a column proposed for one field (``best``) left out of
    the others' (so ``Customer Ref`` proposed for client_id is no longer a doc_id candidate)."""
    taken = set(taken)
    found = {name: candidates(name, header_row, rows, taken) for name in missing}
    for _ in missing:  # until no proposal frees another field's choice
        chosen = {name: best(c) for name, c in found.items()}
        claimed = {c.column for c in chosen.values() if c is not None}
        narrowed = {name: [c for c in cands if chosen[name] is not None or c.column not in claimed]
                    for name, cands in found.items()}
        if narrowed == found:
            break
        found = narrowed
    return found


def _likeness(field: str, header: str) -> tuple[str, float]:
    """How close ``header`` is to the closest of the field's names: 1 when it is one of them (by any of its
    keys), 0.9 when it holds all the words of one, else the spelling's similarity."""
    keys = header_keys(header)
    words = set("_".join(keys).split("_"))
    closest, score = field, 0.0
    for alias in (field, *FIELD_ALIASES.get(field, ())):
        key = normalize_header(alias)
        if key in keys:
            return alias, 1.0
        alias_words = set(key.split("_"))
        like = 0.9 if alias_words <= words and len(key) > 2 else max(
            difflib.SequenceMatcher(None, key, k).ratio() for k in keys)
        if like > score:
            closest, score = alias, like
    return closest, score


def _fits(field: str, values: list) -> bool:
    """Whether most of the non-blank values under a header look like ``field``'s."""
    import pandas as pd

    from ..cellkinds import cell_kinds
    from ..parsing import parse_scaled_column
    from .values import parse_date_column

    cells = pd.Series(values, dtype=object)
    kinds = cell_kinds(cells.to_numpy())
    given = ~kinds.blank
    if given.sum() == 0:
        return False
    if field == "date":
        _dates, bad, _blank = parse_date_column(cells)
        return bool((~bad & given).sum() >= 0.8 * given.sum()) and not kinds.number[given].all()
    if field in ("qty", "unit_price"):
        _scaled, bad, _blank = parse_scaled_column(cells, 4)
        return bool((~bad & given).sum() >= 0.8 * given.sum())
    text = cells[given].astype(str).str.strip()
    if field in ("client_id", "sku"):  # codes: short, with a digit (C-001, 00-000101); names are words
        code_like = (text.str.len() <= 20) & text.str.contains(r"\d")
        return bool(code_like.mean() >= 0.8)
    return bool((text.str.len() <= 40).mean() >= 0.8)  # doc_id: a number, not a sentence
