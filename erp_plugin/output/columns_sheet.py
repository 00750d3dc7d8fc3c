"""Columns rows written into a tariff workbook: ``erp-plugin read EXPORT --save-columns TARIFFS``.

The reader proposes, for each required field a header lacks, the column that
could be it (erp/proposals.py); this writes those mappings where a manager
would have typed them: the ``Columns`` sheet (or ``Колонки``), a row per field,
replacing the field's earlier row. Everything else in the workbook stays as
it was (openpyxl keeps styles, validations, comments and, for .xlsm, macros),
and the save is atomic.
"""

from __future__ import annotations

from pathlib import Path

from ..erp.fields import normalize_header
from ..i18n import msg
from ..problems import InputError, Problem
from ..tariffs.schema import SHEET
from ..xlsx import check_workbook, save_workbook


def save_columns(path: str | Path, rows: dict[str, str]) -> list[str]:
    """Write ``rows`` (field -> the export's header) into the Columns sheet of the tariff workbook at
    ``path``; the rows written, as ``field | header``. Raises InputError when the file is not a workbook."""
    path = Path(path)
    workbook = open_tariff_workbook(path, "the Columns rows")
    spec = SHEET["Columns"]
    names = {normalize_header(n): n for n in (spec.name, *spec.aliases)}
    sheet = next((workbook[t] for t in workbook.sheetnames if normalize_header(t) in names), None)
    if sheet is None:
        sheet = workbook.create_sheet(spec.name)
        sheet.append([c.name for c in spec.columns])
    where = _columns_of(sheet, spec)
    at = {normalize_header(sheet.cell(row=r, column=where["field"]).value): r
          for r in range(2, sheet.max_row + 1) if sheet.cell(row=r, column=where["field"]).value not in (None, "")}
    free = max([1, *at.values()]) + 1
    written = []
    for field, header in rows.items():
        row = at.get(normalize_header(field))
        if row is None:
            row, free = free, free + 1
        sheet.cell(row=row, column=where["field"], value=field)
        sheet.cell(row=row, column=where["header"], value=header)
        written.append(f"{field} | {header}")
    save_workbook(workbook, path)
    return written


def open_tariff_workbook(path: Path, what: str):
    """The tariff workbook at ``path`` opened by openpyxl to write ``what`` into (macros kept for .xlsm), or
    InputError when it is missing or not a readable workbook."""
    import openpyxl

    problem = check_workbook(path, "tariff workbook") if path.exists() else Problem(
        "file.missing", msg("no such file; give the tariff workbook to write {what} into", what=what), file=str(path))
    if problem:
        raise InputError([problem])
    return openpyxl.load_workbook(path, keep_vba=path.suffix.casefold() == ".xlsm")


def _columns_of(sheet, spec) -> dict[str, int]:
    """The Columns sheet's ``field`` and ``header`` columns (1-based) by their header cells in row 1, under
    either language's name; a sheet without them gets them in its first two columns."""
    found = {}
    for column in spec.columns:
        keys = {normalize_header(n) for n in (column.name, *column.aliases)}
        found[column.name] = next((c.column for c in sheet[1] if c.value is not None and normalize_header(c.value) in keys),
                                  None)
    if None in found.values():
        for index, column in enumerate(spec.columns, start=1):
            sheet.cell(row=1, column=index, value=column.name)
        return {column.name: index for index, column in enumerate(spec.columns, start=1)}
    return found
