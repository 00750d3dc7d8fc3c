"""The Preview sheet a fresh tariff workbook gets from ``init``: a date, a sample basket with room for more
lines, and the place of the results that ``erp-plugin preview`` (excel/preview.py) fills."""

from __future__ import annotations

from ..i18n import LANGUAGES, N_, translate

PREVIEW = "Preview"
RESULTS_LABEL = N_("Results")  # written in the language init runs in; the reader finds it in either language
OLD_RESULTS_LABEL = "Результаты / Results"  # the bilingual label of workbooks made before


def results_labels() -> frozenset[str]:
    """Every label the results' row may have: the label in each language, and the old bilingual one."""
    return frozenset({translate(RESULTS_LABEL, language).casefold() for language in LANGUAGES}
                     | {OLD_RESULTS_LABEL.casefold()})

BASKET = (  # field, header aliases (the first is written by init), required
    ("sku", ("sku", "артикул"), False),
    ("category", ("category", "категория"), False),
    ("marker", ("marker", "маркер"), False),
    ("qty", ("qty", "количество", "кол-во"), True),
    ("unit_price", ("unit_price", "price", "цена"), True),
    ("reservation_days", ("reservation_days", "резерв, дней"), False),
    ("moneyback_days", ("moneyback_days", "возврат, дней"), False),
)
DATE_LABELS = ("date", "дата")
SAMPLE_BASKET = (  # sku, category, marker, qty, unit price, reservation days, money-back days
    ("КАБ-ВВГ-5х10", "Кабель", "green", 20, 612, 0, 0),
    ("АВТ-C16", "Автоматика", "yellow", 50, 289.9, 7, 0),
    ("УЗО-40-30", "Автоматика", "red", 10, 2310.5, 0, 14),
    ("ARM-A500-12", "Арматура", "white", 2, 61500, 0, 0),
)
BASKET_HEADER_ROW, BASKET_ROWS = 5, 20


def add_sheet(wb) -> None:
    """The Preview sheet of a fresh tariff workbook: a date, a sample basket with room for more lines, and the
    place of the results (filled by ``erp-plugin preview`` or Run main)."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from .formats import DATE_FORMAT, MONEY_FORMAT
    from .template import HEADER_FILL, HEADER_FONT

    ws = wb.create_sheet(PREVIEW)
    ws["A1"] = translate(N_("Preview: a basket under every tariff × bonus mode × payment"))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = translate(N_("Fill in the basket, then press Run main on the xlwings tab (or run: erp-plugin preview "
                            "tariffs.xlsx); the results appear below."))
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells("A2:J2")
    ws.row_dimensions[2].height = 32
    ws["A3"], ws["C3"] = DATE_LABELS[0], translate(N_("blank: today"))
    ws["B3"].number_format = DATE_FORMAT
    for column, (_field, names, _required) in enumerate(BASKET, start=1):
        cell = ws.cell(row=BASKET_HEADER_ROW, column=column, value=names[0])
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        ws.column_dimensions[get_column_letter(column)].width = max(16, len(names[0]) + 4)  # the header shows whole
    first, last = BASKET_HEADER_ROW + 1, BASKET_HEADER_ROW + BASKET_ROWS
    for row, values in enumerate(SAMPLE_BASKET, start=first):
        for column, value in enumerate(values, start=1):
            ws.cell(row=row, column=column, value=value)
    for row in range(first, last + 1):
        ws.cell(row=row, column=5).number_format = MONEY_FORMAT
    markers = DataValidation("list", formula1="Markers!$A$2:$A$50", allow_blank=True)
    numbers = DataValidation("decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    for check, letters, error in ((markers, "C", translate(N_("Choose a marker from the list"))),
                                  (numbers, "DEFG", translate(N_("A number, 0 or more")))):
        check.error, check.errorTitle, check.showErrorMessage = error, "erp-plugin", True
        ws.add_data_validation(check)
        for letter in letters:
            check.add(f"{letter}{first}:{letter}{last}")
    ws.cell(row=last + 2, column=1, value=translate(RESULTS_LABEL)).font = Font(bold=True)
