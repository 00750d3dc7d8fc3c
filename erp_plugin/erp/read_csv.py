"""Reading a csv export: its encoding (UTF-8 or Windows-1251) and delimiter sniffed, then its rows in chunks.

The header row is found in the first lines as in a sheet; the rows below it
come as frames of text cells, one column per mapped field, ``_first`` and
``source_row``, as read_xlsx gives them.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..lines import SOURCE_ROW
from ..problems import Problem
from .header import HEADER_SCAN_ROWS, ExportError, ExportSource, find_header, no_header


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


def load_csv(path: Path, columns: Mapping[str, str], chunk_rows: int) -> tuple[ExportSource, Iterator[pd.DataFrame]]:
    """The file's ExportSource and its rows below the header, ``chunk_rows`` at a time."""
    file = str(path)
    with path.open("rb") as handle:
        sample = handle.read(256 * 1024)
    encoding = _sniff_encoding(sample)
    text = sample.decode(encoding, errors="replace")
    head_lines = text.splitlines()[:HEADER_SCAN_ROWS]
    delimiter = _sniff_delimiter(head_lines)
    scanned = list(csv.reader(io.StringIO("\n".join(head_lines)), delimiter=delimiter))
    header_index, fields, complete = find_header(scanned, columns)
    if not complete:
        raise no_header(file, scanned, columns, "the file")
    headers = list(scanned[header_index])
    source = ExportSource(path, "csv", None, header_index + 1, headers, len(headers), fields, encoding, delimiter)
    return source, _csv_chunks(path, source, header_index, chunk_rows)


def _csv_chunks(path: Path, source: ExportSource, header_index: int, chunk_rows: int) -> Iterator[pd.DataFrame]:
    first_row = header_index + 2
    try:
        reader = pd.read_csv(
            path, sep=source.delimiter, encoding=source.encoding, header=None, skiprows=header_index + 1, dtype=str,
            keep_default_na=False, skip_blank_lines=False, chunksize=chunk_rows,
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
