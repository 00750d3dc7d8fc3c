"""A fresh tariff workbook with every sheet, sensible defaults, dropdowns and instructions.

Headers, column kinds and the Instructions text come from schema.py, the same
description the reader uses, so what ``init`` writes is always what ``validate``
reads. The default programme is a working example: it validates clean and
prices the sample export.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..i18n import N_, translate
from ..period.accounting import POSTINGS
from ..tables import DATE, PCT, money
from ..tariffs.model import Settings
from ..tariffs.schema import (
    DEFAULT_BONUS_MODES,
    DEFAULT_MARKERS,
    OPTIONS,
    REWARDS,
    SETTINGS,
    SHEET,
    SHEETS,
    Col,
)
from ..xlsx import save_workbook
from .formats import number_format

HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
THIN = Side(style="thin", color="A6A6A6")
LAST_ROW = 1000  # dropdowns and number checks cover this many rows
FORMATTED_SPARE_ROWS = 30
FIXED_TIME = datetime(2026, 1, 1)

MARKER_FILLS = {"white": "FFFFFF", "green": "C6EFCE", "yellow": "FFEB9C", "red": "FFC7CE"}

TARIFFS = (  # tariff, monthly fee, discount % for white, green, yellow, red
    ("BASE", 0, 0, 1, 3, 5),
    ("START", 1990, 0, 1.5, 3.5, 6),
    ("BUSINESS", 4990, 0, 2, 4, 7),
    ("PRO", 9990, 0, 2.5, 5, 8),
    ("PREMIUM", 19990, 0, 3, 5.5, 9),
    ("MAX", 49990, 0, 3, 6, 10),
)
OPTION_ROWS = (
    ("payment", "prepaid", 0),
    ("payment", "on_delivery", 0.5),
    ("payment", "deferral_30", 1),
    ("payment", "deferral_60", 2),
    ("reservation_days", 0, 0),
    ("reservation_days", 3, 0.5),
    ("reservation_days", 7, 1),
    ("reservation_days", 14, 2),
    ("moneyback_days", 0, 0),
    ("moneyback_days", 14, 0.5),
    ("moneyback_days", 30, 1),
    ("moneyback_days", 60, 2),
)
CLIENTS = (
    ("00-000101", "PRO", "bonus", date(2025, 3, 1), "ООО «Ромашка»", "7701234560", "regular", "silver",
     date(1980, 4, 12), "zakupki@romashka.ru", "+7 495 123-45-67"),
    ("00-000102", "BUSINESS", "half", date(2026, 2, 10), "ООО «СтройМонтаж»", "7802345676", "", "bronze",
     date(1975, 11, 30), "snab@stroymontazh.ru", "+7 812 234-56-78"),
    ("00-000103", "", "", date(2026, 9, 1), "ИП Иванов Иван Иванович", "770312345678", "", "bronze",
     date(1990, 12, 5), "ivanov@mail.ru", "+7 916 345-67-89"),
    ("00-000104", "PREMIUM", "bonus", date(2024, 1, 15), "АО «ЭлектроСеть»", "5403456780", "regular, key_account", "gold",
     date(1968, 7, 21), "tender@elektroset.ru", "+7 383 456-78-90"),
    ("00-000105", "START", "discount", date(2026, 6, 1), "ООО «Вектор»", "6604567890", "", "bronze",
     None, "office@vector.ru", "+7 343 567-89-01"),
    ("00-000106", "MAX", "half", date(2023, 5, 20), "ООО «Гранит»", "1605678900", "regular", "gold",
     date(1972, 2, 28), "granit@granit.ru", "+7 843 678-90-12"),
)
TARIFF_CHANGES = (
    ("00-000105", date(2026, 9, 1), "BUSINESS", ""),
    ("00-000102", date(2026, 7, 1), "", "bonus"),
)
PRODUCTS = (  # sku, name (for the sample export), marker, category, unit price
    ("КАБ-ВВГ-3х2.5", "Кабель ВВГнг-LS 3х2,5 (м)", "white", "Кабель", "98.40"),
    ("КАБ-ВВГ-5х10", "Кабель ВВГнг-LS 5х10 (м)", "green", "Кабель", "612.00"),
    ("АВТ-C16", "Автоматический выключатель C16 1P", "yellow", "Автоматика", "289.90"),
    ("АВТ-C32-3P", "Автоматический выключатель C32 3P", "yellow", "Автоматика", "1 145.00"),
    ("УЗО-40-30", "УЗО 40А 30мА 2P", "red", "Автоматика", "2 310.50"),
    ("ЩИТ-24", "Щит распределительный на 24 модуля", "green", "Щиты", "4 870.00"),
    ("ЩИТ-48", "Щит распределительный на 48 модулей", "red", "Щиты", "11 250.00"),
    ("ARM-A500-12", "Арматура А500С 12 мм (т)", "white", "Арматура", "61 500.00"),
    ("PHONE-01", "Смартфон служебный X1", "green", "Телефоны", "18 990.00"),
    ("CASE-01", "Чехол для смартфона X1", "red", "Аксессуары", "1 290.00"),
    ("АПТ-01", "Аптечка первой помощи офисная", "white", "Охрана труда", "1 480.00"),
)
PROMOTIONS = (  # rule_id, reward, value, from, to, segment, marker, sku, category, payment, min_qty, requires_sku, every_nth, group, priority
    ("REG5", "discount_pct", 5, None, None, "regular", "", "", "", "", None, "", None, "segment", 1),
    ("NEW2", "discount_pct", 2, None, None, "new", "", "", "", "", None, "", None, "segment", 2),
    ("PREPAY1", "discount_pct", 1, None, None, "", "", "", "", "prepaid", None, "", None, "", 0),
    ("NTH3", "discount_pct", 50, None, None, "", "", "", "Автоматика", "", None, "", 3, "", 0),
    ("BUNDLE-CASE", "discount_pct", 50, None, None, "", "", "CASE-01", "", "", None, "PHONE-01", None, "", 0),
    ("X2-RED", "bonus_multiplier", 2, date(2026, 11, 1), None, "", "red", "", "", "", None, "", None, "", 0),
    ("GOLD1", "discount_pct", 1, None, None, "tier:gold", "", "", "", "", 10, "", None, "", 0),
)
# the margin guardrail a distributor sets: what a line of each marker may give away (discount and bonus,
# promotions included, % of gross) before a warning — above the marker's own range, which promotions go beyond
MAX_CONCESSION_PCT = {"white": 10, "green": 15, "yellow": 25, "red": 35}
REBATE_SCALE = ((0, 0), (1_000_000, 1), (3_000_000, 2), (10_000_000, 3), (50_000_000, 5))
TIERS = (("bronze", None, None), ("silver", 1_000_000, 500_000), ("gold", 5_000_000, 2_000_000))
STAMP_CARD = (("columns", 3), ("cells_per_column", 4), ("min_document", 10_000), ("reward", 1000))
COUPON_RULES = (("C30", 5, 30, "end_of_month", 5000),)
QUESTS = (("Q-ELECTRO", "Кабель, Автоматика, Щиты", date(2026, 1, 1), None, 5000),)


def build_workbook(clients: tuple = CLIENTS) -> Workbook:
    """The template; ``clients``: the Clients sheet's rows (the sample workbooks add the history's clients)."""
    wb = Workbook()
    wb.remove(wb.active)
    _instructions(wb)
    from .preview_sheet import add_sheet as add_preview  # the what-if sheet

    add_preview(wb)
    _settings(wb)
    markers = _sheet(wb, "Markers", [(*marker, MAX_CONCESSION_PCT[marker[0]]) for marker in DEFAULT_MARKERS])
    for r, (name, _lo, _hi) in enumerate(DEFAULT_MARKERS, start=2):
        markers.cell(row=r, column=1).fill = PatternFill("solid", fgColor=MARKER_FILLS[name])
    _tariffs(wb)
    _sheet(wb, "Options", OPTION_ROWS, lists={"option": _literal(OPTIONS)})
    _sheet(wb, "BonusModes", DEFAULT_BONUS_MODES)
    lists = {"tariff": "Tariffs!$A$2:$A$200", "bonus_mode": "BonusModes!$A$2:$A$50", "tier": "Tiers!$A$2:$A$50"}
    _sheet(wb, "Clients", clients, lists=lists)
    _sheet(wb, "TariffChanges", TARIFF_CHANGES, lists=lists)
    markers = {"marker": "Markers!$A$2:$A$50"}
    _sheet(wb, "Products", [(sku, marker, category) for sku, _n, marker, category, _p in PRODUCTS], lists=markers)
    _sheet(wb, "Promotions", PROMOTIONS, lists={"reward": _literal(REWARDS), **markers})
    _sheet(wb, "RebateScale", REBATE_SCALE)
    _sheet(wb, "Tiers", TIERS)
    _sheet(wb, "StampCard", STAMP_CARD)
    _sheet(wb, "CouponRules", COUPON_RULES)
    _sheet(wb, "Quests", QUESTS)
    _sheet(wb, "Columns", ())
    _sheet(wb, "RedemptionEstimates", ())  # no rows: the setting expected_redemption_pct applies
    wb.properties.creator = "erp-plugin"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    return wb


def write_template(path: str | Path, clients: tuple = CLIENTS) -> None:
    save_workbook(build_workbook(clients), Path(path), deterministic=True)


# ------------------------------------------------------------------ sheets


def _sheet(wb: Workbook, name: str, rows, lists: dict[str, str] | None = None, extra: tuple[Col, ...] = ()):
    spec = SHEET[name]
    columns = (*spec.columns, *extra)
    ws = wb.create_sheet(name)
    _header(ws, columns)
    for r, values in enumerate(rows, start=2):
        for c, (col, value) in enumerate(zip(columns, values), start=1):
            if value is None or value == "":
                continue
            cell = ws.cell(row=r, column=c, value=value)
            cell.number_format = _format(col)
    for c, col in enumerate(columns, start=1):
        letter = get_column_letter(c)
        _number_check(ws, col, letter)
        if lists and col.name in lists:
            _dropdown(ws, lists[col.name], f"{letter}2:{letter}{LAST_ROW}")
        width = max([len(col.name)] + [len(str(v[c - 1])) for v in rows if c - 1 < len(v) and v[c - 1] is not None])
        ws.column_dimensions[letter].width = min(max(width + 3, 10), 48)
    for c, col in enumerate(columns, start=1):
        if col.kind in ("money", "pct", "date", "birthday"):  # pre-format the rows a manager is likely to add
            for r in range(len(rows) + 2, len(rows) + 2 + FORMATTED_SPARE_ROWS):
                ws.cell(row=r, column=c).number_format = _format(col)
    return ws


def _header(ws, columns) -> None:
    for c, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=c, value=col.name)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(bottom=THIN)
        note = ", ".join(col.aliases[:2])
        text = f"{'Обязательно / required' if col.required else 'Необязательно / optional'}"
        text += f"\nRU: {note}" if note else ""
        text += f"\n{col.hint}" if col.hint else ""
        cell.comment = Comment(text, "erp-plugin", width=260, height=90)
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 22


def _format(col: Col) -> str:
    """Money (in the default minor units), percentages and dates formatted as in every output; the rest General."""
    kind = {"money": money(Settings().minor_units), "pct": PCT, "date": DATE, "birthday": DATE}.get(col.kind)
    return number_format(kind) if kind else "General"


def _number_check(ws, col: Col, letter: str) -> None:
    if col.kind not in ("money", "pct", "int", "number"):
        return
    cells = f"{letter}2:{letter}{LAST_ROW}"
    if col.kind == "pct" and col.max is not None:
        dv = DataValidation("decimal", operator="between", formula1="0", formula2=str(col.max), allow_blank=True)
        _check(ws, dv, cells, f"{col.name}: a percentage from 0 to {col.max}")
    else:
        kind = "whole" if col.kind == "int" else "decimal"
        dv = DataValidation(kind, operator="greaterThanOrEqual", formula1=str(col.min or 0), allow_blank=True)
        _check(ws, dv, cells, f"{col.name}: a number, {col.min or 0} or more")


def _dropdown(ws, source: str, cells: str) -> None:
    dv = DataValidation("list", formula1=source, allow_blank=True)
    _check(ws, dv, cells, "Choose a value from the list / выберите значение из списка")


def _check(ws, dv: DataValidation, cells: str, message: str) -> None:
    """Attach a data validation that stops a wrong entry with ``message``."""
    dv.error = message
    dv.errorTitle = "erp-plugin"
    dv.showErrorMessage = True
    ws.add_data_validation(dv)
    dv.add(cells)


def _literal(values) -> str:
    return '"' + ",".join(values) + '"'


def _settings(wb: Workbook) -> None:
    ws = _sheet(wb, "Settings", [(s.key, _setting_value(s)) for s in SETTINGS], extra=(Col("description"),))
    for r, setting in enumerate(SETTINGS, start=2):
        ws.cell(row=r, column=3, value=translate(setting.about) if setting.about else _choices(setting))
        if setting.choices:
            _dropdown(ws, _literal(setting.choices), f"B{r}")
        elif setting.kind == "bool":
            _dropdown(ws, _literal(("TRUE", "FALSE")), f"B{r}")
    ws.column_dimensions["C"].width = 70


def _setting_value(setting) -> object:
    default = getattr(Settings(), setting.key)
    if setting.kind == "month_day":
        return "{:02d}-{:02d}".format(*default)
    if isinstance(default, Decimal):
        return int(default) if default == default.to_integral_value() else float(default)
    return default


def _choices(setting) -> str:
    return " | ".join(setting.choices)


def _tariffs(wb: Workbook) -> None:
    markers = [name for name, _lo, _hi in DEFAULT_MARKERS]
    marker_cols = tuple(Col(name, "pct") for name in markers)
    ws = _sheet(wb, "Tariffs", TARIFFS, extra=marker_cols)
    for i, name in enumerate(markers):
        letter = get_column_letter(3 + i)
        ws[f"{letter}1"].fill = PatternFill("solid", fgColor=MARKER_FILLS[name])
        ws[f"{letter}1"].font = Font(bold=True)
        row = 2 + i  # the marker's row on the Markers sheet: the range stays live when a manager edits it
        dv = DataValidation(
            "decimal", operator="between", formula1=f"Markers!$B${row}", formula2=f"Markers!$C${row}", allow_blank=False
        )
        _check(ws, dv, f"{letter}2:{letter}{LAST_ROW}", f"{name}: the discount must lie within the {name} range on the Markers sheet")


def _instructions(wb: Workbook) -> None:
    """What each sheet holds, every Settings key and the journal's accounts, in the chosen language."""
    ws = wb.create_sheet("Instructions")
    blank = (None, None, None, None)
    lines = [
        (translate(N_("Loyalty programme tariff workbook")), None, None, None),
        (translate(N_("Fill in the sheets below; headers in row 1 (any case; Russian column names are accepted "
                      "too). Check it with: erp-plugin validate tariffs.xlsx")), None, None, None),
        blank,
        (translate(N_("Sheet")), translate(N_("Purpose")), translate(N_("Columns (* required)")), None),
    ]
    for spec in SHEETS:
        cols = ", ".join(f"{c.name}{'*' if c.required else ''}" + (f" ({c.hint})" if c.hint else "") for c in spec.columns)
        if spec.name == "Tariffs":
            cols += ", " + translate(N_("<one column per marker: white, green, yellow, red>*"))
        status = translate(N_("required") if spec.required else N_("optional"))
        lines.append((f"{spec.name} ({status})", translate(spec.about_en), cols, None))
    lines += [blank, (translate(N_("Settings keys")), translate(N_("Values")), translate(N_("Meaning")),
                      translate(N_("Default")))]
    lines += [(s.key, _choices(s) or s.kind, translate(s.about) if s.about else None, _setting_value(s))
              for s in SETTINGS]
    defaults = {s.key: s.default for s in SETTINGS}
    lines += [blank,
              (translate(N_("Journal entries")), translate(N_(
                  "rebates and fees write a journal table: date, document, debit, credit, amount, description; the "
                  "accounts are the account_* keys above (the Russian chart of accounts, Order No. 94n)")), None, None),
              (None, translate(N_("Debit")), translate(N_("Credit")), None)]
    lines += [(translate(p.what), f"{defaults[p.debit]} ({p.debit})", f"{defaults[p.credit]} ({p.credit})", None)
              for p in POSTINGS]
    for values in lines:
        ws.append(values)
    ws["A1"].font = Font(bold=True, size=14)
    for cell in ws[4]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    widths = (34, 60, 70, 24)
    for letter, width in zip("ABCD", widths):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=6):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        # Excel and LibreOffice do not grow a wrapped row on opening: size it from its longest text
        lines = max(-(-len(str(c.value or "")) // int(w * 1.1)) for c, w in zip(row, widths))
        ws.row_dimensions[row[0].row].height = 15 * max(lines, 1)
