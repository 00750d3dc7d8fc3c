"""Worksheet functions for Excel through xlwings: =ERP_KIT_PCT(...), =ERP_NET(...), =ERP_BONUS(...),
=ERP_CONCESSION(...). Thin wrappers: the tariff book is the calling workbook's own (cached, reloaded
when the file changes) and every figure comes from excel.functions.

xlwings' decorators only attach metadata, and on Linux (no Excel) they are not even there: the
wrappers are then plain functions, so this module imports everywhere and the rest of the package
never needs xlwings.
"""

from __future__ import annotations

from . import functions

try:  # the excel extra
    import xlwings as xw
except ImportError:  # pragma: no cover - depends on the machine
    xw = None


def _udf(function):
    return xw.func(function) if xw is not None and hasattr(xw, "func") else function


OUTSIDE_EXCEL = "#EXCEL? worksheet functions run inside Excel (xlwings add-in)"


def _calling_book():
    if xw is None or not hasattr(xw, "Book"):
        return OUTSIDE_EXCEL
    try:
        caller = xw.Book.caller().fullname
    except Exception:  # outside Excel, xlwings fails in platform-specific ways; the cell says why
        return OUTSIDE_EXCEL
    return functions.book_at(caller)


def _with_book(answer):
    book = _calling_book()
    return book if isinstance(book, str) else answer(book)


@_udf
def ERP_KIT_PCT(tariff, marker, reservation_days=0, moneyback_days=0, payment=None):
    return _with_book(lambda b: functions.kit_pct(b, tariff, marker, reservation_days, moneyback_days, payment))


@_udf
def ERP_NET(amount, tariff="BASE", marker="white", reservation_days=0, moneyback_days=0, payment=None, bonus_mode="discount"):
    return _with_book(lambda b: functions.net(b, amount, tariff, marker, reservation_days, moneyback_days, payment, bonus_mode))


@_udf
def ERP_BONUS(amount, tariff="BASE", marker="white", reservation_days=0, moneyback_days=0, payment=None, bonus_mode="discount"):
    return _with_book(lambda b: functions.bonus(b, amount, tariff, marker, reservation_days, moneyback_days, payment, bonus_mode))


@_udf
def ERP_CONCESSION(amount, tariff="BASE", marker="white", reservation_days=0, moneyback_days=0, payment=None,
                   bonus_mode="discount"):
    return _with_book(
        lambda b: functions.concession(b, amount, tariff, marker, reservation_days, moneyback_days, payment, bonus_mode))
