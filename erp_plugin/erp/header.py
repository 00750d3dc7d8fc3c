"""Where an export's lines are: the header row, found by its headers, and the ExportSource that records it.

The header is the first row (within HEADER_SCAN_ROWS, below any title block)
that names every required field, by the tariff workbook's ``Columns`` sheet
first, then by the built-in aliases of 1C, ERPNext, Odoo and SAP (fields.py).
An export without one cannot be read at all: ExportError, with a problem saying
which fields are missing and how to map them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..i18n import N_, joined, msg
from ..problems import Problem
from .fields import (
    FIELD_ALIASES,
    FIELDS,
    REQUIRED_FIELDS,
    header_keys,
    normalize_header,
)

HEADER_SCAN_ROWS = 30  # the header may sit under a title block this deep


@dataclass
class ExportSource:
    """Where the lines came from, as much as a writer needs to put results back."""

    path: Path
    format: str  # xlsx | csv | parquet
    sheet: str | None = None
    header_row: int = 1  # Excel row number of the header
    headers: list[str] = field(default_factory=list)
    width: int = 0  # used columns of the sheet; result columns go to the right of them
    fields: dict[str, int] = field(default_factory=dict)  # field -> 0-based column
    encoding: str | None = None
    delimiter: str | None = None
    rows: int | None = None  # the rows below the header (a csv's estimated from its size), for a progress bar


class ExportError(Exception):
    """The export cannot be read at all (no such file, no header row); carries the problem, and for a header
    that lacks fields the Columns rows proposed for them (field -> header; ``erp-plugin read --save-columns``)."""

    def __init__(self, problem: Problem, proposed: dict[str, str] | None = None):
        super().__init__(str(problem))
        self.problem = problem
        self.proposed = proposed or {}


def match_fields(headers: list, columns: Mapping[str, str]) -> dict[str, int]:
    """Field -> column index for one header row: the Columns sheet first, then the built-in aliases."""
    keys = [header_keys(h) if isinstance(h, str) and h.strip() else [] for h in headers]
    found: dict[str, int] = {}
    taken: set[int] = set()

    def claim(name: str, wanted: str) -> bool:
        key = normalize_header(wanted)
        for depth in range(4):  # a header's whole text before its shorter keys, over every column
            for index, header in enumerate(keys):
                if len(header) > depth and header[depth] == key and index not in taken:
                    found[name] = index
                    taken.add(index)
                    return True
        return False

    for name, header in columns.items():
        if name in FIELDS:
            claim(name, header)
    for name in FIELDS:
        if name not in found:
            any(claim(name, alias) for alias in (name, *FIELD_ALIASES.get(name, ())))
    return found


def is_complete(fields: Mapping[str, int]) -> bool:
    """Every required field has a column; sku may instead come from names that carry it (``[SL5077] Cable``)."""
    missing = [f for f in REQUIRED_FIELDS if f not in fields]
    return not missing or (missing == ["sku"] and "name" in fields)


class HeaderFields(dict):
    """Field -> column index, and the columns taken without a Columns row because header and content agreed
    (``guessed``: field -> header), which the reader tells the user about."""

    def __init__(self, fields: Mapping[str, int], guessed: Mapping[str, str] | None = None):
        super().__init__(fields)
        self.guessed = dict(guessed or {})


def find_header(rows: list[list], columns: Mapping[str, str]) -> tuple[int, dict[str, int], bool]:
    """The first row holding every required field; else the row that maps the most, completed by the
    unambiguous candidates for its missing fields (``unambiguous``), or left incomplete (complete=False)."""
    index, fields, complete = _closest_row(rows, columns)
    if complete or not fields:
        return index, fields, complete
    taken = unambiguous([f for f in REQUIRED_FIELDS if f not in fields], list(rows[index]), rows[index + 1:],
                        set(fields.values()))
    if taken is None:
        return index, fields, False
    return index, HeaderFields({**fields, **{f: c.column for f, c in taken.items()}},
                               {f: c.header for f, c in taken.items()}), True


def unambiguous(missing: list[str], header_row: list, below: list[list], taken: set[int]):
    """For each missing field its one candidate whose header is like the field's and whose values fit it
    (SPEC §6: a mapping is used without a Columns row only then); None when any field has no such one."""
    from .proposals import LIKE, propose

    chosen = {}
    for name, found in propose(missing, header_row, below, taken).items():
        if len(found) != 1 or found[0].likeness < LIKE or not found[0].fits:
            return None
        chosen[name] = found[0]
    return chosen


def _closest_row(rows: list[list], columns: Mapping[str, str]) -> tuple[int, dict[str, int], bool]:
    """The first row holding every required field; else the row that maps the most (complete=False)."""
    best = (0, {}, False)
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        fields = match_fields(list(row), columns)
        if is_complete(fields):
            return index, fields, True
        if len(fields) > len(best[1]):
            best = (index, fields, False)
    return best


def no_header(file: str, scanned: list[list], columns: Mapping[str, str], where: str) -> ExportError:
    """The header row lacks required fields: the row that looks most like it, and for each missing field the
    columns that could be it (proposals.py) with the Columns row to add."""
    from .proposals import best, propose

    index, fields, _complete = _closest_row(scanned, columns)
    if not fields:
        message = msg("{where}: no header row with the fields {fields} in the first {rows} rows; map your headers on "
                      "the Columns sheet of the tariff workbook", where=where, fields=", ".join(REQUIRED_FIELDS),
                      rows=HEADER_SCAN_ROWS)
        return ExportError(Problem("export.no_header", message, file=file))
    missing = [f for f in REQUIRED_FIELDS if f not in fields]
    taken = set(fields.values())
    header_row, below = list(scanned[index]), scanned[index + 1:]
    hints, proposed = [], {}
    for name, found in propose(missing, header_row, below, taken).items():
        chosen = best(found)
        if chosen is not None:
            proposed[name] = chosen.header
            hints.append(msg("{field}: {column}; add the Columns row {field} | {header}", field=name,
                             column=chosen.describe(), header=chosen.header))
        elif found:
            hints.append(msg("{field}: {columns}; add the Columns row for the right one", field=name,
                             columns=joined(N_(" or "), [c.describe() for c in found[:3]])))
        else:
            hints.append(msg("{field}: no column looks like it (headers such as {aliases})", field=name,
                             aliases=", ".join(FIELD_ALIASES[name][:3])))
    save = N_(" (erp-plugin read EXPORT --save-columns TARIFFS writes the proposed rows)") if proposed else ""
    message = msg("{where}: row {row} looks like the header but has no column for {missing}. {hints} — on the Columns "
                  "sheet of the tariff workbook{save}", where=where, row=index + 1, missing=", ".join(missing),
                  hints=joined("; ", hints), save=save)
    return ExportError(Problem("export.no_header", message, file=file), proposed)
