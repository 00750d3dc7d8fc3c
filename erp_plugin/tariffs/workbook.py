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
from functools import cached_property
from itertools import zip_longest
from pathlib import Path

from .. import ooxml
from ..erp.fields import normalize_header
from ..i18n import msg
from ..problems import Problem
from ..xlsx import check_workbook, library_failed
from .schema import SheetSpec

HEADER_SEARCH_ROWS = 10  # a header may sit below a short title block
MAX_CELLS = 3_000_000  # cells (rows x columns) the sheets may span: ~270 000 clients, 2.7x the 100 000-client benchmark


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
    """A sheet's (or an Excel Table's) header row and the data rows below it, blank rows left out.

    The values are kept as calamine gives them (``""`` for an empty cell), row by row; the reader
    takes them a whole column at a time (``column``) and makes a ``RawCell``, which knows its
    address, only for a cell it must look at closely (``cell``).
    """

    sheet: str
    header_row: int
    headers: list[Header]
    numbers: list[int]  # the Excel row number of each data row
    rows: list[list]  # each data row's values, from the region's first column
    first_column: int  # 1-based
    formulas: dict[str, str]  # cell -> "=formula" of the formulas with no computed value
    percent: set[str]  # cells formatted as Excel percent

    def find(self, names: tuple[str, ...]) -> Header | None:
        wanted = {normalize_header(n) for n in names}
        return next((h for h in self.headers if h.key in wanted), None)

    def letter(self, index: int) -> str:
        return column_letter(self.first_column + index)

    def column(self, index: int) -> tuple:
        """The values of the region's column ``index``, one per data row (``""`` where a row is short)."""
        return self._columns[index] if index < len(self._columns) else ("",) * len(self.rows)

    @cached_property
    def _columns(self) -> list[tuple]:
        return list(zip_longest(*self.rows, fillvalue=""))  # the rows turned into columns, in one pass

    def cell(self, position: int, index: int) -> RawCell:
        """The cell of data row ``position`` (0-based) in column ``index``."""
        row = self.rows[position]
        return _cell(row[index] if index < len(row) else "", f"{self.letter(index)}{self.numbers[position]}",
                     self.percent, self.formulas)

    def marked(self, index: int) -> list[int]:
        """The data rows whose cell in column ``index`` is a formula with no value or formatted as percent."""
        return self._marked.get(self.letter(index), [])

    @cached_property
    def _marked(self) -> dict[str, list[int]]:
        position = {number: i for i, number in enumerate(self.numbers)}
        found: dict[str, set[int]] = {}
        for ref in (*self.formulas, *self.percent):
            letters, number = _split_ref(ref)
            if int(number) in position:
                found.setdefault(letters, set()).add(position[int(number)])
        return {letters: sorted(rows) for letters, rows in found.items()}


class Workbook:
    """Values from calamine (fast); formulas never calculated, percent formats and Tables from the XML.

    Every sheet is parsed when the workbook is opened, so that a library's failure on a damaged
    part is one problem naming the file and the sheet, never an exception in the middle of reading.
    """

    def __init__(self, path: str, values, archive: zipfile.ZipFile):
        self.path = path
        self._values = values
        self._archive = archive
        self._parts = ooxml.sheet_parts(archive)
        self._percent_styles = ooxml.percent_styles(archive)
        self._sheets: dict[str, _Sheet] = {}

    @classmethod
    def open(cls, path: str | Path) -> tuple[Workbook | None, Problem | None]:
        import python_calamine

        path = Path(path)
        problem = check_workbook(path, "tariff workbook", max_cells=MAX_CELLS)
        if problem:
            return None, problem
        archive, title = None, None
        try:
            archive = zipfile.ZipFile(path)
            workbook = cls(str(path), python_calamine.CalamineWorkbook.from_path(str(path)), archive)
            for title in workbook.sheet_titles():
                workbook._sheets[title] = workbook._load(title)
            return workbook, None
        except BaseException as exc:  # calamine, zipfile and defusedxml raise their own types for damaged files
            if not library_failed(exc):
                raise
            if archive is not None:
                archive.close()
            where = msg("sheet {sheet}: ", sheet=title) if title else ""
            return None, Problem("file.corrupt", msg("{where}cannot be read as a workbook; save it again from Excel "
                                                     "(detail: {error}: {exc})",
                                                     where=where, error=type(exc).__name__, exc=exc), file=str(path))

    def _load(self, title: str) -> _Sheet:
        part = self._parts.get(title)
        xml = self._archive.read(part) if part else b""
        return _Sheet(self._values.get_sheet_by_name(title), ooxml.uncomputed_formulas(xml),
                      ooxml.percent_cells(xml, self._percent_styles), ooxml.tables(self._archive, part) if part else [])

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
        return self._sheets[title].tables

    def _read(self, title: str, ref: str | None, spec: SheetSpec) -> Region:
        sheet = self._sheets[title]
        rows = sheet.values.to_python(skip_empty_area=False)  # its span measured by check_workbook
        formulas, percent = sheet.formulas, sheet.percent
        if ref:
            first, _, last = ref.partition(":")
            first_letters, min_row = _split_ref(first)
            last_letters, max_row = _split_ref(last or first)
            min_col, max_col = column_number(first_letters), column_number(last_letters)
            min_row, max_row = int(min_row), int(max_row)
            rows = [row[min_col - 1 : max_col] for row in rows[min_row - 1 : max_row]]
        else:
            min_col, min_row, max_col = 1, 1, None
        header_at = 0 if ref else _header_index(rows, spec, min_col, min_row, percent, formulas)
        header_cells = [
            _cell(value, f"{column_letter(min_col + i)}{min_row + header_at}", percent, formulas)
            for i, value in enumerate(rows[header_at] if header_at < len(rows) else [])
        ]
        headers = [
            Header(i, column_letter(min_col + i), str(cell.value).strip(), normalize_header(cell.value))
            for i, cell in enumerate(header_cells)
            if not cell.blank
        ]
        last_col = max_col or max((len(row) for row in rows), default=0)
        formula_rows = set()  # a formula with no value inside the region makes its row a data row, to be reported
        for letters, number in map(_split_ref, formulas):
            if min_col <= column_number(letters) <= last_col:
                formula_rows.add(int(number))
        numbers, body = [], []
        for number, values in enumerate(rows[header_at + 1 :], start=min_row + header_at + 1):
            if _filled(values) or number in formula_rows:
                numbers.append(number)
                body.append(values)
        return Region(title, min_row + header_at, headers, numbers, body, min_col, formulas, percent)


@dataclass(frozen=True)
class _Sheet:
    """A sheet as parsed when the workbook opens: calamine's values and what the XML tells."""

    values: object  # python_calamine.CalamineSheet
    formulas: dict[str, str]
    percent: set[str]
    tables: list[tuple[str, str]]


def _filled(values: list) -> bool:
    """Not a blank row: some cell holds a value (text that is not only spaces, a number, a date, ...)."""
    first = values[0] if values else ""
    if type(first) is str and first.strip():
        return True  # the common case, told without looking further
    return any(v.strip() if type(v) is str else v is not None for v in values)


def column_letter(number: int) -> str:
    """``1`` -> ``A``, ``27`` -> ``AA``."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: str) -> int:
    """``A`` -> ``1``, ``AA`` -> ``27``."""
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def _split_ref(ref: str) -> tuple[str, str]:
    """``"AB12"`` -> ``("AB", "12")`` (a ``$`` is dropped)."""
    ref = ref.replace("$", "")
    digits = len(ref) - len(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
    return ref[:digits].upper(), ref[digits:]


def _cell(value, ref: str, percent: set[str], formulas: dict[str, str]) -> RawCell:
    if ref in formulas:
        return RawCell(None, ref, ref in percent, formula=formulas[ref])
    return RawCell(None if value == "" else value, ref, ref in percent)


def _table_key(name: str) -> str:
    key = normalize_header(name)
    return key[3:].lstrip("_") if key.startswith("tbl") else key


def _header_index(rows: list[list], spec: SheetSpec, min_col: int, min_row: int, percent, formulas) -> int:
    """Row 1, unless row 1 lacks the required headers and a row within the first few has them all."""
    required = [c for c in spec.columns if c.required]

    def has_all(at: int) -> bool:
        cells = [_cell(v, f"{column_letter(min_col + i)}{min_row + at}", percent, formulas) for i, v in enumerate(rows[at])]
        keys = {normalize_header(c.value) for c in cells if not c.blank}
        return all(keys & {normalize_header(n) for n in (c.name, *c.aliases)} for c in required)

    if not rows or has_all(0):
        return 0
    for at in range(min(len(rows), HEADER_SEARCH_ROWS)):
        if has_all(at):
            return at
    return 0
