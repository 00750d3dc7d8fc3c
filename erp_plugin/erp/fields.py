"""The canonical fields of an ERP export line (SPEC §6) and the headers ERPs use for them.

Headers are compared after ``normalize_header``; the tariff workbook's ``Columns``
sheet adds or overrides mappings for any other ERP.
"""

from __future__ import annotations

import re

REQUIRED_FIELDS = ("date", "doc_id", "client_id", "sku", "qty", "unit_price")
OPTIONAL_FIELDS = (
    "line_no",
    "amount",
    "name",
    "category",
    "marker",
    "payment",
    "reservation_days",
    "moneyback_days",
    "bonus_paid",
    "coupon",
    "vat_rate",
    "base_doc",  # a return line's sale document (1C's Документ-основание)
)
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS

# 1C (Russian), ERPNext Item-wise Sales Register, Odoo, SAP billing (VBRK/VBRP).
# Within a field, earlier aliases win when an export carries several of them.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("дата", "дата документа", "период", "posting date", "invoice date", "fkdat", "date"),
    "doc_id": ("документ", "номер", "номер документа", "регистратор", "invoice", "sales invoice", "number", "vbeln"),
    "line_no": ("№", "n", "номер строки", "№ строки", "строка", "line", "posnr", "item"),
    "client_id": (  # a code column wins over a name column when an export has both
        "код контрагента", "код клиента", "код покупателя", "контрагент", "покупатель", "клиент",
        "customer", "partner", "kunag", "kunrg",
    ),
    "sku": ("артикул", "код", "код номенклатуры", "item code", "product code", "internal reference", "matnr"),
    "name": ("номенклатура", "наименование", "товар", "item name", "product", "description", "arktx"),
    "category": ("категория", "группа", "группа номенклатуры", "item group", "product category", "matkl"),
    "qty": ("количество", "кол-во", "кол.", "qty", "quantity", "fkimg"),
    "unit_price": ("цена", "цена за единицу", "rate", "unit price", "price", "netpr"),
    "amount": ("сумма", "сумма с ндс", "amount", "subtotal", "netwr"),
    "marker": ("маркер", "цвет", "colour", "color"),
    "payment": ("оплата", "способ оплаты", "условия оплаты", "payment", "payment terms", "zterm"),
    "reservation_days": ("резерв, дней", "резерв дней", "резерв", "reservation days"),
    "moneyback_days": ("возврат, дней", "возврат дней", "срок возврата", "moneyback days", "return days"),
    "bonus_paid": ("оплачено бонусами", "бонусами", "bonus paid", "paid with bonus"),
    "coupon": ("купон", "промокод", "coupon", "coupon code"),
    "vat_rate": ("ставка ндс", "% ндс", "ндс, %", "ндс %", "vat rate", "tax rate", "mwsk1"),
    "base_doc": ("документ-основание", "документ основание", "основание", "реализация", "return against", "base doc",
                 "base_doc"),
}


def normalize_header(text: object) -> str:
    """Header as compared: case-folded, ``ё`` as ``е``, runs of space and ``_-.,:;()`` as one ``_``.

    So ``Min. %``, ``min_%`` and ``MIN %`` match, as do ``Резерв, дней`` and ``резерв дней``.
    """
    folded = str(text).strip().casefold().replace("ё", "е")
    return re.sub(r"[\s_\-.,:;()]+", "_", folded).strip("_")
