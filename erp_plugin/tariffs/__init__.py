"""The tariff workbook: read, validate, and write a fresh one."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ..problems import Problems
from .model import TariffBook
from .read import read_book
from .validate import check_book
from .workbook import Workbook


def read_tariffs(path: str | Path, today: date | None = None) -> tuple[TariffBook | None, Problems]:
    """The validated TariffBook and every problem found; the book is None when any problem is an error.

    ``today`` dates the lint of promotion windows that are already over.
    """
    problems = Problems()
    workbook, problem = Workbook.open(path)
    if problem is not None:
        problems.extend([problem])
        return None, problems
    try:
        book, defined = read_book(workbook, problems)
    finally:
        workbook.close()
    check_book(book, defined, problems, today or date.today())
    return (None if problems.errors else book), problems


__all__ = ["TariffBook", "read_tariffs"]
