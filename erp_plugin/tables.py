"""Result tables and the kinds of their columns: the ground floor every layer shares.

A column's kind says what its numbers mean (money in minor units, thousandths
of a unit, a percentage at ``PCT_SCALE``) so that every writer, the API's frames
and the Excel faces turn the same integer into the same figure. How a kind
looks in a cell (number formats, widths, charts) is the output layer's business.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .money import PCT_DECIMALS

QTY_DECIMALS = 3
PRICE_DECIMALS = 4


@dataclass(frozen=True)
class ColumnKind:
    """How a column is held: ``decimals`` is the scale of its integers."""

    name: str  # text, date, int, money, qty, price, pct, percent, float
    decimals: int = 0


TEXT = ColumnKind("text")
DATE = ColumnKind("date")
INT = ColumnKind("int")
QTY = ColumnKind("qty", QTY_DECIMALS)
PRICE = ColumnKind("price", PRICE_DECIMALS)
PCT = ColumnKind("pct", PCT_DECIMALS)
FLOAT = ColumnKind("float")  # a model's estimate (a probability, a parameter): float64, never money, never NaN


def money(minor_units: int) -> ColumnKind:
    return ColumnKind("money", minor_units)


@dataclass
class Table:
    """A result table: ``name`` is snake_case (``credit_notes``), its sheet is ``CreditNotes``."""

    name: str
    frame: pd.DataFrame
    kinds: dict[str, ColumnKind] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_"))
