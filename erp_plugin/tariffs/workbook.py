"""The tariff workbook as sheets of raw cells, each knowing its address.

openpyxl loads the file twice: once for formulas, once for the values Excel
cached. A formula with no cached value means the file was written by a program
and never recalculated; the cell is marked so the reader can say how to fix it.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter, range_boundaries

from ..erp.fields import normalize_header
from ..problems import Problem
from ..xlsx import check_workbook
from .schema import SheetSpec

HEADER_SEARCH_ROWS = 10  # a header may sit below a short title block


@dataclass(frozen=True)
class RawCell:
    value: object
    ref: str
    percent: bool = False  # formatted as a percentage: Excel stores 5 % as 0.05
    formula: str | None = None  # set when the cell is a formula with no computed value

    @property
    def blank(self) -> bool:
        return self.formula is None and (self.value is None or (isinstance(self.value, str) and not self.value.strip()))


@dataclass(frozen=True)
class Header:
    index: int  # 0-based column within the region
    letter: str
    text: str
    key: str  # normalized


@dataclass
class Region:
    """A sheet's (or an Excel Table's) header row and the data rows below it."""

    sheet: str
    header_row: int
    headers: list[Header]
    rows: list[tuple[int, list[RawCell]]]  # (Excel row number, cells in header order)

    def find(self, names: tuple[str, ...]) -> Header | None:
        wanted = {normalize_header(n) for n in names}
        return next((h for h in self.headers if h.key in wanted), None)


class Workbook:
    def __init__(self, formulas: openpyxl.Workbook, values: openpyxl.Workbook, path: str):
        self._formulas = formulas
        self._values = values
        self.path = path

    @classmethod
    def open(cls, path: str | Path) -> tuple[Workbook | None, Problem | None]:
        path = Path(path)
        problem = check_workbook(path, "tariff workbook")
        if problem:
            return None, problem
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about extensions it does not read
                formulas = openpyxl.load_workbook(path, data_only=False)
                values = openpyxl.load_workbook(path, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError) as exc:
            return None, Problem(
                "file.corrupt", f"cannot be read as a workbook ({exc}); save it again from Excel", file=str(path)
            )
        return cls(formulas, values, str(path)), None

    def sheet_titles(self) -> list[str]:
        return list(self._formulas.sheetnames)

    def region(self, spec: SheetSpec) -> Region | None:
        """The region holding ``spec``'s data: a sheet named like it, else an Excel Table named like it."""
        names = {normalize_header(n) for n in (spec.name, *spec.aliases)}
        for title in self._formulas.sheetnames:
            if normalize_header(title) in names:
                ws = self._formulas[title]
                tables = list(ws.tables.values())
                table = next((t for t in tables if _table_key(t.name) in names), tables[0] if tables else None)
                if table is not None:
                    return self._read(title, table.ref, spec, from_table=True)
                return self._read(title, None, spec, from_table=False)
        for title in self._formulas.sheetnames:
            for table in self._formulas[title].tables.values():
                if _table_key(table.name) in names:
                    return self._read(title, table.ref, spec, from_table=True)
        return None

    def _read(self, title: str, ref: str | None, spec: SheetSpec, from_table: bool) -> Region:
        f_ws, v_ws = self._formulas[title], self._values[title]
        if ref:
            min_col, min_row, max_col, max_row = range_boundaries(ref)
        else:
            min_col, min_row, max_col, max_row = 1, 1, max(f_ws.max_column, 1), max(f_ws.max_row, 1)
        grid = [
            [self._cell(f_ws, v_ws, r, c) for c in range(min_col, max_col + 1)] for r in range(min_row, max_row + 1)
        ]
        header_at = 0
        if not from_table:
            header_at = _header_index(grid, spec)
        headers = [
            Header(i, get_column_letter(min_col + i), str(cell.value).strip(), normalize_header(cell.value))
            for i, cell in enumerate(grid[header_at] if grid else [])
            if not cell.blank
        ]
        rows = [
            (min_row + i, cells)
            for i, cells in enumerate(grid[header_at + 1 :], start=header_at + 1)
            if not all(c.blank for c in cells)
        ]
        return Region(title, min_row + header_at, headers, rows)

    @staticmethod
    def _cell(f_ws, v_ws, row: int, col: int) -> RawCell:
        f_cell = f_ws.cell(row=row, column=col)
        ref = f"{get_column_letter(col)}{row}"
        percent = is_percent_format(f_cell.number_format)
        raw = f_cell.value
        is_formula = f_cell.data_type == "f" or (isinstance(raw, str) and raw.startswith("="))
        if not is_formula:
            return RawCell(raw, ref, percent)
        value = v_ws.cell(row=row, column=col).value
        if value is None:
            text = raw if isinstance(raw, str) else getattr(raw, "text", None) or "=…"
            return RawCell(None, ref, percent, formula=text)
        return RawCell(value, ref, percent)


def is_percent_format(number_format: str | None) -> bool:
    """True for Excel's percent formats (``0%``, ``0.00%``), where 5 % is stored as 0.05.

    A ``%`` inside quotes or escaped (``0.0" %"``, ``0\\%``) is only shown, not applied.
    """
    shown = re.sub(r'"[^"]*"|\\.', "", number_format or "")
    return "%" in shown


def _table_key(name: str) -> str:
    key = normalize_header(name)
    return key[3:].lstrip("_") if key.startswith("tbl") else key


def _header_index(grid: list[list[RawCell]], spec: SheetSpec) -> int:
    """Row 1, unless row 1 lacks the required headers and a row within the first few has them all."""
    required = [c for c in spec.columns if c.required]

    def has_all(cells: list[RawCell]) -> bool:
        keys = {normalize_header(c.value) for c in cells if not c.blank}
        return all(keys & {normalize_header(n) for n in (c.name, *c.aliases)} for c in required)

    if not grid or has_all(grid[0]):
        return 0
    for i, cells in enumerate(grid[:HEADER_SEARCH_ROWS]):
        if has_all(cells):
            return i
    return 0
