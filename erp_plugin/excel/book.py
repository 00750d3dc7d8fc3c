"""An open workbook as the one-click jobs see it, and the file adapter that runs them outside Excel.

The jobs (year-end rebates, the tariff Preview) only read a sheet's values and put
result tables (with their charts) on sheets. ``FileBook`` does that on a file
through openpyxl, so the command line and the tests run every line of a job;
``xlwings_book.ExcelBook`` does it on the workbook open in Excel.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from ..i18n import header, msg
from ..output import style
from ..output.charts import charts_of, openpyxl_chart
from ..output.render import FORMULA_START, column_text
from ..problems import InputError
from ..tables import ColumnKind, Table
from ..xlsx import save_workbook


class Book(Protocol):
    folder: Path  # where relative paths named in the workbook start

    def sheet_names(self) -> list[str]: ...

    def values(self, sheet: str) -> list[list]: ...

    def put_table(self, sheet: str, table: Table, first_row: int = 1) -> None: ...

    def show(self, sheet: str) -> None: ...

    def save(self) -> None: ...


def cell_rows(table: Table, exact: bool = True) -> tuple[list[str], list[list], list[str | None]]:
    """The header, the rows as cell values and each column's number format (output/style.py; None: text).

    Money, quantities and percentages become ``Decimal`` (exact in the file) or, for
    Excel itself (``exact=False``), floats: a cell holds a double either way, and
    1234.56 shows as 1234.56."""
    frame = table.frame.reset_index(drop=True)
    columns, formats = [], []
    for name in frame.columns:
        kind = table.kinds.get(name, ColumnKind("text"))
        values = frame[name]
        if kind.name == "date":
            stamps = pd.to_datetime(values)
            cells = np.where(stamps.isna(), None, stamps.dt.to_pydatetime().astype(object)) if len(values) else []
        elif kind.name == "text":
            cells = column_text(values, kind)
        else:
            text = column_text(values, kind)
            number = Decimal if exact else float
            cells = [None if t is None else (float(t) if kind.name == "float" else int(t) if kind.decimals == 0
                                             else number(t)) for t in text]
        columns.append(list(cells))
        formats.append(style.cell_format(kind))
    return [header(str(n)) for n in frame.columns], [list(row) for row in zip(*columns)], formats


class FileBook:
    """A workbook file through openpyxl: read it, put tables on its sheets, save it atomically."""

    def __init__(self, path: str | Path):
        import openpyxl

        self.path = Path(path)
        self.folder = self.path.parent
        self.workbook = openpyxl.load_workbook(self.path, keep_vba=self.path.suffix.casefold() == ".xlsm")

    def sheet_names(self) -> list[str]:
        return list(self.workbook.sheetnames)

    def values(self, sheet: str) -> list[list]:
        return [list(row) for row in self.workbook[sheet].iter_rows(values_only=True)]

    def put_table(self, sheet: str, table: Table, first_row: int = 1) -> None:
        """Replace everything from ``first_row`` down (and the sheet's charts) with the table and its charts, in
        the look of output/style.py; a table from row 1 gets its header frozen."""
        from openpyxl.utils import get_column_letter

        ws = self.workbook[sheet] if sheet in self.workbook.sheetnames else self.workbook.create_sheet(sheet)
        if ws.max_row >= first_row:
            ws.delete_rows(first_row, ws.max_row - first_row + 1)
        for row in [r for r in ws.row_dimensions if r >= first_row]:  # an earlier run's wrapped rows' heights
            del ws.row_dimensions[row]
        ws._charts = []
        header, rows, formats = cell_rows(table)
        widths = style.label_widths(header, style.column_widths(table.frame, table.kinds))  # header: the labels
        wraps = style.wrapped(table.frame, table.kinds)
        kinds = [table.kinds.get(name, ColumnKind("text")) for name in table.frame.columns]
        ws.row_dimensions[first_row].height = style.LINE_HEIGHT * style.header_lines(pd.DataFrame(columns=header),
                                                                                      widths) + 3
        for r, lines in enumerate(style.text_lines(table.frame, table.kinds, widths, wraps).tolist(), start=first_row + 1):
            if lines > 1:
                ws.row_dimensions[r].height = style.LINE_HEIGHT * lines
        highlighted = {first_row + 1 + i for i in style.highlighted(table.frame)}
        for column, name in enumerate(header, start=1):
            style.openpyxl_header(ws.cell(row=first_row, column=column, value=name))
        for r, row in enumerate(rows, start=first_row + 1):
            for column, (value, fmt, wrap, kind) in enumerate(zip(row, formats, wraps, kinds), start=1):
                cell = ws.cell(row=r, column=column, value=value)
                if isinstance(value, str) and value[:1] in FORMULA_START:  # text, not a formula: Excel's apostrophe
                    cell.data_type, cell.quotePrefix = "s", True
                if fmt:
                    cell.number_format = fmt
                style.openpyxl_data(cell, kind, wrap)
                if r in highlighted:
                    style.openpyxl_highlight(cell)
        above = _widths_above(ws, first_row, len(widths))
        for column, width in enumerate(widths, start=1):  # a table under other content keeps that content readable
            ws.column_dimensions[get_column_letter(column)].width = max(width, above[column - 1])
        if header:
            ws.auto_filter.ref = f"A{first_row}:{get_column_letter(len(header))}{first_row + max(len(rows), 1)}"
        if first_row == 1:
            ws.freeze_panes = "A2"
        for chart in charts_of(table):
            ws.add_chart(openpyxl_chart(chart, sheet, [str(n) for n in table.frame.columns], len(rows), first_row, table.frame))
        from openpyxl.worksheet.properties import PageSetupProperties

        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)  # landscape, one page wide
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0

    def show(self, sheet: str) -> None:
        self.workbook.active = self.workbook.sheetnames.index(sheet)
        for ws in self.workbook.worksheets:
            ws.sheet_view.tabSelected = ws.title == sheet

    def save(self) -> None:
        save_workbook(self.workbook, self.path)


def _widths_above(ws, first_row: int, count: int) -> list[int]:
    """Per column (the first ``count``), the width the cells above row ``first_row`` need: numbers and dates
    always, text only when the cell to its right is filled (text runs on into an empty neighbour)."""
    widths = [0] * count
    for row in ws.iter_rows(min_row=1, max_row=first_row - 1, max_col=count + 1, values_only=True):
        for column in range(min(count, len(row))):
            value, after = row[column], row[column + 1] if column + 1 < len(row) else None
            if value is None or (isinstance(value, str) and after in (None, "")):
                continue
            length = 10 if isinstance(value, (date, datetime)) else len(str(value))
            widths[column] = max(widths[column], min(length + style.PADDING, style.MAX_WIDTH))
    return widths


def file_book(path: str | Path, role: str) -> "FileBook":
    """A workbook file opened for a one-click job, or InputError when it is not a readable .xlsx/.xlsm."""
    from ..xlsx import check_workbook

    problem = check_workbook(Path(path), role)
    if problem:
        raise InputError([problem])
    try:
        return FileBook(path)
    except BaseException as exc:  # openpyxl's and the XML parser's own errors on a damaged workbook
        from ..problems import Problem
        from ..xlsx import library_failed

        if not library_failed(exc):
            raise
        raise InputError([Problem("file.corrupt", msg("cannot be read as a workbook; save it again from Excel "
                                                      "(detail: {error}: {exc})",
                                                      error=type(exc).__name__, exc=exc), file=str(path))]) from None
