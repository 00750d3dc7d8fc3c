"""The workbook open in Excel, through xlwings: the few lines of the one-click jobs no Linux test runs.

Everything else (what to read, what to write, the cell values and formats, the chart
descriptions) comes from book.py and the jobs, which FileBook runs in the tests.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from openpyxl.utils import get_column_letter

from ..i18n import translate
from ..output import style
from ..output.charts import anchor_column, charts_of
from ..tables import Table
from .book import cell_rows

XL_LINE = 4  # Excel's XlChartType.xlLine, for the lines drawn over the bars (Windows only)


def calling_book() -> ExcelBook:
    import xlwings as xw

    return ExcelBook(xw.Book.caller())


class ExcelBook:
    def __init__(self, book):
        self.book = book
        self.path = Path(book.fullname)
        self.folder = self.path.parent

    def sheet_names(self) -> list[str]:
        return [sheet.name for sheet in self.book.sheets]

    def values(self, sheet: str) -> list[list]:
        ws = self.book.sheets[sheet]
        return ws.range("A1", ws.used_range.last_cell).options(ndim=2).value

    def put_table(self, sheet: str, table: Table, first_row: int = 1) -> None:
        ws = self.book.sheets[sheet] if sheet in self.sheet_names() else self.book.sheets.add(sheet, after=self.book.sheets[-1])
        last = ws.used_range.last_cell
        if last.row >= first_row:
            ws.range((first_row, 1), (last.row, max(last.column, 1))).clear()
        for chart in list(ws.charts):
            chart.delete()
        header, rows, formats = cell_rows(table, exact=False)
        ws.range((first_row, 1)).value = [header, *rows]
        head = ws.range((first_row, 1), (first_row, len(header)))  # the look of output/style.py
        head.font.bold, head.color, head.wrap_text = True, _rgb(style.HEADER_FILL), True
        for column, (fmt, width, wrap) in enumerate(zip(formats, style.column_widths(table.frame, table.kinds),
                                                         style.wrapped(table.frame, table.kinds)), start=1):
            ws.range((first_row, column)).column_width = width
            if rows:
                cells = ws.range((first_row + 1, column), (first_row + len(rows), column))
                if fmt:
                    cells.number_format = fmt
                cells.wrap_text = wrap
        for row in style.highlighted(table.frame):
            ws.range((first_row + 1 + row, 1), (first_row + 1 + row, len(header))).color = _rgb(style.HIGHLIGHT_FILL)
        try:  # Windows: the autofilter over the table
            ws.range((first_row, 1), (first_row + max(len(rows), 1), len(header))).api.AutoFilter()
        except (AttributeError, TypeError):
            pass
        for chart in charts_of(table):
            self._chart(ws, chart, [str(n) for n in table.frame.columns], len(rows), first_row)

    @staticmethod
    def _chart(ws, chart, header: list[str], rows: int, first_row: int) -> None:
        def block(name: str) -> str:
            letter = get_column_letter(header.index(name) + 1)
            return f"{letter}{first_row}:{letter}{first_row + rows}"

        anchor = ws.range((first_row + 1, anchor_column(len(header))))
        made = ws.charts.add(anchor.left, anchor.top, width=680, height=340)
        made.chart_type = "column_clustered"
        made.set_source_data(ws.range(",".join(block(n) for n in (chart.categories, *chart.bars, *chart.lines))))
        try:  # Windows: the title, and the thresholds as lines (the macOS object model differs: bars there)
            made.api[1].HasTitle = True
            made.api[1].ChartTitle.Text = translate(chart.title)
            for number in range(len(chart.bars) + 1, len(chart.bars) + len(chart.lines) + 1):
                made.api[1].SeriesCollection(number).ChartType = XL_LINE
        except (AttributeError, TypeError):
            pass

    def show(self, sheet: str) -> None:
        self.book.sheets[sheet].activate()


    def save(self) -> None:
        """Left to the user: the results are in the open workbook, to look at before saving."""

    def saved_copy(self) -> Path:
        """The workbook as it is on screen, in a temporary copy (Windows' SaveCopyAs), so a job reads the edits
        not saved yet; elsewhere the file as last saved."""
        try:
            target = Path(tempfile.mkdtemp()) / self.path.name
            self.book.api.SaveCopyAs(str(target))
            return target
        except (AttributeError, TypeError):
            return self.path


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (0, 2, 4))
