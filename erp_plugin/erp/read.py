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
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

import numpy as np
import pandas as pd

from ..lines import SOURCE_ROW, input_kinds
from ..parsing import parse_scaled_column
from ..problems import InputError, Problem, Problems
from ..tables import ColumnKind
from ..parallel import workers
from ..xlsx import check_workbook
from .arrow_values import parse_arrow_column
from .fields import FIELD_ALIASES, FIELDS, REQUIRED_FIELDS, normalize_header
from .values import (
    parse_date_column,
    parse_int_column,
    parse_text_column,
    parse_vat_column,
)

HEADER_SCAN_ROWS = 30  # the header may sit under a title block this deep
CHUNK_ROWS = 50_000  # rows parsed at a time: bounds the memory of raw cell objects
TEXT_FIELDS = ("doc_id", "client_id", "sku", "name", "category", "marker", "payment", "coupon", "base_doc")
PARQUET_BATCH_ROWS = 20_000_000  # parquet columns are compact: a whole file of this size is one batch
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
    "percent": "a percentage, e.g. 12,5",
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
    counts: dict[tuple[str, str], int] = {}
    parts: list[pd.DataFrame] = []
    try:
        source, chunks = _load(path, columns or {}, sheet)
        for raw in chunks:
            parts.append(_parse(raw, minor_units, skip_bad_lines, problems, counts))
    except ExportError as exc:
        problems.extend([exc.problem])
        return Export(pd.DataFrame(), None, problems)
    _report_overflow(problems, counts, skip_bad_lines)
    return Export(_concat(parts), source, problems)


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Chunks into one frame; text columns stay categorical across chunks."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return pd.DataFrame({SOURCE_ROW: np.zeros(0, dtype=np.int64)})
    joined = {}
    for name in parts[0].columns:
        pieces = [part[name] for part in parts]
        if all(isinstance(p.dtype, pd.CategoricalDtype) for p in pieces):
            joined[name] = _union_categoricals(pieces)
        else:
            joined[name] = pd.concat(pieces, ignore_index=True)
    return pd.DataFrame(joined)


def _union_categoricals(pieces: list[pd.Series]) -> pd.Categorical:
    """One categorical from several: every piece's categories factorized once, codes remapped by lookup."""
    categories = [p.cat.categories.to_numpy(dtype=object) for p in pieces]
    mapping, unique = pd.factorize(np.concatenate(categories)) if categories else (np.zeros(0, np.int64), [])
    offsets = np.cumsum([0] + [len(c) for c in categories])
    codes = []
    for piece, offset in zip(pieces, offsets):
        own = piece.array.codes
        remapped = np.full(len(own), -1, dtype=np.int64)
        valid = own >= 0
        remapped[valid] = mapping[own[valid] + offset]
        codes.append(remapped)
    return pd.Categorical.from_codes(np.concatenate(codes), categories=pd.Index(unique))


# ------------------------------------------------------------------ loading


def _load(path: Path, columns: Mapping[str, str], sheet: str | None) -> tuple[ExportSource, Iterator[pd.DataFrame]]:
    """Where the lines are, and the raw cells below the header in chunks of the mapped columns.

    Each chunk is a frame of object columns (one per mapped field), ``_first`` (the
    sheet's first column, for totals rows) and ``source_row``; chunks bound the
    memory that raw Python cell objects take on big exports.
    """
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


def _load_xlsx(path: Path, columns: Mapping[str, str], sheet: str | None) -> tuple[ExportSource, Iterator[pd.DataFrame]]:
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
            first_col = ws.start[1] if ws.start else 0
            width = (ws.end[1] + 1) if ws.end else 0
            headers = ["" if v == "" else str(v) for v in scanned[header_index]]
            source = ExportSource(path, "xlsx", name, header_index + 1, headers, width, fields)
            return source, _xlsx_chunks(ws, header_index, fields, first_col)
    raise _no_header(file, closest[2], columns, f"sheet {closest[1]}")


def _xlsx_chunks(ws, header_index: int, fields: dict[str, int], first_col: int) -> Iterator[pd.DataFrame]:
    """Rows below the header, CHUNK_ROWS at a time. calamine's rows start at row 1 and at the used area's first column."""
    rows = ws.iter_rows()
    for _ in range(header_index + 1):
        next(rows, None)
    first_row = header_index + 2
    while True:
        block = list(islice(rows, CHUNK_ROWS))
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


def _load_csv(path: Path, columns: Mapping[str, str]) -> tuple[ExportSource, Iterator[pd.DataFrame]]:
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
    headers = list(scanned[header_index])
    source = ExportSource(path, "csv", None, header_index + 1, headers, len(headers), fields, encoding, delimiter)
    return source, _csv_chunks(path, source, header_index)


def _csv_chunks(path: Path, source: ExportSource, header_index: int) -> Iterator[pd.DataFrame]:
    first_row = header_index + 2
    try:
        reader = pd.read_csv(
            path, sep=source.delimiter, encoding=source.encoding, header=None, skiprows=header_index + 1, dtype=str,
            keep_default_na=False, skip_blank_lines=False, chunksize=CHUNK_ROWS,
        )
        for body in reader:
            n = len(body)
            data = {
                name: body[index].astype(object) if index in body.columns else pd.Series([""] * n, dtype=object)
                for name, index in source.fields.items()
            }
            frame = pd.DataFrame(data).reset_index(drop=True)
            frame["_first"] = body[0].astype(object).to_numpy() if 0 in body.columns else ""
            frame[SOURCE_ROW] = np.arange(first_row, first_row + n, dtype=np.int64)
            first_row += n
            yield frame
    except pd.errors.EmptyDataError:  # nothing below the header: no lines
        return
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        problem = Problem("export.csv", f"cannot be read as {source.delimiter!r}-separated text: {exc}", file=str(path))
        raise ExportError(problem) from None


def _load_parquet(path: Path, columns: Mapping[str, str]) -> tuple[ExportSource, Iterator[ArrowBatch]]:
    file = str(path)
    try:
        import pyarrow.parquet as pq

        metadata = pq.read_metadata(path)
    except Exception as exc:  # pyarrow's own error types
        raise ExportError(Problem("file.corrupt", f"cannot be read as parquet ({exc})", file=file)) from None
    headers = list(metadata.schema.to_arrow_schema().names)
    fields = match_fields(headers, columns)
    if any(f not in fields for f in REQUIRED_FIELDS):
        raise _no_header(file, [headers], columns, "the file")
    source = ExportSource(path, "parquet", None, 1, headers, len(headers), fields)
    text = {name for name in fields if name in TEXT_FIELDS}
    return source, _parquet_batches(path, metadata, {name: headers[index] for name, index in fields.items()}, text)


def _keep_decimals(arrow_type):
    """Decimals stay Arrow decimals (parsed exactly from their unscaled integers), never Python Decimals or floats."""
    import pyarrow as pa

    return pd.ArrowDtype(arrow_type) if pa.types.is_decimal(arrow_type) else None


def _parquet_batches(path: Path, metadata, headers: dict[str, str], text: set[str]) -> Iterator[ArrowBatch]:
    """The file's row groups in batches of up to PARQUET_BATCH_ROWS lines (a bigger row group alone)."""
    first_row, groups, rows = 2, [], 0
    for g in range(metadata.num_row_groups):
        group_rows = metadata.row_group(g).num_rows
        if groups and rows + group_rows > PARQUET_BATCH_ROWS:
            yield ArrowBatch(ParquetColumns(path, metadata, groups, headers, text), np.arange(first_row, first_row + rows))
            first_row, groups, rows = first_row + rows, [], 0
        groups.append(g)
        rows += group_rows
    if groups or not metadata.num_row_groups:
        yield ArrowBatch(ParquetColumns(path, metadata, groups, headers, text), np.arange(first_row, first_row + rows))


class ParquetColumns(Mapping):
    """A parquet file's columns over some of its row groups, each read from the file when looked up.

    Nothing is held: the parser reads a column, parses it and lets it go, so a
    big file never has its whole Arrow table in memory beside the parsed lines.
    Text columns come as each row group's dictionary (distinct values parsed
    once, codes spread them).
    """

    def __init__(self, path: Path, metadata, groups: list[int], headers: Mapping[str, str], text: set[str]):
        self.path, self.metadata, self.groups, self.headers, self.text = path, metadata, groups, dict(headers), text
        self.dictionary = [headers[name] for name in text]

    def __getitem__(self, name: str):
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(self.path, metadata=self.metadata, read_dictionary=self.dictionary)
            return parquet.read_row_groups(self.groups, columns=[self.headers[name]]).column(0)
        except Exception as exc:  # pyarrow's own error types: a damaged page, a file changed meanwhile
            raise ExportError(Problem("file.corrupt", f"column {self.headers[name]} cannot be read as parquet ({exc})",
                                      file=str(self.path))) from None

    def row_groups(self, name: str) -> Iterator:
        """The column of each row group in turn, each read when reached."""
        for group in self.groups:
            yield ParquetColumns(self.path, self.metadata, [group], self.headers, self.text)[name]

    def __iter__(self):
        return iter(self.headers)

    def __len__(self) -> int:
        return len(self.headers)


@dataclass
class ArrowBatch:
    """Parquet rows as the parser takes them: each field's Arrow column, read when asked for, and the rows' numbers."""

    fields: ParquetColumns
    rows: np.ndarray
    kept: np.ndarray | None = None  # which of the fields' rows are this batch's (None: all)

    @property
    def columns(self) -> list[str]:
        return [*self.fields, *[SOURCE_ROW] * (SOURCE_ROW not in self.fields)]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, name: str):
        import pyarrow as pa

        if name == SOURCE_ROW and name not in self.fields:
            return self.rows
        column = self.fields[name]
        return column if self.kept is None else column.filter(pa.array(self.kept))

    def keep(self, mask: np.ndarray) -> ArrowBatch:
        """The rows of this batch (which holds all its fields' rows) where ``mask``."""
        return self if mask.all() else ArrowBatch(self.fields, self.rows[mask], mask.copy())

    def pieces(self, name: str) -> Iterator:
        """One field's column a row group at a time (read when reached), when the batch holds all of its
        rows; else the column whole."""
        if self.kept is None and len(self.fields.groups) > 1:
            return self.fields.row_groups(name)
        return iter([self[name]])

    def values(self, name: str, positions: np.ndarray) -> list:
        """The raw values at ``positions`` of one field (for problem messages: the column is read once more)."""
        import pyarrow as pa

        return self[name].take(pa.array(positions, type=pa.int64())).to_pylist()


def read_priced(path: str | Path, kinds: Mapping[str, ColumnKind], columns: list[str]) -> pd.DataFrame:
    """``columns`` of lines a run wrote to parquet (``source_row``, the export's fields, the results), read
    back by the same parsers, each as the run held it; for period jobs over priced lines.

    Raises InputError: a missing or unreadable file, a column it lacks, a value
    that does not parse (with its export row, from ``source_row``).
    """
    import pyarrow.parquet as pq

    file = str(path)
    try:
        metadata = pq.read_metadata(path)
        names = metadata.schema.to_arrow_schema().names
    except Exception as exc:  # pyarrow's own error types, or no such file
        raise InputError([Problem("file.corrupt", f"cannot be read as parquet ({exc})", file=file)]) from None
    missing = [c for c in columns if c not in names]
    if missing:
        raise InputError([Problem("priced.column", f"has no column {name}; expected the parquet output of "
                                  "erp-plugin price", file=file) for name in missing])
    fields = ParquetColumns(path, metadata, list(range(metadata.num_row_groups)), {c: c for c in columns},
                            {c for c in columns if kinds[c].name == "text"})
    try:
        rows = fields[SOURCE_ROW].to_numpy() if SOURCE_ROW in columns else np.arange(2, 2 + metadata.num_rows)
        batch = ArrowBatch(fields, np.asarray(rows, dtype=np.int64))
        parsed = parse_fields(batch, {c: kinds[c] for c in columns})
    except ExportError as exc:
        raise InputError([exc.problem]) from None
    problems, counts = Problems(), {}
    report = _Reporter(problems, counts, False, batch, batch.rows)
    for name in columns:  # a priced line has every value its run read or computed
        _, bad, blank = parsed[name]
        report(name, bad | (blank & (name in REQUIRED_FIELDS)), "priced.value",
               lambda value, n=name: f"{n} {_shown(value)} is not {EXPECTED[kinds[n].name]}")
    _report_overflow(problems, counts, False)
    if problems.errors:
        raise InputError(problems.errors)
    return pd.DataFrame({c: parsed[c][0] for c in columns}, copy=False)


# ------------------------------------------------------------------ parsing


def _parse(raw: pd.DataFrame | ArrowBatch, minor_units: int, skip_bad: bool, problems: Problems, counts: dict) -> pd.DataFrame:
    kinds = input_kinds(minor_units)
    present = [f for f in FIELDS if f in raw.columns]
    if isinstance(raw, ArrowBatch):  # typed columns, each read once: parsed first, then the rows that are lines kept
        parsed = parse_fields(raw, {name: kinds[name] for name in present})
        filled = np.zeros(len(raw), dtype=bool)
        for name in LINE_FIELDS:
            if name in parsed:
                filled |= ~parsed[name][2]
        if not filled.all():
            raw = raw.keep(filled)
            parsed = {name: tuple(part[filled] for part in column) for name, column in parsed.items()}
    else:
        raw = raw.reset_index(drop=True)
        raw = raw[_line_rows(raw)].reset_index(drop=True)
        parsed = parse_fields(raw, {name: kinds[name] for name in present})
    rows = np.asarray(raw[SOURCE_ROW])
    lines = {SOURCE_ROW: rows}
    bad_rows = np.zeros(len(raw), dtype=bool)
    report = _Reporter(problems, counts, skip_bad, raw, rows)
    for name in present:
        kind = kinds[name]
        values, bad, blank = parsed[name]
        if name in REQUIRED_FIELDS:
            report(name, blank, "export.blank", lambda _value, n=name, k=kind: f"{n} is blank; expected {EXPECTED[k.name]}")
            bad_rows |= blank
        report(name, bad, "export.value", lambda value, n=name, k=kind: f"{n} {_shown(value)} is not {EXPECTED[k.name]}")
        bad_rows |= bad
        lines[name] = values
    frame = pd.DataFrame(lines, copy=False)  # the parsed arrays as they are: no copy, no consolidation
    if skip_bad and bad_rows.any():
        frame = frame[~bad_rows].reset_index(drop=True)
    return frame


class _Reporter:
    """Adds a problem per bad cell, up to MAX_PROBLEMS_PER_FIELD per field and code over all chunks."""

    def __init__(self, problems: Problems, counts: dict, skip_bad: bool, raw: pd.DataFrame | ArrowBatch, rows: np.ndarray):
        self.problems, self.counts, self.skip_bad, self.raw, self.rows = problems, counts, skip_bad, raw, rows

    def __call__(self, name: str, mask: np.ndarray, code: str, message) -> None:
        positions = np.flatnonzero(mask)
        if not len(positions):
            return
        seen = self.counts.get((name, code), 0)
        self.counts[(name, code)] = seen + len(positions)
        add = self.problems.warning if self.skip_bad else self.problems.error
        suffix = "; the line is left out" if self.skip_bad else ""
        shown = positions[: max(0, MAX_PROBLEMS_PER_FIELD - seen)]
        if not len(shown):
            return
        raw = self.raw
        values = raw.values(name, shown) if isinstance(raw, ArrowBatch) else list(raw[name].iloc[shown])
        for position, value in zip(shown, values):
            add(code, message(value) + suffix, row=int(self.rows[position]), field=name)


def _report_overflow(problems: Problems, counts: dict, skip_bad: bool) -> None:
    add = problems.warning if skip_bad else problems.error
    for (name, code), count in counts.items():
        if count > MAX_PROBLEMS_PER_FIELD:
            add(code, f"and {count - MAX_PROBLEMS_PER_FIELD} more lines with the same problem in field {name}", field=name)


LINE_FIELDS = ("doc_id", "client_id", "sku", "qty", "unit_price")  # a row with all of them blank is not a line


def _line_rows(raw: pd.DataFrame) -> np.ndarray:
    """Rows that are lines: not blank, not a group heading, not a totals row."""
    filled = np.zeros(len(raw), dtype=bool)
    for name in LINE_FIELDS:
        if name in raw.columns:
            column = raw[name]
            if column.dtype == object or isinstance(column.dtype, pd.CategoricalDtype):
                filled |= ~_per_value(column, lambda s: (s.isna() | s.astype(str).str.strip().eq("")).to_numpy(), True)
            else:  # a typed column: only a null is blank
                filled |= ~column.isna().to_numpy()
    totals = np.zeros(len(raw), dtype=bool)
    for name in ("_first", "date", "doc_id"):
        if name in raw.columns and (raw[name].dtype == object or isinstance(raw[name].dtype, pd.CategoricalDtype)):
            totals |= _per_value(raw[name], lambda s: s.astype(str).str.match(TOTALS).to_numpy(), False)
    return filled & ~totals


def _per_value(column: pd.Series, test, missing_value: bool) -> np.ndarray:
    """``test`` of each cell, evaluated once per distinct value when the column is categorical."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return np.asarray(test(column), dtype=bool)
    per_category = np.asarray(test(pd.Series(column.cat.categories.to_numpy(dtype=object), dtype=object)), dtype=bool)
    codes = column.array.codes
    return np.where(codes < 0, missing_value, np.append(per_category, missing_value)[codes])


def parse_fields(raw: pd.DataFrame | ArrowBatch, kinds: dict[str, ColumnKind]) -> dict[str, tuple]:
    """Each column of ``kinds`` parsed: ``(column for the lines frame, bad, blank)``.

    A parquet batch's columns are parsed side by side on a thread pool: their
    work is Arrow and numpy over whole columns, outside the GIL. Cell values
    (xlsx, csv) go one column after the other.
    """
    def parse(name: str) -> tuple:
        kind = kinds[name]
        if isinstance(raw, ArrowBatch) and kind.name != "text":  # row by row: a row group's raw values at a time
            return _parsed_in_pieces(raw.pieces(name), len(raw), kind)
        values, bad, blank = _parse_field(raw[name], kind)
        return _column(values, blank | bad, kind), bad, blank

    if not isinstance(raw, ArrowBatch) or len(kinds) < 2:
        return {name: parse(name) for name in kinds}
    with ThreadPoolExecutor(max_workers=workers(len(kinds))) as pool:
        return dict(zip(kinds, pool.map(parse, kinds)))


def _parsed_in_pieces(pieces: Iterator, rows: int, kind: ColumnKind) -> tuple:
    """A row-wise field parsed piece by piece (a row group each), every piece copied into the whole
    columns and let go before the next is read: the memory of one piece beside the result. Then
    finished as _column finishes a whole one: a blank or bad value is 0 (NaT for a date) and, in
    numbers, missing."""
    parts = (_parse_field(piece, kind) for piece in pieces)
    first = next(parts)
    columns = [np.empty(rows, dtype=np.asarray(part).dtype) for part in first]
    start = 0
    for part in chain([first], parts):
        size = len(part[1])
        for column, values in zip(columns, part):
            column[start:start + size] = values
        start += size
    values, bad, blank = columns
    missing = bad | blank
    if kind.name == "date":
        values[missing] = np.datetime64("NaT")
        return values, bad, blank
    values = np.asarray(values, dtype=np.int64)
    if not missing.any():
        return values, bad, blank
    values[missing] = 0
    return pd.arrays.IntegerArray(values, missing), bad, blank


def _parse_field(values, kind: ColumnKind):
    """Parse a raw column: an Arrow one (parquet) from its buffers where its type allows, a categorical
    one once per distinct value."""
    if not isinstance(values, pd.Series):
        parsed = parse_arrow_column(values, kind)
        if parsed is not None:
            return parsed
        values = values.to_pandas(types_mapper=_keep_decimals, date_as_object=False)
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _parse_categories(values, kind)
    return _parse_values(values, kind)


def _parse_categories(values: pd.Series, kind: ColumnKind):
    codes = values.array.codes
    categories = values.cat.categories
    distinct = pd.Series(categories) if pd.api.types.is_string_dtype(categories.dtype) and categories.dtype != object \
        else pd.Series(categories.to_numpy(dtype=object), dtype=object)
    parsed, bad, blank = _parse_values(distinct, kind)
    missing = codes < 0
    take = np.where(missing, 0, codes)
    if len(bad) == 0:  # no categories at all: every cell is blank
        return _parse_values(pd.Series([None] * len(values), dtype=object), kind)
    bad_out = np.where(missing, False, bad[take])
    blank_out = missing | blank[take]
    if kind.name == "text":
        labels = pd.Series(parsed, dtype=object)
        inverse, unique = pd.factorize(labels, use_na_sentinel=True)
        new_codes = np.where(blank_out, -1, inverse[take])
        return pd.Categorical.from_codes(new_codes, categories=pd.Index(unique, dtype=object)), bad_out, blank_out
    if kind.name == "date":
        return pd.Series(np.asarray(parsed)[take]).where(~blank_out), bad_out, blank_out
    return np.asarray(parsed)[take], bad_out, blank_out


def _parse_values(values: pd.Series, kind: ColumnKind):
    if kind.name == "date":
        return parse_date_column(values)
    if kind.name == "text":
        return parse_text_column(values)
    if kind.name == "int":
        return parse_int_column(values)
    if kind.name == "pct":
        return parse_vat_column(values)
    return parse_scaled_column(values, kind.decimals)


def _column(values, missing: np.ndarray, kind: ColumnKind):
    if kind.name == "date":
        return pd.Series(values).where(~missing).to_numpy(dtype="datetime64[s]")
    if kind.name == "text":
        if isinstance(values, pd.Categorical):
            return values
        return pd.Series(values, dtype=object).where(~missing, None).astype("category")
    values = np.asarray(values, dtype=np.int64)
    if not missing.any():
        return values
    return pd.arrays.IntegerArray(np.where(missing, 0, values), missing.copy())


def _shown(value) -> str:
    return repr(value.strip() if isinstance(value, str) else value)
