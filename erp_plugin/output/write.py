"""Writing a run's output where ``--out`` says: back into the .xlsx, or as .csv / .parquet files.

Every file of one output is written to a temp file first and renamed only when
all are ready, so a failure leaves nothing half-written; the input is never
touched unless ``in_place``.

* ``.xlsx`` / ``.xlsm``: the export with result columns appended and result
  sheets added (xlsx_write.py); an export read from csv/parquet becomes a new
  workbook with the lines sheet.
* ``.csv`` / ``.parquet``: the lines as the product read them (``source_row``
  and the canonical fields, one schema whatever the ERP) with the result
  columns, and each result table beside it as ``<stem>.<table>.<suffix>``.
  CSV is UTF-8 with a BOM (Excel reads Cyrillic right), money as ``1234.56``;
  parquet holds money and quantities as exact decimals.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from ..erp.fields import FIELDS
from ..erp.read import ExportSource
from ..i18n import N_, msg, sheet_title
from ..lines import SOURCE_ROW
from ..parallel import ahead
from ..problems import InputError, Problem
from ..tables import TEXT, ColumnKind, Table
from ..xlsx import atomic_write_all
from . import xlsx_write
from .charts import charts_of
from .render import column_text, escape_formula, int_values

XLSX = (".xlsx", ".xlsm")
FLAT = (".csv", ".parquet")


def output_problem(source: ExportSource, out: Path, in_place: bool) -> Problem | None:
    """Why ``out`` cannot be written for this export, checked before any work is done."""
    problem = _place_problem(out)
    if problem:
        return problem
    suffix = out.suffix.casefold()
    same = out.resolve() == source.path.resolve()
    if same and not in_place:
        return Problem("out.is_input", msg("is the export itself; give another --out, or --in-place to write "
                                           "into the export"), file=str(out))
    if source.path.suffix.casefold() == ".xlsm" and suffix == ".xlsx":
        return Problem("out.macros", msg("the export has macros (.xlsm); write it to an .xlsm file to keep them"), file=str(out))
    if suffix == ".xlsm" and source.path.suffix.casefold() != ".xlsm":
        return Problem("out.macros", msg("an .xlsm output needs an .xlsm export; write to .xlsx"), file=str(out))
    return None


def _place_problem(out: Path) -> Problem | None:
    """An --out whose format is not one we write, or whose folder does not exist."""
    if out.suffix.casefold() not in XLSX + FLAT:
        return Problem("out.format", msg("--out must end in .xlsx, .xlsm, .csv or .parquet, not {value}", value=out.suffix or 'nothing'),
                       file=str(out))
    if not out.parent.exists():
        return Problem("out.folder", msg("the folder {parent} does not exist", parent=out.parent), file=str(out))
    if out.is_dir():
        return Problem("out.folder", msg("is a folder; give a file in it, such as {out}", out=out / ('priced' + out.suffix)), file=str(out))
    if not os.access(out.parent, os.W_OK | os.X_OK):
        return Problem("out.denied", msg("the folder {parent} cannot be written to (no permission); choose "
                                         "another --out",
                                         parent=out.parent),
                       file=str(out))
    return None


def write_output(source: ExportSource, lines: pd.DataFrame, results: dict[str, ColumnKind], tables: list[Table],
                 out: str | Path, in_place: bool = False, input_kinds: dict[str, ColumnKind] | None = None,
                 progress=None) -> list[Path]:
    """Write the result columns ``results`` (names in ``lines``) and ``tables``; the paths written.
    ``progress(stage, done, total)`` hears the rows written of all the files' rows after each file."""
    out = Path(out)
    problem = output_problem(source, out, in_place)
    if problem:
        raise InputError([problem])
    suffix = out.suffix.casefold()
    input_kinds = input_kinds or {}
    if suffix in XLSX:
        rows = len(lines) + sum(len(t.frame) for t in tables)
        jobs = [(out, lambda temp: _write_xlsx(source, lines, results, tables, temp, input_kinds), rows)]
    else:
        kinds = {**input_kinds, **results}
        frame = lines[_output_columns(lines, results)]
        kinds[SOURCE_ROW] = ColumnKind("int")
        writer = _write_csv if suffix == ".csv" else _write_parquet
        jobs = [(out, lambda temp: writer(frame, kinds, temp), len(frame))]
        for table in tables:
            path = out.with_name(f"{out.stem}.{table.name}{out.suffix}")
            jobs.append((path, lambda temp, t=table: writer(t.frame, t.kinds, temp), len(table.frame)))
    atomic_write_all(_counted(jobs, progress))
    return [path for path, _, _ in jobs]


WRITING = N_("writing")


def _counted(jobs: list[tuple], progress) -> list[tuple]:
    """``(path, write, rows)`` jobs as ``(path, write)`` for atomic_write_all, each telling ``progress`` the rows
    written so far of all the jobs' rows once its file is written (a count per file, never per row)."""
    if progress is None:
        return [(path, write) for path, write, _ in jobs]
    total, done = sum(rows for _, _, rows in jobs), [0]
    progress(WRITING, 0, total)

    def counting(write, rows):
        def run(temp):
            write(temp)
            done[0] += rows
            progress(WRITING, done[0], total)
        return run

    return [(path, counting(write, rows)) for path, write, rows in jobs]


# ------------------------------------------------------------------ xlsx


def _write_xlsx(source: ExportSource, lines: pd.DataFrame, results: dict[str, ColumnKind], tables: list[Table], temp: Path,
                input_kinds: dict[str, ColumnKind]) -> None:
    sheets = [xlsx_write.Sheet(sheet_title(t.name, t.title), t.frame, t.kinds, charts_of(t)) for t in tables]
    if source.format == "xlsx":
        columns = [xlsx_write.Column(name, kind, lines[name]) for name, kind in results.items()]
        rows = lines[SOURCE_ROW].to_numpy()
        xlsx_write.write_back(source.path, temp, source.sheet, source.header_row, source.width, rows, columns, sheets)
        return
    # read from csv/parquet: a new workbook whose first sheet holds the lines as read, with the results
    kinds = {SOURCE_ROW: ColumnKind("int"), **input_kinds, **results}
    xlsx_write.new_workbook(temp, [xlsx_write.Sheet(sheet_title("lines", "Lines"), lines[_output_columns(lines, results)], kinds), *sheets])


def tables_out_problem(out: str | Path) -> Problem | None:
    """Why ``write_tables`` could not write ``out`` (its format, its folder), checked before any work."""
    return _place_problem(Path(out))


def write_tables(tables: list[Table], out: str | Path, csv_beside: tuple[Table, ...] = (), progress=None) -> list[Path]:
    """Tables with no export behind them (fees): sheets of a new workbook, or the first table in ``out``
    and each other beside it as ``<stem>.<table>.<suffix>``. ``csv_beside``: tables written as
    ``<stem>.<table>.csv`` whatever ``out`` is, for another program (an SMS gateway): plain UTF-8, values
    as they are (a phone's ``+`` is not escaped as a formula would be for Excel), in the same atomic write.
    ``progress`` as for ``write_output``."""
    out = Path(out)
    problem = _place_problem(out)
    if problem:
        raise InputError([problem])
    suffix = out.suffix.casefold()
    if suffix in XLSX:
        sheets = [xlsx_write.Sheet(sheet_title(t.name, t.title), t.frame, t.kinds, charts_of(t)) for t in tables]
        jobs = [(out, lambda temp: xlsx_write.new_workbook(temp, sheets), sum(len(t.frame) for t in tables))]
    else:
        writer = _write_csv if suffix == ".csv" else _write_parquet
        jobs = [(out if i == 0 else out.with_name(f"{out.stem}.{t.name}{out.suffix}"),
                 lambda temp, t=t: writer(t.frame, t.kinds, temp), len(t.frame)) for i, t in enumerate(tables)]
    jobs += [(out.with_name(f"{out.stem}.{t.name}.csv"), lambda temp, t=t: _write_plain_csv(t.frame, t.kinds, temp),
              len(t.frame)) for t in csv_beside]
    atomic_write_all(_counted(jobs, progress))
    return [path for path, _, _ in jobs]


def write_joined(parts: list[Path], out: str | Path, rows: int, progress=None) -> list[Path]:
    """One table that was written in parts by write_tables (a Dask run's buckets, each part in ``out``'s
    format) as the one file ``out``, part after part in the order given, never whole in memory; atomic
    and counted (``rows``) as write_tables is."""
    out = Path(out)
    problem = _place_problem(out)
    if problem:
        raise InputError([problem])
    join = _join_csv if out.suffix.casefold() == ".csv" else _join_parquet
    atomic_write_all(_counted([(out, lambda temp: join(parts, temp), rows)], progress))
    return [out]


def _join_parquet(parts: list[Path], temp: Path) -> None:
    """Parquet parts' rows, a part at a time, by one pyarrow writer under their common schema (a column
    blank in one part is optional in all; decimals as wide as the widest part's); an empty part (a bucket
    without such rows) adds no row group."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.unify_schemas([pq.read_schema(part) for part in parts], promote_options="permissive")
    with pq.ParquetWriter(temp, schema, store_decimal_as_integer=True, store_schema=False) as writer:
        for part in parts:
            table = pq.read_table(part)
            if table.num_rows:
                writer.write_table(table.cast(schema))


def _join_csv(parts: list[Path], temp: Path) -> None:
    """CSV parts' text one after another, each after the first without its first line (its BOM and
    header: the first part's stand for all). pandas wrote every part from the same columns, whose names
    hold no line break, so the text is the csv one write of the whole table gives."""
    with open(temp, "wb") as joined:
        for n, part in enumerate(parts):
            with open(part, "rb") as text:
                if n:
                    text.readline()
                shutil.copyfileobj(text, joined)


def _output_columns(lines: pd.DataFrame, results: dict[str, ColumnKind]) -> list[str]:
    """source_row, the canonical fields read, then the results; a result named like a field (``marker``,
    resolved from Products, the export and the default) replaces it."""
    fields = [f for f in FIELDS if f in lines.columns and f not in results]
    return [SOURCE_ROW, *fields, *results]


# ------------------------------------------------------------------ csv / parquet


def _write_csv(frame: pd.DataFrame, kinds: dict[str, ColumnKind], temp: Path) -> None:
    text = {}
    for name in frame.columns:
        kind = kinds.get(name, TEXT)
        values = column_text(frame[name], kind)
        series = pd.Series(values, dtype=object)
        if kind.name == "text":
            present = series.notna()
            series[present] = escape_formula(series[present].astype(str))
        text[name] = series
    pd.DataFrame(text).to_csv(temp, index=False, encoding="utf-8-sig", lineterminator="\n")


def _write_plain_csv(frame: pd.DataFrame, kinds: dict[str, ColumnKind], temp: Path) -> None:
    """CSV for a program, not a spreadsheet: UTF-8 without a BOM, text unescaped."""
    text = {name: column_text(frame[name], kinds.get(name, TEXT)) for name in frame.columns}
    pd.DataFrame(text, columns=list(frame.columns)).to_csv(temp, index=False, encoding="utf-8", lineterminator="\n")


PARQUET_SLICE_ROWS = 1_000_000  # rows converted to Arrow at a time (a row group each): bounds the memory of a big write
DICTIONARY_TEXT_MAX = 1 << 16  # a text column with more distinct values goes to parquet as plain strings
# a row group's distinct document numbers fit one dictionary page: readers get one dictionary per row group
DICTIONARY_PAGE_BYTES = 32 << 20
DICTIONARY_SAMPLE_ROWS, DICTIONARY_SAMPLE_MAX = 1 << 16, 1 << 10  # a number column this repetitive gets a dictionary
STATISTICS = (SOURCE_ROW, "date", "doc_id")  # min/max where row groups differ (lines come in document order); not client_id: every client is in every row group


def _write_parquet(frame: pd.DataFrame, kinds: dict[str, ColumnKind], temp: Path, slice_rows: int = PARQUET_SLICE_ROWS) -> None:
    """Parquet that any reader takes: text dictionary-encoded per row group, money and quantities as exact
    decimals stored as 64-bit integers, a row group per ``slice_rows`` lines.

    Text with few distinct values (tariff, marker, payment) goes to Arrow as one dictionary per column;
    text with many (doc_id) as plain strings, because the writer would otherwise repeat and re-hash the
    whole dictionary for every row group (at 10M lines that was 40 % of the write). The Arrow schema is
    not stored: readers take the parquet types (decimal128) and need no Arrow newer than theirs.

    One pyarrow writer, a slice at a time, the next slice converted on a second thread while the writer
    encodes one (it lets go of the GIL), so at most two slices are in Arrow beside the frame
    (docs/decisions.md: *Parquet written by one pyarrow writer* has the measured alternatives).
    """
    columns = _ParquetColumns(frame, kinds, slice_rows)
    with columns.open_writer(temp) as writer:
        for table in ahead(columns.table, max(1, -(-len(frame) // slice_rows))):  # the next slice converted meanwhile
            writer.write_table(table)


class _ParquetColumns:
    """A frame as Arrow tables of ``slice_rows`` lines, decided over whole columns so that every row
    group has one schema: the text dictionaries, which money columns need decimal128, which columns
    are never blank, which numbers repeat enough for a dictionary."""

    def __init__(self, frame: pd.DataFrame, kinds: dict[str, ColumnKind], slice_rows: int):
        import pyarrow as pa

        self.frame, self.kinds, self.slice_rows, self.pa = frame, kinds, slice_rows, pa
        self.dictionaries = {n: _categories(frame[n], pa) for n in frame.columns if kinds.get(n, TEXT).name == "text"}
        self.wide = {n for n in frame.columns
                     if kinds.get(n, TEXT).name not in ("text", "date", "int", "float") and not _fits_decimal64(frame[n])}
        # numbers with few distinct values (dates, days, percentages, mostly-zero money) dictionary-encoded too
        self.repeated = [n for n in frame.columns if n not in self.dictionaries and n != SOURCE_ROW and _few_values(frame[n])]
        # a column without a blank is REQUIRED: the writer has no definition levels to encode
        self.schema = pa.schema([pa.field(str(n), array.type, nullable=not _never_blank(frame[n]))
                                 for n, array in zip(frame.columns, self._arrays(0, 0))])

    def table(self, g: int, rows: int | None = None):
        """Row group ``g``: the frame's ``g``-th slice (its first ``rows`` lines when given) as an Arrow table."""
        return self.pa.Table.from_arrays(self._arrays(g, rows), schema=self.schema)

    def _arrays(self, g: int, rows: int | None) -> list:
        pa = self.pa
        start = g * self.slice_rows
        part = self.frame.iloc[start:start + (self.slice_rows if rows is None else rows)]
        return [_text(part[n], self.dictionaries[n], pa) if n in self.dictionaries
                else _arrow(part[n], self.kinds.get(n, TEXT), pa, n in self.wide) for n in self.frame.columns]

    def open_writer(self, path: Path):
        """A ParquetWriter into ``path``: dictionary pages for text and for repetitive numbers (snappy
        compressed), the other numbers (money, mostly distinct; source_row) as deltas, not compressed.

        Deltas bit-pack money's small magnitudes and export rows' steps of one: at 10M lines a money
        column took 0.24 s and 37 MB so, against 0.42 s and 53 MB plain with snappy (docs/decisions.md)."""
        import pyarrow.parquet as pq

        dictionary = [str(n) for n in [*self.dictionaries, *self.repeated]]
        types = self.pa.types  # decimal64 is stored as INT64 (store_decimal_as_integer); decimal128(19) is not
        deltas = [name for name, kind in zip(self.schema.names, self.schema.types)
                  if name not in dictionary and (types.is_integer(kind) or types.is_decimal64(kind))]
        return pq.ParquetWriter(path, self.schema, use_dictionary=dictionary or False,
                                column_encoding=dict.fromkeys(deltas, "DELTA_BINARY_PACKED") or None,
                                compression={name: "none" if name in deltas else "snappy" for name in self.schema.names},
                                dictionary_pagesize_limit=DICTIONARY_PAGE_BYTES,
                                write_statistics=[n for n in STATISTICS if n in self.schema.names] or False,
                                store_decimal_as_integer=True, store_schema=False)


def _few_values(values: pd.Series) -> bool:
    """At most DICTIONARY_SAMPLE_MAX distinct values in the column's first DICTIONARY_SAMPLE_ROWS lines."""
    sample = pd.Series(values, copy=False).iloc[:DICTIONARY_SAMPLE_ROWS]
    return len(pd.unique(sample)) <= DICTIONARY_SAMPLE_MAX


def _never_blank(values: pd.Series) -> bool:
    """No blank in the column: numpy integers cannot hold one; others are looked at."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return True
    return not pd.Series(values, copy=False).hasnans


def _fits_decimal64(values: pd.Series) -> bool:
    """Every amount below 10^18 (in the column's own scale): decimal64(18) holds it."""
    column = pd.Series(values, copy=False)
    lowest, highest = column.min(), column.max()  # blanks are skipped
    return pd.isna(highest) or max(abs(int(lowest)), abs(int(highest))) < 10**18


def _arrow(values: pd.Series, kind: ColumnKind, pa, wide: bool = False):
    if kind.name == "date":
        stamps = pd.to_datetime(pd.Series(values))
        return pa.array(stamps.to_numpy(dtype="datetime64[D]"), type=pa.date32(), mask=stamps.isna().to_numpy())
    if kind.name == "float":
        floats = pd.Series(values, copy=False).to_numpy(dtype=np.float64, na_value=np.nan)
        return pa.array(floats, mask=~np.isfinite(floats), type=pa.float64())
    ints, missing = int_values(values)
    if kind.name == "int":
        return pa.array(ints, mask=missing, type=pa.int64())
    return decimal_array(ints, missing, kind.decimals, pa, wide)


def _as_categorical(values: pd.Series) -> pd.Series:
    return values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype(object).astype("category")


def _categories(values: pd.Series, pa):
    return pa.array(_as_categorical(values).cat.categories.astype(str).to_numpy(dtype=object), type=pa.string())


def _text(values: pd.Series, dictionary, pa):
    """Text as the column's category codes over its one dictionary, or as strings when that is large."""
    codes = _as_categorical(values).array.codes.astype(np.int32)
    indices = pa.array(codes, mask=codes < 0, type=pa.int32())
    if len(dictionary) > DICTIONARY_TEXT_MAX:
        return dictionary.take(indices)
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def decimal_array(ints: np.ndarray, missing: np.ndarray, scale: int, pa, wide: bool | None = None):
    """Exact decimals from integers already scaled by ``10**scale`` (no float, no Python loop).

    decimal64(18) over the integers themselves, without a copy, so that parquet stores them as
    64-bit integers; decimal128(19) when ``wide`` (None: when some amount is 10^18 minor units or more).
    """
    validity = None
    if missing.any():
        validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
    nulls = int(missing.sum())
    ints = np.ascontiguousarray(ints, dtype=np.int64)
    if wide is None:
        wide = len(ints) > 0 and int(np.abs(ints).max()) >= 10**18
    if not wide:
        return pa.Array.from_buffers(pa.decimal64(18, scale), len(ints), [validity, pa.py_buffer(ints)], null_count=nulls)
    data = np.empty(len(ints) * 2, dtype=np.int64)
    data[0::2] = ints
    data[1::2] = np.where(ints < 0, -1, 0)  # the high 64 bits: the sign extension
    return pa.Array.from_buffers(pa.decimal128(19, scale), len(ints), [validity, pa.py_buffer(data)], null_count=nulls)
