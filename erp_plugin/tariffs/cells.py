"""Turning one raw cell into a typed value, or a problem that says what would be right."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from ..i18n import N_, Number, msg
from ..money import PCT_DECIMALS, MoneyError, round_half_up
from ..parsing import decimals_of, parse_decimal
from ..problems import Problems
from .workbook import RawCell

EXPECTED = {
    "money": N_("an amount, e.g. 1990 or 1 990,00"),
    "pct": N_("a percentage, e.g. 2.5"),
    "number": N_("a number, e.g. 2.5"),
    "int": N_("a whole number, e.g. 3"),
    "date": N_("a date, e.g. 31.12.2026"),
    "birthday": N_("a date, e.g. 31.12.1980, or a day and month without the year, e.g. 31.12"),
    "bool": N_("TRUE or FALSE"),
    "text": N_("a value"),
    "key": N_("a value"),
    "list": N_("a comma-separated list"),
    "raw": N_("a value"),
}

_EXCEL_EPOCH = date(1899, 12, 30)
_TRUE = {"true", "1", "yes", "y", "да", "истина", "д"}
_FALSE = {"false", "0", "no", "n", "нет", "ложь", "н"}


def text_of(value: object) -> str:
    """A cell as text: ``1001.0`` read from a number cell becomes ``1001``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def parse_date(value: object) -> date:
    """A date as users hold it: a date cell, ``dd.mm.yyyy``, ISO ``yyyy-mm-dd``, or an Excel serial."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466:
            return _EXCEL_EPOCH + timedelta(days=int(value))
        raise ValueError
    text = str(value).strip()
    match = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?", text)
    if match:
        day, month, year = map(int, match.groups())
        return date(year, month, day)
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2})?)?", text)
    if match:
        year, month, day = map(int, match.groups())
        return date(year, month, day)
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return _EXCEL_EPOCH + timedelta(days=int(float(text)))
    raise ValueError


def parse_birthday(value: object):
    """A birthday: a date as ``parse_date`` reads one, or ``dd.mm`` when the year is not known (a MonthDay)."""
    from .model import MonthDay

    match = re.fullmatch(r"(\d{1,2})[./](\d{1,2})\.?", str(value).strip()) if isinstance(value, str) else None
    if match:
        day, month = map(int, match.groups())
        date(2000, month, day)  # a leap year: 29.02 is a day; 31.04 raises ValueError
        return MonthDay(month, day)
    return parse_date(value)


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    key = text_of(value).casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError


class CellReader:
    """Converts cells of one sheet, recording every problem with its ``Sheet!Cell``."""

    def __init__(self, sheet: str, problems: Problems, minor_units: int = 2):
        self.sheet = sheet
        self.problems = problems
        self.minor_units = minor_units

    def error(self, cell: RawCell, code: str, message: str) -> None:
        self.problems.error(code, message, sheet=self.sheet, cell=cell.ref)

    def warning(self, cell: RawCell, code: str, message: str) -> None:
        self.problems.warning(code, message, sheet=self.sheet, cell=cell.ref)

    def read(
        self,
        cell: RawCell | None,
        kind: str,
        label: str,
        required: bool = False,
        low: Decimal | None = None,
        high: Decimal | None = None,
    ):
        """The typed value of ``cell``, or None when blank or wrong (then a problem is recorded)."""
        if cell is None:
            return None
        if cell.formula is not None:
            self.error(
                cell,
                "formula.no_value",
                msg("formula {formula} has no computed value: the file was saved by a program that does not "
                    "calculate formulas; open it in Excel or LibreOffice, save it, and run again",
                    formula=cell.formula),
            )
            return None
        if cell.blank:
            if required:
                self.error(cell, "value.blank", msg("{label} is blank; expected {expected}", label=label, expected=EXPECTED[kind]))
            return None
        try:
            return self._convert(cell, kind, label, low, high)
        except (ValueError, ArithmeticError):
            shown = text_of(cell.value)
            self.error(cell, f"type.{kind}", msg("{label} {shown!r} is not {expected}", label=label, shown=shown, expected=EXPECTED[kind]))
            return None

    def _convert(self, cell: RawCell, kind: str, label: str, low, high):
        value = cell.value
        if kind == "raw":
            return value
        if kind in ("text", "key"):
            return text_of(value)
        if kind == "list":
            return tuple(part.strip() for part in text_of(value).split(",") if part.strip())
        if kind == "date":
            return parse_date(value)
        if kind == "birthday":
            return parse_birthday(value)
        if kind == "bool":
            return parse_bool(value)
        number = self._number(cell, kind)
        shown = plain(number)
        if low is not None and number < low:
            what = N_("negative") if low == 0 else msg("below {low}", low=plain(low))
            self.error(cell, "value.range", msg("{label} {shown} is {what}; expected {low} or more", label=label, shown=shown, what=what, low=plain(low)))
            return None
        if high is not None and number > high:
            self.error(cell, "value.range", msg("{label} {shown} is above {high}; expected at most {high}", label=label, shown=shown, high=plain(high)))
            return None
        if kind == "int":
            if number != number.to_integral_value():
                self.error(cell, "type.int", msg("{label} {shown} is not a whole number; expected e.g. {number}", label=label, shown=shown, number=int(number)))
                return None
            return int(number)
        if kind == "money":
            return int(round_half_up(number.scaleb(self.minor_units)))
        if kind == "pct" and decimals_of(number) > PCT_DECIMALS:
            self.error(
                cell,
                "value.precision",
                msg("{label} {shown} has more than {decimals} decimals; round it, e.g. {example}",
                    label=label, shown=shown, decimals=PCT_DECIMALS, example=plain(round_half_up(number, PCT_DECIMALS))),
            )
            return None
        return number

    def _number(self, cell: RawCell, kind: str) -> Decimal:
        if isinstance(cell.value, bool):
            raise ValueError
        try:
            number = parse_decimal(cell.value)
        except MoneyError:
            raise ValueError from None
        if kind == "pct" and cell.percent and not isinstance(cell.value, str):
            number = number * 100  # a cell formatted as 5 % holds 0.05
        return number


# ---------------------------------------------------------------- whole columns

LATER = object()  # a cell the whole-column pass leaves to ``CellReader.read``


def _list(text: str) -> tuple[str, ...] | None:
    text = text.strip()
    return tuple(part.strip() for part in text.split(",") if part.strip()) if text else None


def _raw(value):
    return None if type(value) is str and not value.strip() else value


def common_values(values, kind: str, required: bool) -> list:
    """A column's values typed in one pass where that is plain: text, date cells, blanks.

    Every other cell (a number to check, a date written as text, a blank where a value is
    required) is ``LATER``, for ``CellReader.read`` to type or report one by one: the result is
    the same as reading each cell, only faster on the long text columns of a big Clients sheet.
    """
    if kind in ("text", "key"):
        typed = [(v.strip() or None) if type(v) is str else LATER for v in values]
    elif kind == "list":
        typed = [_list(v) if type(v) is str else LATER for v in values]
    elif kind in ("date", "birthday"):
        typed = [v.date() if type(v) is datetime else v if type(v) is date else None if v == "" else LATER for v in values]
    elif kind == "raw":
        typed = [_raw(v) for v in values]
    else:  # numbers and booleans: every one is checked by the cell reader
        typed = [None if v == "" else LATER for v in values]
    if required and None in typed:
        typed = [LATER if v is None else v for v in typed]
    return typed


def plain(number: Decimal) -> Number:
    """A decimal for a message as a person writes it, in the language's way: ``Decimal('7.50')`` -> «7,5» /
    "7.5", ``Decimal('1E+1')`` -> ``10``."""
    return Number(number, most=None)
