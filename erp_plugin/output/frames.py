"""Frames handed to a script: exact decimals in currency units, and only declared, documented columns.

Inside, money is integer minor units and quantities thousandths (lines.py); a
script should not have to know that. Every scaled column becomes an Arrow
``decimal128(38, d)`` column (pandas ``ArrowDtype``): ``74000.00``, not
``7400000`` and never a float. Sums stay exact (``frame["net"].sum()``).
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from ..lines import RESULT_COLUMNS, SOURCE_ROW, input_kinds, result_kinds
from ..tables import ColumnKind, Table

SCALED = ("money", "qty", "price", "pct", "percent")


def decimals(values, scale: int) -> pd.arrays.ArrowExtensionArray:
    """Integers already scaled by ``10**scale`` (int64 or nullable Int64) as exact decimals: integer to
    decimal, then times 10^-scale, both exact in Arrow's decimal arithmetic."""
    import pyarrow as pa
    import pyarrow.compute as pc

    series = pd.Series(values, copy=False)
    missing = series.isna().to_numpy()
    ints = series.to_numpy(dtype=np.int64, na_value=0)
    whole = pa.array(ints, mask=missing if missing.any() else None, type=pa.int64()).cast(pa.decimal128(19, 0))
    unit = pa.scalar(Decimal(1).scaleb(-scale), type=pa.decimal128(scale + 1, scale))
    return pd.arrays.ArrowExtensionArray(pc.multiply(whole, unit).cast(pa.decimal128(38, scale)))


def user_frame(frame: pd.DataFrame, kinds: dict[str, ColumnKind]) -> pd.DataFrame:
    """``frame`` with each scaled column of ``kinds`` as exact decimals and whole numbers as nullable Int64."""
    columns = {}
    for name in frame.columns:
        kind = kinds.get(name)
        if kind is not None and kind.name in SCALED:
            columns[name] = decimals(frame[name], kind.decimals)
        elif kind is not None and kind.name == "int":
            columns[name] = pd.array(frame[name], dtype="Int64")
        else:
            columns[name] = frame[name]
    return pd.DataFrame(columns, index=frame.index)


def user_lines(lines: pd.DataFrame, minor_units: int, extra: dict[str, ColumnKind] | None = None) -> pd.DataFrame:
    """The priced lines for a script: source_row, the export's fields and SPEC §5's result columns (and
    ``extra``, e.g. a period job's ``rebate``); the engine's helper columns are left out."""
    kinds = {SOURCE_ROW: ColumnKind("int"), **input_kinds(minor_units)}
    kinds.update(result_kinds(minor_units))
    kinds.update(extra or {})
    names = [SOURCE_ROW, *[n for n in input_kinds(minor_units) if n not in RESULT_COLUMNS], *RESULT_COLUMNS,
             *(extra or {})]
    return user_frame(lines[[n for n in dict.fromkeys(names) if n in lines.columns]], kinds)


def user_tables(tables: dict[str, Table]) -> dict[str, pd.DataFrame]:
    return {name: user_frame(table.frame, table.kinds) for name, table in tables.items()}
