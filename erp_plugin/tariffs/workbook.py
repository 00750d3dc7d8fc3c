"""The tariff workbook as sheets of raw cells, each knowing its address.

Values come from calamine, which reads a 100 000-client sheet in well under a
second (openpyxl takes 8 s a pass); what calamine does not tell is read from the
package XML: a formula with no cached value (the file was written by a program
and never recalculated: the cell is marked so the reader can say how to fix it),
Excel's percent formats, and Excel Tables.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl.utils import get_column_letter, range_boundaries

from .. import ooxml
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
    """Values from calamine (fast); formulas never calculated, percent formats and Tables from the XML."""

    def __init__(self, path: str, values, archive: zipfile.ZipFile):
        self.path = path
        self._values = values
        self._archive = archive
        self._parts = ooxml.sheet_parts(archive)
        self._percent_styles = ooxml.percent_styles(archive)

    @classmethod
    def open(cls, path: str | Path) -> tuple[Workbook | None, Problem | None]:
        import python_calamine

        path = Path(path)
        problem = check_workbook(path, "tariff workbook")
        if problem:
            return None, problem
        try:
            archive = zipfile.ZipFile(path)
            values = python_calamine.CalamineWorkbook.from_path(str(path))
            return cls(str(path), values, archive), None
        except Exception as exc:  # calamine and the zip reader raise their own types for damaged files
            return None, Problem("file.corrupt", f"cannot be read as a workbook ({exc}); save it again from Excel", file=str(path))

    def close(self) -> None:
        self._archive.close()

    def sheet_titles(self) -> list[str]:
        return list(self._values.sheet_names)

    def region(self, spec: SheetSpec) -> Region | None:
        """The region holding ``spec``'s data: a sheet named like it, else an Excel Table named like it."""
        names = {normalize_header(n) for n in (spec.name, *spec.aliases)}
        for title in self.sheet_titles():
            if normalize_header(title) in names:
                found = self._tables(title)
                table = next((ref for name, ref in found if _table_key(name) in names), found[0][1] if found else None)
                return self._read(title, table, spec)
        for title in self.sheet_titles():
            for name, ref in self._tables(title):
                if _table_key(name) in names:
                    return self._read(title, ref, spec)
        return None

    def _tables(self, title: str) -> list[tuple[str, str]]:
        part = self._parts.get(title)
        return ooxml.tables(self._archive, part) if part else []

    def _read(self, title: str, ref: str | None, spec: SheetSpec) -> Region:
        rows = self._values.get_sheet_by_name(title).to_python(skip_empty_area=False)
        part = self._parts.get(title)
        xml = self._archive.read(part) if part else b""
        formulas = ooxml.uncomputed_formulas(xml)
        percent = ooxml.percent_cells(xml, self._percent_styles)
        if ref:
            min_col, min_row, max_col, max_row = range_boundaries(ref)
        else:
            min_col, min_row = 1, 1
            max_row = max(len(rows), 1)
            max_col = max([len(r) for r in rows] + [1])
        grid = []
        for r in range(min_row, max_row + 1):
            values = rows[r - 1] if r - 1 < len(rows) else []
            grid.append([
                _cell(values[c - 1] if c - 1 < len(values) else None, f"{get_column_letter(c)}{r}", percent, formulas)
                for c in range(min_col, max_col + 1)
            ])
        header_at = 0 if ref else _header_index(grid, spec)
        headers = [
            Header(i, get_column_letter(min_col + i), str(cell.value).strip(), normalize_header(cell.value))
            for i, cell in enumerate(grid[header_at] if grid else [])
            if not cell.blank
        ]
        body = [
            (min_row + i, cells)
            for i, cells in enumerate(grid[header_at + 1 :], start=header_at + 1)
            if not all(c.blank for c in cells)
        ]
        return Region(title, min_row + header_at, headers, body)


def _cell(value, ref: str, percent: set[str], formulas: dict[str, str]) -> RawCell:
    if ref in formulas:
        return RawCell(None, ref, ref in percent, formula=formulas[ref])
    return RawCell(None if value == "" else value, ref, ref in percent)


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
