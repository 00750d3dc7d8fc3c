"""Reading an ERP sales export as it comes: xlsx/xlsm, csv, parquet, with the mess real exports carry.

The header row is found by its headers (built-in aliases of 1C, ERPNext, SAP,
plus the tariff workbook's ``Columns`` sheet), below any title block; blank
rows, group headings and the totals row (``Итого``, ``Всего``, ``Total``) are
not lines. Every value is parsed column-wise; every unreadable one becomes a
problem with its export row (as Excel shows it), field, value and what was
expected. Nothing is written here.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..money import parse_scaled_column
from ..problems import Problem, Problems
from ..xlsx import check_workbook
from .fields import FIELD_ALIASES, FIELDS, REQUIRED_FIELDS, normalize_header
from .lines import SOURCE_ROW, Kind, input_kinds
from .values import parse_date_column, parse_int_column, parse_text_column, parse_vat_column

HEADER_SCAN_ROWS = 30  # the header may sit under a title block this deep
MAX_PROBLEMS_PER_FIELD = 1000  # beyond this a field's bad values are counted, not listed one by one
TOTALS = re.compile(r"^\s*(итого|всего|итог|total|totals|grand total|gesamt)\b", re.IGNORECASE)
XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXPECTED = {
    "date": "a date, e.g. 31.12.2026",
    "text": "a value",
    "int": "a whole number of 0 or more, e.g. 7",
    "money": "an amount, e.g. 1 234,56",
    "qty": "a quantity, e.g. 5 or 2,5",
    "price": "a price, e.g. 1 234,56",
    "pct": "a VAT rate, e.g. 22%",
}


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


@dataclass
class Export:
    lines: pd.DataFrame
    source: ExportSource | None
    problems: Problems


class ExportError(Exception):
    """The export cannot be read at all (no such file, no header row); carries the problem."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def read_export(
    path: str | Path,
    columns: Mapping[str, str] | None = None,
    sheet: str | None = None,
    skip_bad_lines: bool = False,
    minor_units: int = 2,
) -> Export:
    """The lines of an export as a frame of canonical fields (see lines.py), with every problem.

    ``columns`` maps canonical fields to this ERP's own headers (the tariff
    workbook's Columns sheet); they take precedence over the built-in aliases.
    With ``skip_bad_lines`` a line with a bad value is left out and its problems
    are warnings; otherwise they are errors and the caller must not write.
    """
    path = Path(path)
    problems = Problems()
    try:
        grid, source = _load(path, columns or {}, sheet)
    except ExportError as exc:
        problems.extend([exc.problem])
        return Export(pd.DataFrame(), None, problems)
    lines = _parse(grid, source, minor_units, skip_bad_lines, problems)
    return Export(lines, source, problems)


# ------------------------------------------------------------------ loading


def _load(path: Path, columns: Mapping[str, str], sheet: str | None) -> tuple[pd.DataFrame, ExportSource]:
    """The raw cells below the header as a frame of the mapped columns, with ``source_row``."""
    file = str(path)
    suffix = path.suffix.casefold()
    if not path.exists():
        raise ExportError(Problem("file.missing", "no such file; check the path of the export", file=file))
    if suffix in XLSX_SUFFIXES:
        problem = check_workbook(path, "export")
        if problem:
            raise ExportError(problem)
        return _load_xlsx(path, columns, sheet)
    if suffix in CSV_SUFFIXES:
        return _load_csv(path, columns)
    if suffix in PARQUET_SUFFIXES:
        return _load_parquet(path, columns)
    raise ExportError(
        Problem("file.format", f"{suffix or 'no suffix'} is not a supported export; expected .xlsx, .xlsm, .csv or .parquet", file=file)
    )


def match_fields(headers: list, columns: Mapping[str, str]) -> dict[str, int]:
    """Field -> column index for one header row: the Columns sheet first, then the built-in aliases."""
    keys = [normalize_header(h) if isinstance(h, str) and h.strip() else "" for h in headers]
    found: dict[str, int] = {}
    taken: set[int] = set()

    def claim(name: str, wanted: str) -> bool:
        key = normalize_header(wanted)
        for index, header in enumerate(keys):
            if header == key and index not in taken:
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


def _find_header(rows: list[list], columns: Mapping[str, str]) -> tuple[int, dict[str, int], bool]:
    """The first row holding every required field; else the row that maps the most (complete=False)."""
    best = (0, {}, False)
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        fields = match_fields(list(row), columns)
        if all(f in fields for f in REQUIRED_FIELDS):
            return index, fields, True
        if len(fields) > len(best[1]):
            best = (index, fields, False)
    return best


def _no_header(file: str, scanned: list[list], columns: Mapping[str, str], where: str) -> ExportError:
    index, fields, _complete = _find_header(scanned, columns)
    if fields:
        missing = [f for f in REQUIRED_FIELDS if f not in fields]
        hints = "; ".join(f"{f} (e.g. {', '.join(FIELD_ALIASES[f][:3])})" for f in missing)
        message = (
            f"{where}: row {index + 1} looks like the header but has no column for {hints}; "
            "rename the column or map it on the Columns sheet of the tariff workbook"
        )
    else:
        message = (
            f"{where}: no header row with the fields {', '.join(REQUIRED_FIELDS)} in the first "
            f"{HEADER_SCAN_ROWS} rows; map your headers on the Columns sheet of the tariff workbook"
        )
    return ExportError(Problem("export.no_header", message, file=file))


def _load_xlsx(path: Path, columns: Mapping[str, str], sheet: str | None) -> tuple[pd.DataFrame, ExportSource]:
    import python_calamine

    file = str(path)
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(file)
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise ExportError(Problem("file.corrupt", f"cannot be read as a workbook ({exc}); save it again from Excel", file=file)) from None
    names = workbook.sheet_names
    if sheet is not None and sheet not in names:
        raise ExportError(Problem("export.sheet", f"no sheet {sheet!r}; the workbook has {', '.join(names)}", file=file))
    candidates = [sheet] if sheet else names
    closest: tuple[int, str, list[list]] = (-1, candidates[0] if candidates else "", [])
    for name in candidates:
        ws = workbook.get_sheet_by_name(name)
        scanned = ws.to_python(skip_empty_area=False, nrows=HEADER_SCAN_ROWS)
        header_index, fields, complete = _find_header(scanned, columns)
        if len(fields) > closest[0]:
            closest = (len(fields), name, scanned)
        if complete:
            rows = ws.to_python(skip_empty_area=False)
            width = max((len(r) for r in rows), default=0)
            headers = [str(v) if v != "" else "" for v in rows[header_index]]
            body = rows[header_index + 1 :]
            frame = _frame(body, fields, width, header_index + 2, first_column=True)
            source = ExportSource(path, "xlsx", name, header_index + 1, headers, width, fields)
            return frame, source
    raise _no_header(file, closest[2], columns, f"sheet {closest[1]}")


def _frame(body: list[list], fields: dict[str, int], width: int, first_row: int, first_column: bool) -> pd.DataFrame:
    """Columns of the mapped fields from row lists (ragged rows padded), plus source_row."""
    data: dict[str, object] = {}
    if body:
        padded = body if all(len(r) == width for r in body) else [list(r) + [""] * (width - len(r)) for r in body]
        transposed = list(zip(*padded))
        for name, index in fields.items():
            data[name] = pd.Series(transposed[index], dtype=object)
        if first_column:
            data["_first"] = pd.Series(transposed[0], dtype=object)
    frame = pd.DataFrame(data, columns=[*fields, *(["_first"] if first_column else [])])
    frame[SOURCE_ROW] = np.arange(first_row, first_row + len(frame), dtype=np.int64)
    return frame


def _sniff_encoding(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(raw) - 4:  # a character cut by the sample's end
            return "utf-8"
        return "cp1251"


def _sniff_delimiter(lines: list[str]) -> str:
    counts = {d: sum(line.count(d) for line in lines) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: (counts[d], d == ";"))
    return best if counts[best] else ";"


def _load_csv(path: Path, columns: Mapping[str, str]) -> tuple[pd.DataFrame, ExportSource]:
    file = str(path)
    with path.open("rb") as handle:
        sample = handle.read(256 * 1024)
    encoding = _sniff_encoding(sample)
    text = sample.decode(encoding, errors="replace")
    head_lines = text.splitlines()[:HEADER_SCAN_ROWS]
    delimiter = _sniff_delimiter(head_lines)
    scanned = list(csv.reader(io.StringIO("\n".join(head_lines)), delimiter=delimiter))
    header_index, fields, complete = _find_header(scanned, columns)
    if not complete:
        raise _no_header(file, scanned, columns, "the file")
    try:
        body = pd.read_csv(
            path, sep=delimiter, encoding=encoding, header=None, skiprows=header_index + 1, dtype=str,
            keep_default_na=False, skip_blank_lines=False, engine="python" if len(delimiter) > 1 else "c",
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ExportError(Problem("export.csv", f"cannot be read as {delimiter!r}-separated text: {exc}", file=file)) from None
    width = max(len(scanned[header_index]), body.shape[1])
    data = {name: body[index] if index < body.shape[1] else pd.Series([""] * len(body)) for name, index in fields.items()}
    frame = pd.DataFrame(data).astype(object)
    frame["_first"] = body[0].astype(object) if body.shape[1] else ""
    frame[SOURCE_ROW] = np.arange(header_index + 2, header_index + 2 + len(frame), dtype=np.int64)
    headers = list(scanned[header_index])
    return frame, ExportSource(path, "csv", None, header_index + 1, headers, width, fields, encoding, delimiter)


def _load_parquet(path: Path, columns: Mapping[str, str]) -> tuple[pd.DataFrame, ExportSource]:
    file = str(path)
    try:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
    except ImportError:
        raise ExportError(Problem("export.parquet", "reading parquet needs pyarrow: pip install pyarrow", file=file)) from None
    except Exception as exc:  # pyarrow's own error types
        raise ExportError(Problem("file.corrupt", f"cannot be read as parquet ({exc})", file=file)) from None
    headers = list(table.column_names)
    fields = match_fields(headers, columns)
    missing = [f for f in REQUIRED_FIELDS if f not in fields]
    if missing:
        raise _no_header(file, [headers], columns, "the file")
    frame = pd.DataFrame({name: table.column(headers[index]).to_pandas() for name, index in fields.items()})
    frame[SOURCE_ROW] = np.arange(2, 2 + len(frame), dtype=np.int64)
    return frame, ExportSource(path, "parquet", None, 1, headers, len(headers), fields)


# ------------------------------------------------------------------ parsing


def _parse(raw: pd.DataFrame, source: ExportSource, minor_units: int, skip_bad: bool, problems: Problems) -> pd.DataFrame:
    raw = raw.reset_index(drop=True)
    kinds = input_kinds(minor_units)
    present = [f for f in FIELDS if f in raw.columns]
    keep = _line_rows(raw)
    raw = raw[keep].reset_index(drop=True)
    rows = raw[SOURCE_ROW].to_numpy()
    lines = pd.DataFrame({SOURCE_ROW: rows})
    bad_rows = np.zeros(len(raw), dtype=bool)
    for name in present:
        values, bad, blank = _parse_field(raw[name], kinds[name])
        if name in REQUIRED_FIELDS:
            _report(problems, name, raw[name], rows, blank, f"{name} is blank; expected {EXPECTED[kinds[name].name]}", "export.blank", skip_bad)
            bad_rows |= blank
        _report(problems, name, raw[name], rows, bad, None, "export.value", skip_bad, kinds[name])
        bad_rows |= bad
        lines[name] = _column(values, blank | bad, kinds[name])
    if skip_bad and bad_rows.any():
        lines = lines[~bad_rows].reset_index(drop=True)
    return lines


def _line_rows(raw: pd.DataFrame) -> np.ndarray:
    """Rows that are lines: not blank, not a group heading, not a totals row."""
    filled = np.zeros(len(raw), dtype=bool)
    for name in ("doc_id", "client_id", "sku", "qty", "unit_price"):
        if name in raw.columns:
            column = raw[name]
            filled |= ~(column.isna() | column.eq("")).to_numpy()
    totals = np.zeros(len(raw), dtype=bool)
    for name in ("_first", "date", "doc_id"):
        if name in raw.columns and pd.api.types.is_object_dtype(raw[name].dtype):
            totals |= raw[name].astype(str).str.match(TOTALS).to_numpy()
    return filled & ~totals


def _parse_field(values: pd.Series, kind: Kind):
    if kind.name == "date":
        return parse_date_column(values)
    if kind.name == "text":
        return parse_text_column(values)
    if kind.name == "int":
        return parse_int_column(values)
    if kind.name == "pct":
        return parse_vat_column(values)
    return parse_scaled_column(values, kind.decimals)


def _column(values, missing: np.ndarray, kind: Kind):
    if kind.name == "date":
        return values.where(~missing)
    if kind.name == "text":
        return pd.Series(values, dtype=object).where(~missing, None).astype("category")
    values = np.asarray(values, dtype=np.int64)
    if not missing.any():
        return values
    return pd.arrays.IntegerArray(np.where(missing, 0, values), missing.copy())


def _report(problems: Problems, name: str, raw: pd.Series, rows: np.ndarray, mask: np.ndarray, message: str | None,
            code: str, skip_bad: bool, kind: Kind | None = None) -> None:
    add = problems.warning if skip_bad else problems.error
    positions = np.flatnonzero(mask)
    suffix = "; the line is left out" if skip_bad else ""
    for position in positions[:MAX_PROBLEMS_PER_FIELD]:
        text = message or f"{name} {_shown(raw.iloc[position])} is not {EXPECTED[kind.name]}"
        add(code, text + suffix, row=int(rows[position]), field=name)
    if len(positions) > MAX_PROBLEMS_PER_FIELD:
        more = len(positions) - MAX_PROBLEMS_PER_FIELD
        add(code, f"and {more} more lines with the same problem in field {name}", field=name)


def _shown(value) -> str:
    return repr(value.strip() if isinstance(value, str) else value)
