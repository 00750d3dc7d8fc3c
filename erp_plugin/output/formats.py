"""How a column of each kind shows in a spreadsheet: one Excel number format per kind, for every writer.

The streaming xlsx writer (xlsx_write.py), the file and Excel adapters of the
one-click jobs (excel/book.py, excel/xlwings_book.py) and the tariff template
all format cells from here, so a kind looks the same wherever it is written.
The cells hold exact figures (money 1234.56, a percentage 2.5 not 0.025); the
format only chooses how they show.
"""

from __future__ import annotations

from ..tables import ColumnKind

QTY_FORMAT = "#,##0.###"  # up to the thousandths a quantity holds, no trailing zeros
PRICE_FORMAT = "#,##0.00##"  # a unit price: cents always, up to four decimals
PCT_FORMAT = '0.0###" %"'  # shows 2.5 as "2.5 %"; the cell holds 2.5, not Excel's 0.025
DATE_FORMAT = "DD.MM.YYYY"
INT_FORMAT = "0"
FLOAT_FORMAT = "0.0000"  # a model's estimate shown to four decimals; the cell holds it at full precision
FORMATS = {"qty": QTY_FORMAT, "price": PRICE_FORMAT, "pct": PCT_FORMAT, "percent": PCT_FORMAT, "date": DATE_FORMAT,
           "int": INT_FORMAT, "float": FLOAT_FORMAT}  # by kind name; money's depends on its decimals; other kinds (text, codes) show as General


def money_format(decimals: int) -> str:
    """Thousands grouped and every minor-unit digit: ``#,##0.00`` for kopecks, ``#,##0`` for none."""
    return "#,##0" + ("." + "0" * decimals if decimals else "")


MONEY_FORMAT = money_format(2)


def number_format(kind: ColumnKind) -> str | None:
    """The Excel number format of a column of ``kind``; None for text, which keeps the cell's own."""
    if kind.name == "money":
        return money_format(kind.decimals)
    return FORMATS.get(kind.name)
