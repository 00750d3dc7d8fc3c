"""Reading an ERP sales export as it comes: xlsx/xlsm, csv, parquet, with the mess real exports carry.

The header row is found by its headers (built-in aliases of 1C, ERPNext, SAP,
plus the tariff workbook's ``Columns`` sheet), below any title block; blank
rows, group headings and the totals row (``Итого``, ``Всего``, ``Total``) are
not lines. Every value is parsed column-wise; every unreadable one becomes a
problem with its export row (as Excel shows it), field, value and what was
expected. Nothing is written here.

This module is the entry: ``read_export`` (any format, in chunks) and
``read_priced_columns`` (a run's parquet output read back). Each format has its
reader (read_xlsx.py, read_csv.py, read_parquet.py), the header row is found in
header.py, and the raw rows become lines in parse.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..i18n import N_, msg
from ..lines import SOURCE_ROW
from ..problems import InputError, Problem, Problems
from ..tables import ColumnKind
from ..xlsx import check_workbook
from .fields import REQUIRED_FIELDS
from .formulas import explain_uncalculated
from .header import ExportError, ExportSource
from .parse import (
    EXPECTED,
    Reporter,
    continued,
    parse_chunk,
    parse_fields,
    report_overflow,
    shown,
)
from .read_csv import load_csv
from .read_parquet import ArrowBatch, ParquetColumns, load_parquet
from .read_xlsx import load_xlsx

__all__ = ["Export", "ExportError", "ExportSource", "read_export", "read_priced_columns"]

READING = N_("reading the export")  # the stage a progress display shows while the chunks are read
CHUNK_ROWS = 50_000  # rows of xlsx/csv parsed at a time: bounds the memory of raw cell objects
PARQUET_BATCH_ROWS = 20_000_000  # parquet columns are compact: a whole file of this size is one batch
XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass
class Export:
    lines: pd.DataFrame
    source: ExportSource | None
    problems: Problems
    proposed: dict[str, str] = field(default_factory=dict)  # Columns rows for a header lacking fields (proposals.py)


def read_export(
    path: str | Path,
    columns: Mapping[str, str] | None = None,
    sheet: str | None = None,
    skip_bad_lines: bool = False,
    minor_units: int = 2,
    progress=None,
) -> Export:
    """The lines of an export as a frame of canonical fields (see lines.py), with every problem.

    ``columns`` maps canonical fields to this ERP's own headers (the tariff
    workbook's Columns sheet); they take precedence over the built-in aliases.
    With ``skip_bad_lines`` a line with a bad value is left out and its problems
    are warnings; otherwise they are errors and the caller must not write.
    ``progress(READING, rows read, rows in all)`` is called after each chunk.
    """
    path = Path(path)
    problems = Problems()
    counts: dict[tuple[str, str], int] = {}
    parts: list[pd.DataFrame] = []
    try:
        source, chunks = _load(path, columns or {}, sheet)
        done = 0
        for raw in continued(chunks, problems):
            done += len(raw)
            parts.append(parse_chunk(raw, minor_units, skip_bad_lines, problems, counts))
            if progress is not None:
                progress(READING, done, source.rows)
    except ExportError as exc:
        problems.extend([exc.problem])
        return Export(pd.DataFrame(), None, problems, exc.proposed)
    except OSError as exc:  # the file went away, a folder named .csv, no permission, a disk error
        problems.error("file.unreadable", msg("cannot be read: {value}", value=exc.strerror or exc), file=str(path))
        return Export(pd.DataFrame(), None, problems)
    report_overflow(problems, counts, skip_bad_lines)
    guessed = getattr(source.fields, "guessed", {})
    if guessed:  # taken without a Columns row: said, with the row that makes it the workbook's
        taken = "; ".join(f"{field} <- {header!r}" for field, header in guessed.items())
        problems.warning("export.columns_taken", msg("columns taken because header and values agree: {taken} (add "
                                                     "these rows to the Columns sheet, or run erp-plugin read EXPORT "
                                                     "--save-columns TARIFFS, to make the mapping the workbook's)",
                                                     taken=taken))
    if source.format == "xlsx":  # a blank that is an uncalculated formula says so
        problems = Problems(explain_uncalculated(path, source.sheet, source.fields, problems.items))
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


def _load(path: Path, columns: Mapping[str, str], sheet: str | None) -> tuple[ExportSource, Iterator[pd.DataFrame | ArrowBatch]]:
    """Where the lines are, and the raw cells below the header in chunks of the mapped columns.

    Each chunk is a frame of object columns (one per mapped field), ``_first`` (the
    sheet's first column, for totals rows) and ``source_row``; chunks bound the
    memory that raw Python cell objects take on big exports.
    """
    file = str(path)
    suffix = path.suffix.casefold()
    if not path.exists():
        raise ExportError(Problem("file.missing", msg("no such file; check the path of the export"), file=file))
    if suffix in XLSX_SUFFIXES:
        problem = check_workbook(path, N_("export"))
        if problem:
            raise ExportError(problem)
        return load_xlsx(path, columns, sheet, CHUNK_ROWS)
    if suffix in CSV_SUFFIXES:
        return load_csv(path, columns, CHUNK_ROWS)
    if suffix in PARQUET_SUFFIXES:
        return load_parquet(path, columns, PARQUET_BATCH_ROWS)
    raise ExportError(
        Problem("file.format", msg("{value} is not a supported export; expected .xlsx, .xlsm, .csv or .parquet", value=suffix or 'no suffix'), file=file)
    )


def read_priced_columns(path: str | Path, kinds: Mapping[str, ColumnKind], columns: list[str]) -> pd.DataFrame:
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
        raise InputError([Problem("file.corrupt", msg("cannot be read as parquet; write it again from its source, or export csv or xlsx "
                                                      "(detail: {detail})", detail=str(exc)), file=file)]) from None
    missing = [c for c in columns if c not in names]
    if missing:
        raise InputError([Problem("priced.column", msg("has no column {name}; expected the parquet output of "
                                                       "erp-plugin price",
                                                       name=name), file=file) for name in missing])
    fields = ParquetColumns(path, metadata, list(range(metadata.num_row_groups)), {c: c for c in columns},
                            {c for c in columns if kinds[c].name == "text"})
    try:
        rows = fields[SOURCE_ROW].to_numpy() if SOURCE_ROW in columns else np.arange(2, 2 + metadata.num_rows)
        batch = ArrowBatch(fields, np.asarray(rows, dtype=np.int64))
        parsed = parse_fields(batch, {c: kinds[c] for c in columns})
    except ExportError as exc:
        raise InputError([exc.problem]) from None
    problems, counts = Problems(), {}
    report = Reporter(problems, counts, False, batch, batch.rows)
    for name in columns:  # a priced line has every value its run read or computed
        _, bad, blank = parsed[name]
        report(name, bad | (blank & (name in REQUIRED_FIELDS)), "priced.value",
               lambda value, n=name: msg("{field} {value} is not {expected}", field=n, value=shown(value),
                                         expected=EXPECTED[kinds[n].name]))
    report_overflow(problems, counts, False)
    if problems.errors:
        raise InputError(problems.errors)
    return pd.DataFrame({c: parsed[c][0] for c in columns}, copy=False)
