"""RFM segments written into a tariff workbook's Clients sheet: ``erp-plugin report rfm --save-segments TARIFFS``.

Each client's ``segments`` (a comma list) gets its RFM segment, replacing an
RFM segment written earlier and keeping the manager's own ones, so that a
promotion whose ``segment`` is ``at_risk`` reaches exactly those clients. A
client the report did not score (no sale in the window) loses a stale RFM
segment. Everything else in the workbook stays as it was (openpyxl keeps
styles, validations, comments, Excel Tables and, for .xlsm, macros), and the
save is atomic, as for ``--save-columns`` (columns_sheet.py).
"""

from __future__ import annotations

from pathlib import Path

from ..erp.fields import normalize_header
from ..i18n import msg
from ..problems import InputError, Problem
from ..tariffs.cells import text_of
from ..tariffs.schema import SHEET
from ..xlsx import save_workbook
from .columns_sheet import open_tariff_workbook


def save_segments(path: str | Path, segments: dict[str, str], rfm_names: tuple[str, ...]) -> int:
    """Write ``segments`` (client_id -> RFM segment) into the Clients sheet of the tariff workbook at
    ``path``, where ``rfm_names`` are the segments an earlier run may have written; the rows changed."""
    path = Path(path)
    workbook = open_tariff_workbook(path, "the segments")
    spec = SHEET["Clients"]
    titles = {normalize_header(n) for n in (spec.name, *spec.aliases)}
    sheet = next((workbook[t] for t in workbook.sheetnames if normalize_header(t) in titles), None)
    if sheet is None:
        raise InputError([Problem("segments.no_clients", msg("has no Clients sheet to write the segments into"),
                                  file=str(path))])
    id_column, segments_column = _column(sheet, spec, "client_id"), _column(sheet, spec, "segments")
    if id_column is None:
        raise InputError([Problem("segments.no_clients", msg("the Clients sheet has no client_id column"), sheet="Clients")])
    if segments_column is None:  # a sheet without the optional column gets it after its last one
        segments_column = sheet.max_column + 1
        sheet.cell(row=1, column=segments_column, value="segments")
    ours = {name.casefold() for name in rfm_names}
    changed = 0
    for row in range(2, sheet.max_row + 1):
        client = sheet.cell(row=row, column=id_column).value
        if client is None or text_of(client) == "":
            continue
        cell = sheet.cell(row=row, column=segments_column)
        kept = [s.strip() for s in text_of(cell.value).split(",")] if cell.value is not None else []
        kept = [s for s in kept if s and s.casefold() not in ours]
        new = segments.get(text_of(client))
        value = ", ".join([*kept, new] if new else kept) or None
        if value != (None if cell.value is None else text_of(cell.value)):
            cell.value = value
            changed += 1
    save_workbook(workbook, path)
    return changed


def _column(sheet, spec, name: str) -> int | None:
    """The 1-based column of ``name`` (or one of its aliases) in the header row."""
    column = next(c for c in spec.columns if c.name == name)
    keys = {normalize_header(n) for n in (column.name, *column.aliases)}
    return next((c.column for c in sheet[1] if c.value is not None and normalize_header(c.value) in keys), None)
