"""The tariff workbook: read, validate, and write a fresh one."""

from __future__ import annotations

import gc
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
    collecting = gc.isenabled()
    gc.disable()  # a big Clients sheet makes ~a million objects without cycles: the collector would walk
    try:  # every object of the process again and again (a third of the read in a process that holds pandas)
        book, reader = read_book(workbook, problems)
    finally:
        workbook.close()
        if collecting:
            gc.enable()
    check_book(book, reader.defined, reader.rejected, problems, today or date.today())
    return (None if problems.errors else book), problems


__all__ = ["TariffBook", "read_tariffs"]
