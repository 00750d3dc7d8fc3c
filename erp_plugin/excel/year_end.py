"""The accountant's one-click year end: a workbook whose Setup sheet names the tariff workbook, the
export and the year; the job writes Rebates, CreditNotes, Summary, the other period tables and the
charts into it, and every problem onto its Warnings sheet instead of a traceback.

In Excel the xlwings add-in's "Run main" calls ``main()`` of ``year_end.py`` beside the workbook;
outside Excel ``erp-plugin year-end WORKBOOK`` (or ``python year_end.py``) runs the same ``run_year_end`` on
the file through openpyxl.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import jobs
from ..i18n import N_, choose, msg, sheet_title, use
from ..output.year_end_book import SETTINGS, SETUP
from ..period.client_names import with_names
from ..problems import InputError, Problem
from ..tables import Table
from .book import Book, file_book

WARNINGS = "Warnings"  # the sheet's canonical name (a script's call); a face's run names it in its language


def _warnings() -> str:
    return sheet_title("warnings", WARNINGS)


TRUE = {"true", "yes", "1", "да", "истина"}
FALSE = {"false", "no", "0", "нет", "ложь", ""}


@dataclass(frozen=True)
class Setup:
    tariffs: Path
    export: Path
    year: int
    sheet: str | None = None
    skip_bad_lines: bool = False
    ledger: str | None = None


@dataclass(frozen=True)
class Outcome:
    problems: list[Problem]  # errors (nothing computed) or the run's warnings
    sheets: list[str]  # the sheets written
    summary: Table | None = None
    minor_units: int = 2

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def read_setup(book: Book) -> Setup:
    """The Setup sheet's values, or InputError naming each wrong cell (``Setup!B7``) and what would be right."""
    if SETUP not in book.sheet_names():
        raise InputError([Problem("setup.missing", msg("the workbook has no {setup} sheet; it needs one naming "
                                                       "the tariff workbook, the export and the year "
                                                       "(erp-plugin init writes a year_end.xlsx)",
                                                       setup=SETUP))])
    names = {name: s.key for s in SETTINGS for name in (s.key, s.key.replace("_", " "), *s.aliases)}
    found: dict[str, tuple[object, str]] = {}
    for number, row in enumerate(book.values(SETUP), start=1):
        key = names.get(str(row[0] if row else "").strip().casefold())
        if key and key not in found:
            found[key] = (row[1] if len(row) > 1 else None, f"B{number}")
    problems: list[Problem] = []

    def where(key: str) -> dict:
        return {"sheet": SETUP, "cell": found[key][1]} if key in found else {"sheet": SETUP}

    def text(key: str) -> str | None:
        value = found.get(key, (None, ""))[0]
        return (str(value).strip() or None) if value is not None else None

    for key in ("tariffs", "export"):
        if text(key) is None:
            problems.append(Problem("setup.blank", msg("{key} is blank; name the file, e.g. {sample}", key=key, sample=_sample(key)), **where(key)))
    year = found.get("year", (None, ""))[0]
    if isinstance(year, float) and year.is_integer():
        year = int(year)
    if isinstance(year, str) and year.strip().isdigit():
        year = int(year.strip())
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2200:
        problems.append(Problem("setup.year", msg("year {year!r} is not a year; write the fiscal year, e.g. "
                                                  "2026",
                                                  year=year), **where("year")))
    skip = str(found.get("skip_bad_lines", (None, ""))[0] or "").strip().casefold()
    if skip not in TRUE | FALSE:
        problems.append(Problem("setup.flag", msg("skip_bad_lines {skip!r} is not TRUE or FALSE", skip=skip), **where("skip_bad_lines")))
    if problems:
        raise InputError(problems)
    ledger = text("ledger")
    if ledger and "://" not in ledger:
        ledger = str(_path(book, ledger))
    return Setup(_path(book, text("tariffs")), _path(book, text("export")), year, text("sheet"), skip in TRUE, ledger)


def _sample(key: str) -> object:
    return next(s.sample for s in SETTINGS if s.key == key)


def _path(book: Book, name: str) -> Path:
    path = Path(name).expanduser()
    return path if path.is_absolute() else book.folder / path


def run_year_end(book: Book, progress=None) -> Outcome:
    """The year end into ``book``: every result table on its own sheet, the problems on Warnings, then saved.

    On an error nothing is computed and only Warnings changes, listing every problem."""
    try:
        setup = read_setup(book)
        tariffs = jobs.load_tariffs(setup.tariffs)
        result = jobs.rebates(setup.export, tariffs, setup.year, sheet=setup.sheet,
                             skip_bad_lines=setup.skip_bad_lines, progress=progress)
        tables = [with_names(t, tariffs) for name, t in result.tables.items() if name != "warnings"]
        if setup.ledger:
            end = pd.Timestamp(result.tables["summary"].frame["to"].iat[0]).date()
            tables.append(jobs.ledger_liability(setup.ledger, as_of=end, tariffs=tariffs).tables["liability"])
        problems = list(result.problems.warnings)
    except InputError as exc:
        book.put_table(_warnings(), jobs.problems_table(exc.problems))
        book.show(_warnings())
        book.save()
        return Outcome(list(exc.problems), [_warnings()])
    for table in tables:
        book.put_table(sheet_title(table.name, table.title), table)
    book.put_table(_warnings(), jobs.problems_table(problems))
    book.show(sheet_title("summary", "Summary"))
    book.save()
    return Outcome(problems, [sheet_title(t.name, t.title) for t in tables] + [_warnings()], result.tables["summary"], result.minor_units)


def run_file(workbook: str | Path, progress=None) -> Outcome:
    """The one-click year end on a year-end workbook file (its Setup sheet names the tariff workbook, the
    export and the year): the result sheets and charts are written into it, problems onto its Warnings sheet."""
    return run_year_end(file_book(workbook, N_("year-end workbook")), progress)


def main() -> None:
    """xlwings' "Run main": the job on the workbook that called it, its sheets and messages in the language of
    the machine's locale (else Russian)."""
    from .xlwings_book import calling_book

    with use(choose()):
        run_year_end(calling_book())
