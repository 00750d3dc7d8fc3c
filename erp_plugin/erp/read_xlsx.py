"""Reading an xlsx/xlsm export with calamine: the sheet holding the header, then its rows in chunks.

Every sheet (or the one asked for) is scanned for the header row; the rows
below it come as frames of raw cell objects, one object column per mapped
field, ``_first`` (the sheet's first column, where a totals row says ``Итого``)
and ``source_row`` (the row number Excel shows).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd

from ..i18n import msg
from ..lines import SOURCE_ROW
from ..problems import Problem
from ..xlsx import library_failed
from .header import HEADER_SCAN_ROWS, ExportError, ExportSource, find_header, no_header


def load_xlsx(path: Path, columns: Mapping[str, str], sheet: str | None,
              chunk_rows: int) -> tuple[ExportSource, Iterator[pd.DataFrame]]:
    """The sheet's ExportSource and its rows below the header, ``chunk_rows`` at a time."""
    import python_calamine

    file = str(path)
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(file)
    except BaseException as exc:  # calamine raises its own error types for damaged files
        raise _unreadable(exc, file, None) from None
    names = workbook.sheet_names
    if sheet is not None and sheet not in names:
        raise ExportError(Problem("export.sheet", msg("no sheet {sheet!r}; the workbook has {names}", sheet=sheet, names=', '.join(names)), file=file))
    candidates = [sheet] if sheet else names
    closest: tuple[int, str, list[list]] = (-1, candidates[0] if candidates else "", [])
    for name in candidates:
        try:  # the sheet's span was measured by check_workbook: calamine allocates no more than that
            ws = workbook.get_sheet_by_name(name)
            scanned = ws.to_python(skip_empty_area=False, nrows=HEADER_SCAN_ROWS)
        except BaseException as exc:
            raise _unreadable(exc, file, name) from None
        header_index, fields, complete = find_header(scanned, columns)
        if len(fields) > closest[0]:
            closest = (len(fields), name, scanned)
        if complete:
            first_col = ws.start[1] if ws.start else 0
            width = (ws.end[1] + 1) if ws.end else 0
            headers = ["" if v == "" else str(v) for v in scanned[header_index]]
            rows = max((ws.end[0] + 1) - (header_index + 1), 0) if ws.end else 0
            source = ExportSource(path, "xlsx", name, header_index + 1, headers, width, fields, rows=rows)
            return source, _xlsx_chunks(ws, header_index, fields, first_col, chunk_rows)
    raise no_header(file, closest[2], columns, msg("sheet {sheet}", sheet=closest[1]))


def _unreadable(exc: BaseException, file: str, sheet: str | None) -> BaseException:
    """A library's failure on a damaged workbook as the one problem to report (Ctrl+C and exits go on as they are)."""
    if not library_failed(exc):
        return exc
    where = msg("sheet {sheet}: ", sheet=sheet) if sheet else ""
    return ExportError(Problem("file.corrupt", msg("{where}cannot be read as a workbook; save it again from Excel "
                                                     "(detail: {error}: {exc})",
                                                   where=where, error=type(exc).__name__, exc=exc), file=file))


def _xlsx_chunks(ws, header_index: int, fields: dict[str, int], first_col: int,
                 chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Rows below the header, ``chunk_rows`` at a time. calamine's rows start at row 1 and at the used area's first column."""
    rows = ws.iter_rows()
    for _ in range(header_index + 1):
        next(rows, None)
    first_row = header_index + 2
    while True:
        block = list(islice(rows, chunk_rows))
        if not block:
            return
        transposed = list(zip(*block))
        frame = pd.DataFrame({name: _sheet_column(transposed, index - first_col, len(block)) for name, index in fields.items()})
        frame["_first"] = _sheet_column(transposed, -first_col, len(block))
        frame[SOURCE_ROW] = np.arange(first_row, first_row + len(block), dtype=np.int64)
        first_row += len(block)
        yield frame


def _sheet_column(transposed: list[tuple], at: int, rows: int) -> pd.Series:
    """Column ``at`` of a transposed block of rows, blank where the block has no such column."""
    return pd.Series(transposed[at] if 0 <= at < len(transposed) else ("",) * rows, dtype=object)
