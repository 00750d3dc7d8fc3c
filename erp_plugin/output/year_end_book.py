"""The year-end workbook ``init`` writes: its Setup sheet with the sample's files and year, read back by the
one-click year end (excel/year_end.py). Its heading, instructions and descriptions are in the language ``init``
runs in; the keys in column A stay canonical (the reader matches them, or their aliases)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..i18n import N_, translate

SETUP = "Setup"
FIRST_SETTING_ROW = 5


@dataclass(frozen=True)
class Setting:
    key: str
    aliases: tuple[str, ...]
    about: str  # a msgid, written in the language init runs in
    sample: object = None


SETTINGS = (
    Setting("tariffs", ("tariff workbook", "тарифы", "тарифная книга"),
            N_("The tariff workbook, a path from this workbook's folder"), "tariffs.xlsx"),
    Setting("export", ("sales export", "выгрузка", "выгрузка продаж"),
            N_("The ERP's sales export: xlsx, csv or parquet"), "sales_export.xlsx"),
    Setting("year", ("fiscal year", "год", "финансовый год"),
            N_("The fiscal year (it starts on fiscal_year_start of the tariff workbook)"), 2026),
    Setting("sheet", ("export sheet", "лист", "лист выгрузки"),
            N_("Optional: the export's sheet, when it has several")),
    Setting("skip_bad_lines", ("skip bad lines", "пропускать ошибочные строки"),
            N_("TRUE: leave out lines that cannot be priced and list them on Warnings"),
            False),
    Setting("ledger", ("bonus ledger", "реестр баллов"),
            N_("Optional: the bonus ledger (a SQLite file or a database URL) for the liability by month")),
)


def write_workbook(path: str | Path) -> None:
    """A fresh year-end workbook: the Setup sheet with the sample's files and year, ready for Run main."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from ..output.template import FIXED_TIME, HEADER_FILL, HEADER_FONT
    from ..xlsx import save_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = SETUP
    ws["A1"] = translate(N_("Year-end rebates"))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = translate(N_("Fill in column B, then press Run main on the xlwings tab (or run: python year_end.py)."))
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells("A2:C2")
    ws.row_dimensions[2].height = 32
    for column, name in enumerate(("setting", "value", "about"), start=1):
        cell = ws.cell(row=FIRST_SETTING_ROW - 1, column=column, value=name)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for row, setting in enumerate(SETTINGS, start=FIRST_SETTING_ROW):
        ws.cell(row=row, column=1, value=setting.key)
        ws.cell(row=row, column=2, value=setting.sample)
        ws.cell(row=row, column=3, value=translate(setting.about))
    for letter, width in zip("ABC", (18, 28, 100)):
        ws.column_dimensions[letter].width = width
    wb.properties.creator = "erp-plugin"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    save_workbook(wb, Path(path), deterministic=True)
