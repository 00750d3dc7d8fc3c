"""The accountant's one-click year end: a workbook whose Setup sheet names the tariff workbook, the
export and the year; the job writes Rebates, CreditNotes, Summary, the other period tables and the
charts into it, and every problem onto its Warnings sheet instead of a traceback.

In Excel the xlwings add-in's "Run main" calls ``main()`` of ``year_end.py`` beside the workbook;
outside Excel ``erp-plugin year-end WORKBOOK`` (or ``python year_end.py``) runs the same ``run`` on
the file through openpyxl.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import api
from ..erp.write import Table
from ..problems import InputError, Problem
from .book import Book

SETUP = "Setup"
WARNINGS = "Warnings"
FIRST_SETTING_ROW = 5


@dataclass(frozen=True)
class Setting:
    key: str
    aliases: tuple[str, ...]
    about: str
    sample: object = None


SETTINGS = (
    Setting("tariffs", ("tariff workbook", "тарифы", "тарифная книга"),
            "The tariff workbook, a path from this workbook's folder / тарифная книга", "tariffs.xlsx"),
    Setting("export", ("sales export", "выгрузка", "выгрузка продаж"),
            "The ERP's sales export: xlsx, csv or parquet / выгрузка продаж из ERP", "sales_export.xlsx"),
    Setting("year", ("fiscal year", "год", "финансовый год"),
            "The fiscal year (it starts on fiscal_year_start of the tariff workbook) / финансовый год", 2026),
    Setting("sheet", ("export sheet", "лист", "лист выгрузки"),
            "Optional: the export's sheet, when it has several / лист выгрузки, если их несколько"),
    Setting("skip_bad_lines", ("skip bad lines", "пропускать ошибочные строки"),
            "TRUE: leave out lines that cannot be priced and list them on Warnings / пропускать ошибочные строки",
            False),
    Setting("ledger", ("bonus ledger", "реестр баллов"),
            "Optional: the bonus ledger (a SQLite file or a database URL) for the liability by month / реестр баллов"),
)
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
        raise InputError([Problem("setup.missing", f"the workbook has no {SETUP} sheet; it needs one naming the tariff "
                                  "workbook, the export and the year (erp-plugin init writes a year_end.xlsx)")])
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
            problems.append(Problem("setup.blank", f"{key} is blank; name the file, e.g. {_sample(key)}", **where(key)))
    year = found.get("year", (None, ""))[0]
    if isinstance(year, float) and year.is_integer():
        year = int(year)
    if isinstance(year, str) and year.strip().isdigit():
        year = int(year.strip())
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2200:
        problems.append(Problem("setup.year", f"year {year!r} is not a year; write the fiscal year, e.g. 2026", **where("year")))
    skip = str(found.get("skip_bad_lines", (None, ""))[0] or "").strip().casefold()
    if skip not in TRUE | FALSE:
        problems.append(Problem("setup.flag", f"skip_bad_lines {skip!r} is not TRUE or FALSE", **where("skip_bad_lines")))
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


def run(book: Book, progress=None) -> Outcome:
    """The year end into ``book``: every result table on its own sheet, the problems on Warnings, then saved.

    On an error nothing is computed and only Warnings changes, listing every problem."""
    try:
        setup = read_setup(book)
        tariffs = api.load_tariffs(setup.tariffs)
        result = api.rebates(setup.export, tariffs, setup.year, sheet=setup.sheet,
                             skip_bad_lines=setup.skip_bad_lines, progress=progress)
        tables = [t for name, t in result.tables.items() if name != "warnings"]
        if setup.ledger:
            end = pd.Timestamp(result.tables["summary"].frame["to"].iat[0]).date()
            tables.append(api.ledger_liability(setup.ledger, as_of=end, tariffs=tariffs).tables["liability"])
        problems = list(result.problems.warnings)
    except InputError as exc:
        book.put_table(WARNINGS, api.problems_table(exc.problems))
        book.show(WARNINGS)
        book.save()
        return Outcome(list(exc.problems), [WARNINGS])
    for table in tables:
        book.put_table(table.title, table)
    book.put_table(WARNINGS, api.problems_table(problems))
    book.show("Summary")
    book.save()
    return Outcome(problems, [t.title for t in tables] + [WARNINGS], result.tables["summary"], result.minor_units)


def write_workbook(path: str | Path) -> None:
    """A fresh year-end workbook: the Setup sheet with the sample's files and year, ready for Run main."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from ..tariffs.template import FIXED_TIME, HEADER_FILL, HEADER_FONT
    from ..xlsx import save_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = SETUP
    ws["A1"] = "Годовые ретро-бонусы / Year-end rebates"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = ("Заполните колонку B и нажмите Run main на вкладке xlwings (или: python year_end.py). "
                "Fill in column B, then press Run main on the xlwings tab (or run: python year_end.py).")
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells("A2:C2")
    ws.row_dimensions[2].height = 32
    for column, name in enumerate(("setting", "value", "about"), start=1):
        cell = ws.cell(row=FIRST_SETTING_ROW - 1, column=column, value=name)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for row, setting in enumerate(SETTINGS, start=FIRST_SETTING_ROW):
        ws.cell(row=row, column=1, value=setting.key)
        ws.cell(row=row, column=2, value=setting.sample)
        ws.cell(row=row, column=3, value=setting.about)
    for letter, width in zip("ABC", (18, 28, 100)):
        ws.column_dimensions[letter].width = width
    wb.properties.creator = "erp-plugin"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    save_workbook(wb, Path(path), deterministic=True)



def main() -> None:
    """xlwings' "Run main": the job on the workbook that called it."""
    from .xlwings_book import calling_book

    run(calling_book())
