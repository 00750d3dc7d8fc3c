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

# 1C (Russian: УТ, КА, ERP reports), ERPNext (Sales Register, Item-wise Sales Register, Data Export), Odoo
# (sale.order.line, account.move.line), SAP (S/4 VBRK/VBRP field names, Business One), Shopify and others.
# Within a field, earlier aliases win when an export carries several of them. Headers are compared by
# ``header_keys``: CamelCase split, ERPNext's " (Items)" suffix and Odoo's relation paths understood.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("дата", "дата документа", "дата реализации", "дата продажи", "дата отгрузки", "дата заказа", "период", "posting date",
             "invoice date", "order date", "date order", "transaction date", "created at", "docdate", "fkdat", "date"),
    "doc_id": ("документ", "номер", "номер документа", "регистратор", "номер заказа", "заказ", "invoice", "invoice no", "invoice number",
               "bill no", "sales invoice", "order reference", "order number", "order id", "docnum", "doc num",
               "number", "vbeln", "id", "name"),  # Shopify's order is its "Name" (#1001)
    "line_no": ("№", "n", "номер строки", "№ строки", "№ п/п", "строка", "line", "line no", "line number",
                "linenum", "posnr", "item", "idx", "sequence"),
    "client_id": (  # a code column wins over a name column when an export has both
        "код контрагента", "код клиента", "код покупателя", "инн", "инн контрагента", "инн покупателя",
        "customer code", "customer id", "customer no", "client code", "client id", "cardcode", "kunag", "kunrg",
        "контрагент", "покупатель", "клиент", "customer", "customer name", "partner", "cardname", "email",
    ),
    "sku": ("артикул", "код", "код номенклатуры", "код товара", "item code", "product code", "stock code", "sku",
            "lineitem sku", "internal reference", "default code", "itemcode", "product id", "material", "matnr"),
    "name": ("номенклатура", "наименование", "товар", "item name", "product name", "product", "description",
             "dscription", "lineitem name", "arktx"),
    "category": ("категория", "группа", "группа номенклатуры", "вид номенклатуры", "item group", "product category",
                 "matkl"),
    "qty": ("количество", "кол-во", "кол.", "qty", "quantity", "lineitem quantity", "product uom qty", "fkimg"),
    "unit_price": ("цена", "цена за единицу", "rate", "unit price", "price unit", "lineitem price", "price", "netpr"),
    "amount": ("сумма", "сумма с ндс", "стоимость", "amount", "subtotal", "price subtotal", "line total",
               "linetotal", "netwr"),
    "marker": ("маркер", "цвет", "colour", "color"),
    "payment": ("оплата", "способ оплаты", "условия оплаты", "payment", "payment terms", "zterm"),
    "reservation_days": ("резерв, дней", "резерв дней", "резерв", "reservation days"),
    "moneyback_days": ("возврат, дней", "возврат дней", "срок возврата", "moneyback days", "return days"),
    "bonus_paid": ("оплачено бонусами", "бонусами", "bonus paid", "paid with bonus"),
    "coupon": ("купон", "промокод", "coupon", "coupon code", "discount code"),
    "vat_rate": ("ставка ндс", "% ндс", "ндс, %", "ндс %", "vat rate", "tax rate", "vatprcnt", "mwsk1"),
    "base_doc": ("документ-основание", "документ основание", "основание", "реализация", "return against", "base doc",
                 "base_doc"),
}


def normalize_header(text: object) -> str:
    """Header as compared: CamelCase split, case-folded, ``ё`` as ``е``, runs of space and ``_-.,:;()`` as one ``_``.

    So ``Min. %``, ``min_%`` and ``MIN %`` match, as do ``Резерв, дней`` and ``резерв дней``, and
    ``КодКлиента`` and ``Код клиента``, ``InvoiceNo`` and ``Invoice No``.
    """
    split = re.sub(r"(?<=[a-zа-яё0-9])(?=[A-ZА-ЯЁ])", " ", str(text).strip())
    folded = split.casefold().replace("ё", "е")
    return re.sub(r"[\s_\-.,:;()]+", "_", folded).strip("_")


def header_keys(text: object) -> list[str]:
    """The keys an export's header is known by, most specific first: the whole header; without ERPNext's
    `` (Items)`` suffix of child-table columns; for Odoo's relation paths (``Order Lines/Product/Internal
    Reference``) the last two parts and the last one; the whole as one word (``DocDate`` is ``docdate``)."""
    whole = str(text).strip()
    keys = [normalize_header(whole)]
    plain = re.sub(r"\s*\((items|позиции|товары)\)$", "", whole, flags=re.IGNORECASE)
    parts = [part for part in plain.split("/") if part.strip()]
    for variant in (plain, " ".join(parts[-2:]), parts[-1] if parts else ""):
        key = normalize_header(variant)
        if key and key not in keys:
            keys.append(key)
    squashed = keys[0].replace("_", "")  # SAP's DocDate, CardCode: the alias written as one word
    if squashed not in keys:
        keys.append(squashed)
    return keys
