"""The lines frame: one row per export line, every number an exact integer with a known scale.

Readers produce it, plugins add columns to it, writers render it. Money is int64
minor units; quantities are thousandths of a unit (1C keeps 3 decimals); unit
prices are ten-thousandths of the currency unit (a price per piece of a bolt
can have more decimals than money); percentages are ``PCT_SCALE`` units.
Optional numbers are pandas nullable ``Int64`` (blank stays blank).
"""

from __future__ import annotations

from .tables import DATE, INT, PCT, PRICE, QTY, TEXT, ColumnKind, money

SOURCE_ROW = "source_row"  # the export's own row number, as Excel shows it


def input_kinds(minor_units: int) -> dict[str, ColumnKind]:
    """The kind of every canonical export field (SPEC §6)."""
    m = money(minor_units)
    return {
        "date": DATE,
        "doc_id": TEXT,
        "line_no": INT,
        "client_id": TEXT,
        "sku": TEXT,
        "qty": QTY,
        "unit_price": PRICE,
        "amount": m,
        "name": TEXT,
        "category": TEXT,
        "marker": TEXT,
        "payment": TEXT,
        "reservation_days": INT,
        "moneyback_days": INT,
        "bonus_paid": m,
        "coupon": TEXT,
        "vat_rate": PCT,
        "base_doc": TEXT,
    }


def with_columns(lines, **columns):
    """``lines`` with ``columns`` added (at the end) or replaced (in place), without copying any array.

    DataFrame.assign copies every new array and may consolidate the frame's blocks:
    at ten million lines that is up to half a second a call, and every plugin adds
    columns. Here the arrays are shared; copy-on-write keeps them read-only, so
    nothing can change them behind either frame's back.
    """
    import pandas as pd

    kept = {name: columns.pop(name) if name in columns else lines[name] for name in lines.columns}
    return pd.DataFrame({**kept, **columns}, index=lines.index, copy=False)
