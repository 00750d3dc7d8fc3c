"""The what-if sheet of the tariff workbook: a sample basket priced under every tariff × bonus mode ×
payment option, so a sales manager sees what a change of the programme does before saving it.

``erp-plugin init`` writes the ``Preview`` sheet (a basket, a date, a place for the results);
``erp-plugin preview TARIFFS`` (or Run main in Excel, through ``tariffs.py`` beside the workbook)
fills its results. The basket is priced by the same pipeline as an export, one document per
combination, for a made-up client joined long ago with no segments.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from .. import jobs
from ..i18n import N_, choose, msg, use
from ..lines import SOURCE_ROW
from ..money import MoneyError, share_pct
from ..output.preview_sheet import BASKET, DATE_LABELS, PREVIEW, results_labels
from ..output.style import HIGHLIGHT_COLUMN
from ..parsing import parse_decimal
from ..problems import InputError, Problem
from ..tables import PCT, PRICE_DECIMALS, QTY_DECIMALS, TEXT, Table, money
from ..tariffs.language import workbook_language
from ..tariffs.model import Client, TariffBook
from .book import Book, file_book
from .functions import LONG_AGO, price_as

ROW_SPAN = 1_000_000  # source_row = combination × ROW_SPAN + the basket line's sheet row
FIGURES = ("gross", "price_discount", "net", "bonus_accrued", "reservation_cost")
BEST_MARK = "★"  # the best option of its tariff for the client; the row is highlighted (output/style.py)


@dataclass(frozen=True)
class Basket:
    lines: pd.DataFrame  # sheet_row and the BASKET fields, numbers scaled like an export's; lines with a bad cell left out
    day: date
    results_row: int  # where the results table's header goes
    problems: tuple[Problem, ...] = ()  # every wrong cell (``Preview!E7``), each line's every one


def read_basket(values: list[list], today: date | None = None) -> Basket:
    """The basket of the Preview sheet with every wrong cell of every line among its problems (those lines
    are left out of ``lines``, so that the others can still be priced for their own problems); InputError
    only when there is no basket to read."""
    aliases = {alias: field for field, names, _required in BASKET for alias in names}
    header_row, columns = None, {}
    for number, row in enumerate(values, start=1):
        found = {aliases[str(v).strip().casefold()]: c for c, v in enumerate(row) if str(v or "").strip().casefold() in aliases}
        if "qty" in found and "unit_price" in found:
            header_row, columns = number, found
            break
    if header_row is None:
        raise InputError([Problem("preview.no_basket", msg("the Preview sheet has no basket: a header row with "
                                                           "qty and unit_price (erp-plugin init writes one)"), sheet=PREVIEW)])
    problems: list[Problem] = []
    day = today or date.today()
    for number, row in enumerate(values[:header_row - 1], start=1):
        if row and str(row[0] or "").strip().casefold() in DATE_LABELS and len(row) > 1 and row[1] not in (None, ""):
            if isinstance(row[1], (date, datetime)):
                day = row[1].date() if isinstance(row[1], datetime) else row[1]
            else:
                problems.append(Problem("preview.date", msg("{row!r} is not a date; enter a date, or leave it "
                                                            "blank for today",
                                                            row=row[1]), sheet=PREVIEW, cell=f"B{number}"))
    results_row, records, last = None, [], None
    for number, row in enumerate(values[header_row:], start=header_row + 1):
        if _is_results_label(row):
            results_row = number + 1
            break
        cells = {field: row[c] if c < len(row) else None for field, c in columns.items()}
        if all(v in (None, "") for v in cells.values()):
            continue
        record, wrong = {"sheet_row": number}, []
        for field, _names, required in BASKET:
            cell = f"{get_column_letter(columns.get(field, 0) + 1)}{number}"
            record[field], problem = _value(field, cells.get(field), required, cell)
            if problem:
                wrong.append(problem)
        problems += wrong
        if not wrong:
            records.append(record)
        last = number
    if last is None:
        problems.append(Problem("preview.empty", msg("the basket is empty; fill in at least one line (qty and "
                                                     "unit_price)"),
                                sheet=PREVIEW, cell=f"A{header_row + 1}"))
    lines = pd.DataFrame.from_records(records, columns=["sheet_row", *(field for field, _n, _r in BASKET)])
    return Basket(lines, day, results_row or (last or header_row) + 3, tuple(problems))


def _value(field: str, value, required: bool, cell: str):
    """One basket cell as the export reader would hold it, or the problem with it."""
    blank = value is None or str(value).strip() == ""
    if blank:
        if required:
            return None, Problem("preview.blank", msg("{field} is blank; every basket line needs it", field=field), sheet=PREVIEW, cell=cell)
        return None, None
    if field in ("sku", "category", "marker"):
        return str(value).strip(), None
    try:
        number = parse_decimal(value)
    except MoneyError as exc:
        return None, Problem("preview.number", msg("{field}: {exc}", field=field, exc=exc), sheet=PREVIEW, cell=cell)
    scale = {"qty": QTY_DECIMALS, "unit_price": PRICE_DECIMALS}.get(field, 0)
    scaled = number.scaleb(scale)
    if scaled != scaled.to_integral_value() or number < 0 or (field == "qty" and number == 0):
        right = {"qty": N_("a quantity above 0, up to 3 decimals"),
                 "unit_price": N_("a price of 0 or more, up to 4 decimals")}
        return None, Problem("preview.number", msg("{field} {value!r} is not {expected}",
                                                   field=field, value=value, expected=right.get(field, N_("a whole number of days, 0 or more"))),
                             sheet=PREVIEW, cell=cell)
    return int(scaled), None


def what_if(book: TariffBook, basket: Basket) -> Table:
    """The basket under every tariff × bonus mode × payment option: one row each, in the workbook's order."""
    payments = [str(o.value) for o in book.option_values("payment")] or [None]
    combos = list(itertools.product(book.tariffs, book.bonus_modes, payments))
    n, k = len(basket.lines), len(combos)
    clients = {f"__preview_{i}__": Client(f"__preview_{i}__", tariff=t, bonus_mode=m, joined=LONG_AGO)
               for i, (t, m, _p) in enumerate(combos)}
    each = np.repeat(np.arange(k), n)
    lines = basket.lines
    frame = pd.DataFrame({
        SOURCE_ROW: each * ROW_SPAN + np.tile(lines["sheet_row"].to_numpy(), k),
        "date": np.full(n * k, np.datetime64(basket.day, "s")),
        "doc_id": pd.Categorical([f"preview-{i}" for i in each]),
        "client_id": pd.Categorical(np.array(list(clients), dtype=object)[each]),
        "qty": np.tile(lines["qty"].to_numpy(dtype=np.int64), k),
        "unit_price": np.tile(lines["unit_price"].to_numpy(dtype=np.int64), k),
        "payment": pd.Categorical(np.array(payments, dtype=object)[np.array([payments.index(c[2]) for c in combos])[each]]),
        **{field: pd.Categorical(np.tile(lines[field].to_numpy(dtype=object), k)) for field in ("sku", "category", "marker")},
        **{field: pd.array(np.tile(lines[field].to_numpy(dtype=object), k), dtype="Int64")
           for field in ("reservation_days", "moneyback_days")},
    })
    try:
        priced = price_as(book, clients, frame)
    except InputError as exc:
        raise InputError(_on_the_sheet(exc.problems, lines)) from None
    sums = priced.assign(combo=each)[["combo", *FIGURES]].groupby("combo").sum().reindex(range(k))
    result = pd.DataFrame({
        "tariff": [c[0] for c in combos], "bonus_mode": [c[1] for c in combos], "payment": [c[2] for c in combos],
        **{name: sums[name].to_numpy(dtype=np.int64) for name in FIGURES},
    })
    given = sum(result[name].to_numpy() for name in ("price_discount", "bonus_accrued", "reservation_cost"))
    result["concession_pct"] = share_pct(given, result["gross"].to_numpy())
    result["monthly_fee"] = [book.tariffs[c[0]].monthly_fee for c in combos]
    result[HIGHLIGHT_COLUMN] = best_marks(result)
    m = money(book.settings.minor_units)
    kinds = {"tariff": TEXT, "bonus_mode": TEXT, "payment": TEXT, **{name: m for name in FIGURES},
             "concession_pct": PCT, "monthly_fee": m, HIGHLIGHT_COLUMN: TEXT}
    return Table("preview", result, kinds)


def best_marks(result: pd.DataFrame) -> np.ndarray:
    """BEST_MARK on each tariff's rows that give the client the most (price discount + points: a point is
    worth a currency unit), every such row when several tie; blank on the others."""
    gain = pd.Series(result["price_discount"].to_numpy() + result["bonus_accrued"].to_numpy())
    top = gain.groupby(result["tariff"].to_numpy()).transform("max")
    return np.where(gain == top, BEST_MARK, None)


def _on_the_sheet(problems: list[Problem], lines: pd.DataFrame) -> list[Problem]:
    """Pipeline problems (``export row N, field F``) as the basket's cells, each once."""
    letters = {field: get_column_letter(i + 1) for i, (field, _n, _r) in enumerate(BASKET)}
    placed: dict[tuple, Problem] = {}
    for p in problems:
        row = p.row % ROW_SPAN if p.row is not None else None
        cell = f"{letters.get(p.field, 'A')}{row}" if row else None
        placed.setdefault((p.code, cell, p.message), Problem(p.code, p.message, p.severity, sheet=PREVIEW, cell=cell))
    return list(placed.values())


@dataclass(frozen=True)
class Outcome:
    problems: list[Problem]
    table: Table | None  # the results written, or None when there were errors
    minor_units: int = 2


def fill_preview(book: Book, tariffs: str | Path, today: date | None = None) -> Outcome:
    """Fill the Preview sheet of ``book`` from the tariff workbook file ``tariffs`` (the same workbook, saved,
    or a copy of it as it is on screen); problems go where the results would, as a table."""
    try:
        if PREVIEW not in book.sheet_names():
            raise InputError([Problem("preview.missing", msg("the workbook has no Preview sheet; erp-plugin "
                                                             "init writes a tariff workbook with one (copy it "
                                                             "over)"))])
        values = book.values(PREVIEW)
        basket = read_basket(values, today)
        table, tariff_book = _priced(basket, tariffs)
    except InputError as exc:
        if PREVIEW in book.sheet_names():
            book.put_table(PREVIEW, jobs.problems_table(exc.problems), first_row=_results_row(values))
            book.save()
        return Outcome(list(exc.problems), None)
    book.put_table(PREVIEW, table, first_row=basket.results_row)
    book.save()
    return Outcome([], table, tariff_book.settings.minor_units)


def _priced(basket: Basket, tariffs: str | Path) -> tuple[Table, TariffBook]:
    """The basket under every combination, or InputError with every problem at once: the basket's cells,
    the tariff workbook's, and the pricing's of the basket lines whose cells are right."""
    problems = list(basket.problems)
    try:
        tariff_book = jobs.load_tariffs(tariffs)
    except InputError as exc:
        raise InputError([*problems, *exc.problems]) from None
    table = None
    if not basket.lines.empty:
        try:
            table = what_if(tariff_book, basket)
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return table, tariff_book


def run_file(tariffs: str | Path, today: date | None = None) -> Outcome:
    """Fill the tariff workbook's Preview sheet: its basket under every tariff × bonus mode × payment option,
    as of the sheet's date (blank: ``today``); problems go on the sheet."""
    return fill_preview(file_book(tariffs, N_("tariff workbook")), tariffs, today)


def main() -> None:
    """xlwings' "Run main" in the tariff workbook: its Preview from the workbook as it is on screen."""
    from .xlwings_book import calling_book

    book = calling_book()
    copy = book.saved_copy()
    try:
        with use(choose(None, workbook_language(copy))):
            fill_preview(book, copy)
    finally:
        if copy != book.path:
            copy.unlink(missing_ok=True)


def _results_row(values: list[list]) -> int:
    """The row of the results' header: under the label, else two rows below everything on the sheet."""
    return next((number + 1 for number, row in enumerate(values, start=1) if _is_results_label(row)), len(values) + 2)


def _is_results_label(row: list) -> bool:
    """«Результаты», "Results" (whichever language init wrote), or the old «Результаты / Results»."""
    return bool(row) and str(row[0] or "").strip().casefold() in results_labels()
