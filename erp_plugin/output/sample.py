"""A sample sales export as 1C writes it: a title block, Russian headers, text numbers, a totals row.

It is deterministic (a seeded generator plus hand-placed showcase documents) and
agrees with the template tariff workbook: its clients, SKUs and payment options
are the template's, so ``init`` gives a pair that works together.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from ..money import format_minor, round_half_up
from ..parsing import parse_decimal, to_minor
from ..xlsx import save_workbook
from .template import CLIENTS, FIXED_TIME, PRODUCTS

HEADERS = (
    "Дата", "Документ", "№", "Код контрагента", "Контрагент", "ИНН", "Артикул", "Номенклатура", "Группа",
    "Количество", "Цена", "Сумма", "Ставка НДС", "Оплата", "Резерв, дней", "Возврат, дней",
    "Оплачено бонусами", "Купон",
)
TITLE_ROWS = 4  # the header sits on row 5, under the report's title block
REDUCED_VAT = {"АПТ-01"}  # medical goods: 10 %
PAYMENTS = ("prepaid", "on_delivery", "deferral_30", "deferral_60")
THIN = Side(style="thin", color="808080")


@dataclass
class Line:
    day: date
    doc: str
    client: tuple
    sku: str
    qty: int
    payment: str = "prepaid"
    reservation_days: int = 0
    moneyback_days: int = 0
    bonus_paid: Decimal = Decimal(0)
    coupon: str = ""


def sample_lines(year: int = 2026, months: int = 11) -> list[Line]:
    rng = random.Random(year)
    docs: list[tuple[date, tuple, list[tuple[str, int]], dict]] = []
    for month in range(1, months + 1):
        for client in CLIENTS:
            for _ in range(rng.randint(0, 2)):
                day = date(year, month, rng.randint(1, 28))
                items = [(p[0], rng.choice((1, 2, 5, 10, 20, 50))) for p in rng.sample(PRODUCTS, rng.randint(1, 4))]
                options = dict(
                    payment=rng.choice(PAYMENTS),
                    reservation_days=rng.choice((0, 0, 3, 7, 14)),
                    moneyback_days=rng.choice((0, 14, 30)),
                )
                docs.append((day, client, items, options))
    by_id = {c[0]: c for c in CLIENTS}
    # Showcases: a phone with its case (bundle), a return of part of a sale, six automatic breakers
    # (every 3rd at 50 %), a big order that reaches a card tier, and bonus points spent.
    docs += [
        (date(year, 3, 16), by_id["00-000101"], [("PHONE-01", 2), ("CASE-01", 2)], dict(payment="deferral_30")),
        (date(year, 4, 2), by_id["00-000102"], [("АВТ-C16", 6), ("АВТ-C32-3P", 2)], dict(moneyback_days=30)),
        (date(year, 4, 20), by_id["00-000102"], [("АВТ-C16", -2)], dict(moneyback_days=30)),
        (date(year, 5, 12), by_id["00-000104"], [("ARM-A500-12", 40), ("ЩИТ-48", 10)], dict(reservation_days=14)),
        (date(year, 10, 6), by_id["00-000101"], [("УЗО-40-30", 4)], dict(bonus_paid=Decimal("500.00"))),
    ]
    return document_lines(docs)


def document_lines(docs: list[tuple]) -> list[Line]:
    """The lines of documents ``(day, client, [(sku, qty), …], options)``, numbered in date order as 1C
    numbers them; a document of negative quantities is a return."""
    docs = sorted(docs, key=lambda d: (d[0], d[1][0]))
    lines = []
    for number, (day, client, items, options) in enumerate(docs, start=1):
        kind = "Возврат товаров от клиента" if items[0][1] < 0 else "Реализация товаров и услуг"
        doc = f"{kind} 00-{number:06d} от {day:%d.%m.%Y}"
        lines.extend(Line(day, doc, client, sku, qty, **options) for sku, qty in items)
    return lines


def write_sample_export(path: str | Path, year: int = 2026) -> None:
    save_workbook(build_export(year), Path(path), deterministic=True)


def build_export(year: int = 2026, lines: list[Line] | None = None, period: str | None = None) -> Workbook:
    """The 1C report of ``lines`` (default: the year's sample_lines) under the title's ``period``."""
    products = {p[0]: p for p in PRODUCTS}
    wb = Workbook()
    ws = wb.active
    ws.title = "TDSheet"  # the sheet name 1C gives its spreadsheet documents
    last_col = len(HEADERS)
    ws.append(["Продажи по номенклатуре"])
    ws.append([period or f"Период: 01.01.{year} - 31.12.{year}"])
    ws.append(["Организация: ООО «ЭлектроОпт» (ИНН 7700000000)"])
    ws.append([])
    ws.append(list(HEADERS))
    for row in range(1, 4):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_col)
    ws["A1"].font = Font(bold=True, size=14)
    for cell in ws[TITLE_ROWS + 1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F2F2F2")
        cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    total_qty, total_sum = 0, 0
    line_in_doc: dict[str, int] = {}
    for i, line in enumerate(sample_lines(year) if lines is None else lines):
        sku, name, _marker, category, price_text = products[line.sku]
        price = parse_decimal(price_text)
        amount = to_minor(price * line.qty)
        total_qty += line.qty
        total_sum += amount
        line_in_doc[line.doc] = line_in_doc.get(line.doc, 0) + 1
        as_text = i % 4 == 3  # every fourth line carries its numbers as text, as some 1C reports do
        client_id, _t, _m, _j, client_name, inn = line.client[:6]
        ws.append([
            line.day if i % 5 else line.day.strftime("%d.%m.%Y"),
            line.doc,
            line_in_doc[line.doc],
            client_id,
            client_name,
            inn,
            sku,
            name,
            category,
            _ru(Decimal(line.qty), 0) if as_text else line.qty,
            _ru(price, 2) if as_text else price,
            _ru(Decimal(format_minor(amount)), 2) if as_text else Decimal(format_minor(amount)),
            "10%" if sku in REDUCED_VAT else "22%",
            line.payment,
            line.reservation_days or None,
            line.moneyback_days or None,
            line.bonus_paid or None,
            line.coupon or None,
        ])
        row = ws.max_row
        ws.cell(row=row, column=1).number_format = "DD.MM.YYYY"
        for col in (11, 12, 17):
            ws.cell(row=row, column=col).number_format = "#,##0.00"
    ws.append(["Итого"] + [None] * 8 + [total_qty, None, Decimal(format_minor(total_sum))])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
        cell.border = Border(top=THIN)
    ws.cell(row=ws.max_row, column=12).number_format = "#,##0.00"
    for letter, width in zip("ABCDEFGHIJKLMNOPQR", (12, 48, 5, 13, 28, 14, 16, 40, 14, 11, 12, 14, 10, 13, 10, 10, 12, 10)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = ws.cell(row=TITLE_ROWS + 2, column=1)
    wb.properties.creator = "erp-plugin"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    return wb


def _ru(number: Decimal, places: int) -> str:
    """``1234.5`` -> ``1 234,50`` with non-breaking spaces, as 1C prints numbers."""
    text = f"{round_half_up(number, places):,.{places}f}"
    return text.replace(",", "\u00a0").replace(".", ",")

