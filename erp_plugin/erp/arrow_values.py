"""Parsing typed parquet columns straight from Arrow, without a pandas frame of raw values in between.

A parquet export's columns are typed, so most need no guessing: integers,
decimals, dates and dictionary-encoded text are parsed here from their buffers,
by the same rules as values.py and parsing.py (text trimmed, empty text blank,
counts whole and not negative, VAT from 0 to 100 %, half away from zero beyond
the scale). Any other type (floats, numbers in a text field, timestamps) gives
None, and the column goes the general way through pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ..cellkinds import PLACEHOLDERS
from ..parsing import scale_arrow_decimals, scale_ints
from ..tables import ColumnKind
from .values import WHOLE_DECIMALS, vat_rates, whole_numbers


def parse_arrow_column(column: pa.ChunkedArray, kind: ColumnKind):
    """``(values, bad, blank)`` as values.py's parsers give them, or None for a type not handled here."""
    arrow_type = column.type
    if kind.name == "text":
        if pa.types.is_dictionary(arrow_type) and is_string(arrow_type.value_type):
            return dictionary_text(column)
        return None
    if kind.name == "date":
        return _dates(column) if pa.types.is_date(arrow_type) else None
    decimals = WHOLE_DECIMALS if kind.name == "int" else kind.decimals
    if pa.types.is_integer(arrow_type) and kind.name == "int":  # whole already: only the minimum to check
        ints, blank = _ints(column), _nulls(column)
        bad = ~blank & (ints < 0)
        return np.where(bad, 0, ints), bad, blank
    if pa.types.is_integer(arrow_type):
        parsed = (*scale_ints(_ints(column), decimals), _nulls(column))
    elif pa.types.is_decimal(arrow_type):
        parsed = scale_arrow_decimals(column, decimals)
    else:
        return None
    if kind.name == "int":
        return whole_numbers(*parsed)
    if kind.name == "pct":
        return vat_rates(*parsed, numeric=~parsed[2])
    return parsed


def is_string(arrow_type) -> bool:
    """A string type, small or large offsets."""
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _nulls(column: pa.ChunkedArray) -> np.ndarray:
    return column.is_null().to_numpy(zero_copy_only=False) if column.null_count else np.zeros(len(column), dtype=bool)


def _ints(column: pa.ChunkedArray) -> np.ndarray:
    if column.null_count:
        column = column.fill_null(0)
    return column.to_numpy().astype(np.int64, copy=False)


def _dates(column: pa.ChunkedArray):
    blank = _nulls(column)
    days = column.cast(pa.date32()).to_numpy().astype("datetime64[s]")  # nulls become NaT
    return days, np.zeros(len(column), dtype=bool), blank


def dictionary_text(column: pa.ChunkedArray):
    """Dictionary-encoded text: each distinct value parsed once, the rows' codes mapped onto the result.

    The chunks' dictionaries are joined (one copy of each: the batches of one row
    group share theirs); when a file's dictionary is larger than its rows, only
    the values the rows use are parsed.
    """
    import pyarrow.compute as pc

    n = len(column)
    valid = ~_nulls(column)
    # each row's place among the joined dictionaries; int32 (as pandas keeps the codes) while they fit
    fits = sum(len(chunk.dictionary) for chunk in column.chunks) < 2**31
    positions = np.zeros(n, dtype=np.int32 if fits else np.int64)
    dictionaries, offsets = [], {}
    joined = start = 0
    for chunk in column.chunks:
        dictionary = chunk.dictionary
        key = (dictionary.buffers()[1].address, dictionary.offset, len(dictionary))
        if key not in offsets:
            offsets[key] = joined
            dictionaries.append(dictionary.cast(pa.string()))
            joined += len(dictionary)
        indices = chunk.indices.fill_null(0) if chunk.null_count else chunk.indices
        np.add(indices.to_numpy(), offsets[key], out=positions[start:start + len(chunk)], casting="unsafe")
        start += len(chunk)
    distinct = pa.concat_arrays(dictionaries) if dictionaries else pa.array([], pa.string())
    if len(distinct) > n:
        used = np.unique(positions[valid])
        distinct = distinct.take(pa.array(used))
        positions = np.searchsorted(used, positions)
    # trimmed as parse_text_column trims a string column; an empty value or a placeholder is blank
    trimmed = pc.utf8_trim_whitespace(distinct)
    empty = pc.or_(pc.equal(trimmed, ""), pc.is_in(pc.utf8_lower(trimmed), pa.array(sorted(PLACEHOLDERS))))
    encoded = pc.dictionary_encode(pc.if_else(empty, None, trimmed))
    inverse = encoded.indices.fill_null(-1).to_numpy()
    if valid.all():
        codes = inverse[positions]
    else:
        codes = np.full(n, -1, dtype=inverse.dtype)
        codes[valid] = inverse[positions[valid]]
    categorical = pd.Categorical.from_codes(codes, categories=pd.Index(encoded.dictionary.to_pandas()))
    return categorical, np.zeros(n, dtype=bool), codes < 0
