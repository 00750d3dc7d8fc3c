"""Reading a parquet export lazily: each column read from the file when its parser asks, and let go once parsed.

The header is the file's column names. Row groups are taken in batches of up
to ``batch_rows`` lines (a bigger row group alone); a batch (ArrowBatch) holds
no data, only where its columns are (ParquetColumns): numbers and dates are read
one row group at a time, text as each row group's dictionary, so the whole Arrow
table is never in memory beside the parsed lines.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..i18n import N_, msg
from ..lines import SOURCE_ROW
from ..problems import Problem
from .fields import REQUIRED_FIELDS
from .header import ExportError, ExportSource, match_fields, no_header

TEXT_FIELDS = ("doc_id", "client_id", "sku", "name", "category", "marker", "payment", "coupon", "base_doc")


def load_parquet(path: Path, columns: Mapping[str, str], batch_rows: int) -> tuple[ExportSource, Iterator[ArrowBatch]]:
    """The file's ExportSource and its row groups in batches of up to ``batch_rows`` lines."""
    file = str(path)
    try:
        import pyarrow.parquet as pq

        metadata = pq.read_metadata(path)
    except Exception as exc:  # pyarrow's own error types
        raise ExportError(Problem("file.corrupt", msg("cannot be read as parquet; write it again from its source, or export csv or xlsx "
                                                  "(detail: {detail})", detail=str(exc)), file=file)) from None
    headers = list(metadata.schema.to_arrow_schema().names)
    fields = match_fields(headers, columns)
    if any(f not in fields for f in REQUIRED_FIELDS):
        raise no_header(file, [headers], columns, N_("the file"))
    source = ExportSource(path, "parquet", None, 1, headers, len(headers), fields, rows=metadata.num_rows)
    text = {name for name in fields if name in TEXT_FIELDS}
    numbered = SOURCE_ROW in headers  # a part of a bigger export (the Dask engine's buckets) keeps its rows
    return source, _parquet_batches(path, metadata, {name: headers[index] for name, index in fields.items()}, text,
                                    batch_rows, numbered)


def _parquet_batches(path: Path, metadata, headers: dict[str, str], text: set[str],
                     batch_rows: int, numbered: bool = False) -> Iterator[ArrowBatch]:
    """The file's row groups in batches of up to ``batch_rows`` lines (a bigger row group alone). A row's
    number is its record's + 1 (as if a header sat on row 1), or its ``source_row`` when the file has one."""
    first_row, groups, rows = 2, [], 0

    def batch() -> ArrowBatch:
        columns = ParquetColumns(path, metadata, groups, headers, text)
        if numbered:
            numbers = ParquetColumns(path, metadata, groups, {SOURCE_ROW: SOURCE_ROW}, set())[SOURCE_ROW]
            return ArrowBatch(columns, numbers.to_numpy().astype(np.int64))
        return ArrowBatch(columns, np.arange(first_row, first_row + rows))

    for g in range(metadata.num_row_groups):
        group_rows = metadata.row_group(g).num_rows
        if groups and rows + group_rows > batch_rows:
            yield batch()
            first_row, groups, rows = first_row + rows, [], 0
        groups.append(g)
        rows += group_rows
    if groups or not metadata.num_row_groups:
        yield batch()


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
            raise ExportError(Problem("file.corrupt", msg("column {headers} cannot be read as parquet; write it again from its source "
                                                          "(detail: {detail})", headers=self.headers[name], detail=str(exc)),
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
