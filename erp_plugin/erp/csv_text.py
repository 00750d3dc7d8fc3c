"""A csv export as Arrow text batches: how the Dask engine splits a csv into client buckets.

The buckets are parquet, and the parquet reader parses a text column with the
same parsers as the csv reader parses its cells, so a bucket prices as the
lines did in the csv. What the csv reader does beyond parsing is done here
once, over the whole file: its encoding and delimiter found, its header row
found among the first lines, and the rows that are not lines (blank, a group
heading, a totals row: ``Итого`` in the first column) left out. Every column is
kept under its header (a blank header named ``column N``, a repeated one
``name (2)``), so the buckets' parts carry the export's own columns; a field
the header row does not name by itself (taken because its values agreed)
gets its canonical name, so the buckets find the same fields.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from ..i18n import msg
from ..lines import SOURCE_ROW
from ..problems import Problem
from .header import ExportError, ExportSource, match_fields
from .parse import line_rows
from .read_csv import csv_bodies, load_csv

CHUNK_ROWS = 200_000  # rows converted at a time: text cells as Python objects cost ~50 bytes each


def csv_text_batches(path: Path, columns: Mapping[str, str]) -> tuple[ExportSource, object, Iterator]:
    """The csv's ExportSource, the Arrow schema of its text batches (every column as text, then
    ``source_row``) and the batches of its lines, ``CHUNK_ROWS`` rows at a time."""
    import pyarrow as pa

    source, _ = load_csv(path, columns, CHUNK_ROWS)
    if "sku" not in source.fields:
        raise ExportError(Problem("engine.csv_sku", msg("has no sku column (the codes are in the names, as "
                                                        "[SL5077] Cable): map the sku column on the Columns "
                                                        "sheet, or price it with --engine local"),
                                  file=str(path)))
    names = _column_names(source, columns)
    schema = pa.schema([pa.field(name, pa.string()) for name in names] + [pa.field(SOURCE_ROW, pa.int64())])

    def batches():
        for body, mapped in csv_bodies(path, source, CHUNK_ROWS):
            keep = np.flatnonzero(line_rows(mapped))
            cells = [body[i].to_numpy(dtype=object)[keep] if i in body.columns else np.full(len(keep), "", dtype=object)
                     for i in range(len(names))]
            arrays = [pa.array(c, type=pa.string()).fill_null("") for c in cells]
            yield pa.record_batch([*arrays, pa.array(mapped[SOURCE_ROW].to_numpy()[keep])], schema=schema)

    return source, schema, batches()


def _column_names(source: ExportSource, columns: Mapping[str, str]) -> list[str]:
    """Unique names for the file's columns under which the parquet reader finds the fields the csv reader
    found: the headers as written, a field found otherwise under its own name."""
    width = max(len(source.headers), max(source.fields.values(), default=-1) + 1)
    names, seen = [], {}
    for index in range(width):
        header = str(source.headers[index]).strip() if index < len(source.headers) else ""
        name = header or f"column {index + 1}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    for field, index in source.fields.items():
        if match_fields(names, columns).get(field) != index:
            names[index] = field
    if match_fields(names, columns) != dict(source.fields):
        raise ExportError(Problem("engine.csv_header", msg("the header row names its fields in a way the Dask "
                                                           "engine cannot keep when it splits the file "
                                                           "(repeated or ambiguous headers): rename the "
                                                           "repeated headers, or price it with --engine local"), file=str(source.path)))
    return names
