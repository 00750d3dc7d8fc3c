"""Blank cells that are formulas nobody calculated (SPEC §6: an uncalculated formula says so, not "blank").

A workbook written by a program (openpyxl, a report generator) may hold formulas
without their results: Excel calculates them on opening, but a reader sees an
empty cell. Only when the reader found blank required values in an xlsx export
are those cells looked up here, with openpyxl's streaming reader, from the first
such row to the last: the common path pays nothing.
"""

from __future__ import annotations

from pathlib import Path

from ..i18n import msg
from ..problems import Problem


def explain_uncalculated(path: Path, sheet: str | None, columns: dict[str, int], problems: list[Problem]) -> list[Problem]:
    """``problems`` with each "is blank" problem of a cell that holds an uncalculated formula told so."""
    blanks = [p for p in problems if p.code == "export.blank" and p.row is not None and p.field in columns]
    if not blanks:
        return problems
    formulas = _formulas(path, sheet, {(p.row, columns[p.field]) for p in blanks})
    if not formulas:
        return problems
    told = []
    for problem in problems:
        at = (problem.row, columns.get(problem.field, -1))
        formula = formulas.get(at) if problem.code == "export.blank" else None
        told.append(problem if formula is None else Problem(
            "export.formula", msg("{field} is a formula with no calculated value ({formula}): the file was saved by a "
                                  "program that does not calculate; open it in Excel or LibreOffice and save it, "
                                  "then run again", field=problem.field, formula=formula), problem.severity,
            row=problem.row, field=problem.field))
    return told


def _formulas(path: Path, sheet: str | None, cells: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """The formulas at ``cells`` (Excel row, 0-based column), read by openpyxl's streaming reader; {} when the
    file cannot be read so (the blank problems then stand as they are)."""
    import openpyxl

    rows = sorted({row for row, _ in cells})
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - a damaged file was already answered by the reader; keep its problems
        return {}
    try:
        ws = workbook[sheet] if sheet in workbook.sheetnames else workbook.worksheets[0]
        found = {}
        for row in ws.iter_rows(min_row=rows[0], max_row=rows[-1]):
            for cell in row:
                key = (getattr(cell, "row", None), getattr(cell, "column", 0) - 1)
                if key in cells and cell.data_type == "f":
                    found[key] = str(cell.value)
        return found
    except Exception:  # noqa: BLE001 - as above
        return {}
    finally:
        workbook.close()
