"""What a sales manager asks of one line, answered by the same pricing pipeline the command line runs.

Each function prices a one-line document for a client on the given tariff and bonus
mode (no segments, joined long ago) and returns one figure of SPEC §5, so a worksheet
function and `erp-plugin price` agree to the kopeck. A bad argument is not an
exception but a ``#…`` message a cell can show.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from ..money import PCT_DECIMALS, MoneyError
from ..parsing import parse_decimal
from ..pipeline import RunContext, price_lines
from ..problems import InputError
from ..tables import PRICE_DECIMALS, QTY_DECIMALS
from ..tariffs import read_tariffs
from ..tariffs.model import Client, TariffBook

CLIENT = "__worksheet__"
LONG_AGO = date(1900, 1, 1)  # a made-up client joined long ago: not "new" for any promotion
_cache: dict[str, tuple[float, TariffBook | None, str]] = {}


def book_at(path: str | Path) -> TariffBook | str:
    """The tariff book of a workbook file, read again only when the file has changed; or a #message."""
    path = Path(path)
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return f"#FILE? {path} cannot be read"
    cached = _cache.get(str(path))
    if cached is None or cached[0] != stamp:
        book, problems = read_tariffs(path)
        first = str(problems.errors[0]) if problems.errors else ""
        _cache[str(path)] = (stamp, book, first)
        cached = _cache[str(path)]
    return cached[1] if cached[1] is not None else f"#WORKBOOK? {cached[2]}"


def price_line(book: TariffBook, amount, tariff: str = "BASE", marker: str = "white", reservation_days=0,
               moneyback_days=0, payment=None, bonus_mode: str = "discount", day: date | None = None) -> dict | str:
    """The figures of one line of ``amount`` under the tariff and mode: a dict, or a #message."""
    try:
        gross = int((parse_decimal(amount) * 10**book.settings.minor_units).to_integral_value())
    except MoneyError:
        return f"#AMOUNT? {amount!r} is not an amount"
    names = {t.casefold(): t for t in book.tariffs}
    modes = {m.casefold(): m for m in book.bonus_modes}
    if str(tariff or "BASE").strip().casefold() not in names:
        return f"#TARIFF? {tariff!r} is not in Tariffs ({', '.join(book.tariffs)})"
    if str(bonus_mode or "discount").strip().casefold() not in modes:
        return f"#MODE? {bonus_mode!r} is not in BonusModes ({', '.join(book.bonus_modes)})"
    client = Client(CLIENT, tariff=names[str(tariff or "BASE").strip().casefold()],
                    bonus_mode=modes[str(bonus_mode or "discount").strip().casefold()], joined=LONG_AGO)
    line = pd.DataFrame({
        "source_row": [1], "date": [np.datetime64(day or date.today(), "s")],
        "doc_id": pd.Categorical(["worksheet"]), "client_id": pd.Categorical([CLIENT]),
        "sku": pd.Categorical(["worksheet"]), "qty": [10**QTY_DECIMALS],
        "unit_price": [gross * 10 ** (PRICE_DECIMALS - book.settings.minor_units)], "amount": [gross],
        "marker": pd.Categorical([marker]), "payment": pd.Categorical([payment]),
        "reservation_days": pd.array([_days(reservation_days)], dtype="Int64"),
        "moneyback_days": pd.array([_days(moneyback_days)], dtype="Int64"),
    })
    try:
        priced = price_as(book, {CLIENT: client}, line)
    except InputError as exc:
        problem = exc.problems[0]
        return f"#{(problem.field or 'value').upper()}? {problem.message}"
    row = priced.iloc[0]
    return {name: int(row[name]) for name in ("kit_pct", "kit_discount", "kit_bonus", "price_discount", "net",
                                              "bonus_accrued", "reservation_cost", "vat", "concession_pct")}


def price_as(book: TariffBook, clients: dict[str, Client], lines: pd.DataFrame) -> pd.DataFrame:
    """``lines`` priced by the pipeline for made-up ``clients`` (no tariff changes): what-if figures."""
    return price_lines(lines, RunContext(dataclasses.replace(book, clients=clients, tariff_changes=()))).lines


def _days(value) -> int:
    return int(parse_decimal(value)) if value not in (None, "") else 0


def _pick(figures: dict | str, name: str, decimals: int):
    """One figure as a decimal number (its integer scaled back), or the #message."""
    if isinstance(figures, str):
        return figures
    return Decimal(figures[name]).scaleb(-decimals)


def kit_pct(book: TariffBook, tariff, marker, reservation_days=0, moneyback_days=0, payment=None):
    """The kit discount % a line gets under the tariff, marker and options."""
    return _pick(price_line(book, 100, tariff, marker, reservation_days, moneyback_days, payment), "kit_pct", PCT_DECIMALS)


def _money(book: TariffBook, name: str, amount, *args):
    figures = price_line(book, amount, *args)
    return _pick(figures, name, book.settings.minor_units)


def net(book: TariffBook, amount, tariff="BASE", marker="white", reservation_days=0, moneyback_days=0, payment=None,
        bonus_mode="discount"):
    """What the client pays for a line of ``amount`` (before points)."""
    return _money(book, "net", amount, tariff, marker, reservation_days, moneyback_days, payment, bonus_mode)


def bonus(book: TariffBook, amount, tariff="BASE", marker="white", reservation_days=0, moneyback_days=0, payment=None,
          bonus_mode="discount"):
    """The bonus points a line of ``amount`` earns."""
    return _money(book, "bonus_accrued", amount, tariff, marker, reservation_days, moneyback_days, payment, bonus_mode)


def concession(book: TariffBook, amount, tariff="BASE", marker="white", reservation_days=0, moneyback_days=0,
               payment=None, bonus_mode="discount"):
    """What the line gives away, in % of its amount: price discount, bonus and reservation cost."""
    figures = price_line(book, amount, tariff, marker, reservation_days, moneyback_days, payment, bonus_mode)
    return _pick(figures, "concession_pct", PCT_DECIMALS)
