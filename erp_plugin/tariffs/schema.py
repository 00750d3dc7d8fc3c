"""What the tariff workbook holds: its sheets, their columns, kinds and Russian aliases (SPEC §4).

This is data, read by the reader and the template alike, so the two cannot drift
apart: a column added here is read, validated and written by ``init``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# Cell kinds: raw (as the cell holds it), text, key (an identifier, trimmed), money (minor units), pct (a
# percentage), number (a decimal), int, date, bool, list (comma-separated text).


@dataclass(frozen=True)
class Col:
    name: str
    kind: str = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()
    min: Decimal | None = None
    max: Decimal | None = None
    hint: str = ""  # what a right value looks like, for messages and the Instructions sheet


@dataclass(frozen=True)
class SheetSpec:
    name: str
    columns: tuple[Col, ...]
    aliases: tuple[str, ...] = ()
    required: bool = False
    key: tuple[str, ...] = ()  # columns that must be unique together
    about_en: str = ""
    about_ru: str = ""

    def column(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)


ZERO, HUNDRED = Decimal(0), Decimal(100)
OPTIONS = ("reservation_days", "moneyback_days", "payment")
REWARDS = ("discount_pct", "bonus_multiplier")

SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec(
        "Settings",
        (
            Col("key", "key", True, ("ключ", "параметр", "настройка")),
            Col("value", "raw", False, ("значение",), hint="blank = the default"),
        ),
        aliases=("Настройки",),
        key=("key",),
        about_en="Programme settings, one per row. A missing key takes its default.",
        about_ru="Настройки программы, по одной в строке. Отсутствующий ключ берёт значение по умолчанию.",
    ),
    SheetSpec(
        "Markers",
        (
            Col("marker", "key", True, ("маркер", "цвет")),
            Col("min_pct", "pct", True, ("мин_%", "мин", "минимум", "мин_скидка"), ZERO, HUNDRED),
            Col("max_pct", "pct", True, ("макс_%", "макс", "максимум", "макс_скидка"), ZERO, HUNDRED),
        ),
        aliases=("Маркеры",),
        key=("marker",),
        about_en="Colour markers of products and the discount range each allows (%).",
        about_ru="Цветовые маркеры товаров и диапазон скидки каждого (%).",
    ),
    SheetSpec(
        "Tariffs",
        (
            Col("tariff", "key", True, ("тариф",)),
            Col("monthly_fee", "money", True, ("абонплата", "абонентская_плата", "плата_в_месяц"), ZERO),
        ),
        aliases=("Тарифы",),
        required=True,
        key=("tariff",),
        about_en="Paid tariffs and BASE: monthly fee and one discount (%) per marker column.",
        about_ru="Платные тарифы и BASE: абонплата в месяц и скидка (%) для каждого маркера.",
    ),
    SheetSpec(
        "Options",
        (
            Col("option", "key", True, ("опция",), hint="reservation_days, moneyback_days or payment"),
            Col("value", "text", True, ("значение",)),
            Col("weight_pct", "pct", True, ("вес_%", "вес"), ZERO, HUNDRED),
        ),
        aliases=("Опции",),
        required=True,
        key=("option", "value"),
        about_en="Purchase options and how much each value lowers the discount (weight, %). Day "
        "options: a line falls in the smallest value >= its days. The first payment row is the default.",
        about_ru="Опции покупки и на сколько каждое значение снижает скидку (вес, %). Дни: строка попадает "
        "в наименьшее значение >= её дней. Первая строка payment — способ оплаты по умолчанию.",
    ),
    SheetSpec(
        "BonusModes",
        (
            Col("mode", "key", True, ("режим",)),
            Col("bonus_share_pct", "pct", True, ("доля_бонусов_%", "доля_бонусов", "бонусы_%"), ZERO, HUNDRED),
        ),
        aliases=("РежимыБонусов", "Режимы бонусов"),
        key=("mode",),
        about_en="Share of the earned discount that goes to the bonus account; the rest comes off the price.",
        about_ru="Доля заработанной скидки, которая идёт на бонусный счёт; остальное — скидка с цены.",
    ),
    SheetSpec(
        "Clients",
        (
            Col("client_id", "key", True, ("клиент", "код_клиента", "контрагент", "id")),
            Col("tariff", "key", False, ("тариф",), hint="blank = BASE"),
            Col("bonus_mode", "key", False, ("режим_бонусов", "режим"), hint="blank = discount"),
            Col("joined", "date", False, ("дата_подключения", "подключен", "с")),
            Col("name", "text", False, ("наименование", "название", "имя")),
            Col("inn", "key", False, ("инн",)),
            Col("segments", "list", False, ("сегменты", "сегмент")),
            Col("tier", "key", False, ("уровень", "карта")),
            Col("birthday", "date", False, ("день_рождения", "др")),
            Col("email", "text", False, ("почта", "e_mail", "эл_почта")),
            Col("phone", "text", False, ("телефон",)),
        ),
        aliases=("Клиенты",),
        required=True,
        key=("client_id",),
        about_en="Clients, their tariff and bonus mode, join date, segments (comma list), card tier, contacts.",
        about_ru="Клиенты: тариф, режим бонусов, дата подключения, сегменты (через запятую), уровень карты, контакты.",
    ),
    SheetSpec(
        "TariffChanges",
        (
            Col("client_id", "key", True, ("клиент", "код_клиента")),
            Col("from_date", "date", True, ("с_даты", "дата", "дата_начала")),
            Col("tariff", "key", False, ("тариф",)),
            Col("bonus_mode", "key", False, ("режим_бонусов", "режим")),
        ),
        aliases=("ИзмененияТарифов", "Изменения тарифов"),
        key=("client_id", "from_date"),
        about_en="History of tariff and bonus-mode changes; a blank keeps what was in force before.",
        about_ru="История смены тарифа и режима бонусов; пустое значение сохраняет прежнее.",
    ),
    SheetSpec(
        "Products",
        (
            Col("sku", "key", True, ("артикул", "код")),
            Col("marker", "key", False, ("маркер", "цвет")),
            Col("category", "text", False, ("категория", "группа")),
        ),
        aliases=("Товары",),
        key=("sku",),
        about_en="Product markers and categories; a marker here wins over the export's.",
        about_ru="Маркеры и категории товаров; маркер отсюда главнее маркера из выгрузки.",
    ),
    SheetSpec(
        "Promotions",
        (
            Col("rule_id", "key", True, ("правило", "код_правила", "акция")),
            Col("reward", "key", True, ("награда", "тип"), hint="discount_pct or bonus_multiplier"),
            Col("value", "number", True, ("значение",), ZERO),
            Col("active_from", "date", False, ("действует_с", "с")),
            Col("active_to", "date", False, ("действует_по", "по")),
            Col("segment", "key", False, ("сегмент",), hint="new, tier:<name> or a client segment"),
            Col("marker", "key", False, ("маркер",)),
            Col("sku", "list", False, ("артикул", "артикулы")),
            Col("category", "text", False, ("категория",)),
            Col("payment", "key", False, ("оплата",)),
            Col("min_qty", "number", False, ("мин_количество", "от_количества"), ZERO),
            Col("requires_sku", "key", False, ("требует_артикул", "при_покупке")),
            Col("every_nth", "int", False, ("каждый_n_й", "каждый"), Decimal(1)),
            Col("group", "key", False, ("группа",)),
            Col("priority", "int", False, ("приоритет",)),
        ),
        aliases=("Акции",),
        key=("rule_id",),
        about_en="Promotions: a line discount (%) or a bonus multiplier, with filters. Rules in one group "
        "compete per document (the larger total wins); rules without a group stack.",
        about_ru="Акции: скидка на строку (%) или множитель бонусов, с фильтрами. Правила одной группы "
        "конкурируют в документе (выигрывает большее), правила без группы складываются.",
    ),
    SheetSpec(
        "RebateScale",
        (
            Col("from_turnover", "money", True, ("оборот_от", "от"), ZERO),
            Col("rebate_pct", "pct", True, ("скидка_%", "ретро_бонус_%", "процент"), ZERO, HUNDRED),
        ),
        aliases=("ШкалаСкидок", "Шкала скидок", "Ретробонус"),
        key=("from_turnover",),
        about_en="Year-end cumulative rebate by annual turnover; starts at 0 and rises strictly.",
        about_ru="Накопительная скидка по итогам года от годового оборота; начинается с 0 и строго растёт.",
    ),
    SheetSpec(
        "Tiers",
        (
            Col("tier", "key", True, ("уровень", "карта")),
            Col("min_turnover", "money", False, ("мин_оборот", "оборот_от"), ZERO),
            Col("min_single_document", "money", False, ("мин_документ", "разовая_покупка_от"), ZERO),
        ),
        aliases=("Уровни", "Карты"),
        key=("tier",),
        about_en="Card tiers from lowest to highest; either criterion reaches a tier; none = the base tier.",
        about_ru="Уровни карт от низшего к высшему; достаточно одного критерия; без критериев — базовый уровень.",
    ),
    SheetSpec(
        "StampCard",
        (
            Col("key", "key", True, ("ключ", "параметр")),
            Col("value", "raw", True, ("значение",)),
        ),
        aliases=("КартаШтампов", "Карта штампов"),
        key=("key",),
        about_en="Stamp card: columns, cells_per_column, min_document (amount), reward.",
        about_ru="Карта штампов: columns (столбцы), cells_per_column (ячеек), min_document (сумма), reward (награда).",
    ),
    SheetSpec(
        "CouponRules",
        (
            Col("rule_id", "key", True, ("правило", "код_правила")),
            Col("every_n_documents", "int", True, ("каждый_n_й_документ", "каждый"), Decimal(1)),
            Col("discount_pct", "pct", True, ("скидка_%", "скидка"), ZERO, HUNDRED),
            Col("valid", "key", False, ("срок", "действует"), hint="end_of_month or days:N"),
            Col("min_document", "money", False, ("мин_документ", "от_суммы"), ZERO),
        ),
        aliases=("Купоны",),
        key=("rule_id",),
        about_en="Coupons issued every n-th qualifying document, valid to month end or for N days.",
        about_ru="Купоны за каждый n-й подходящий документ, действуют до конца месяца или N дней.",
    ),
    SheetSpec(
        "Quests",
        (
            Col("quest_id", "key", True, ("квест", "код")),
            Col("categories", "list", True, ("категории",)),
            Col("active_from", "date", False, ("действует_с", "с")),
            Col("active_to", "date", False, ("действует_по", "по")),
            Col("reward", "text", False, ("награда",)),
        ),
        aliases=("Квесты",),
        key=("quest_id",),
        about_en="Quests: buy in every listed category within the window to earn the reward.",
        about_ru="Квесты: купить в каждой из категорий в период действия и получить награду.",
    ),
    SheetSpec(
        "Columns",
        (
            Col("field", "key", True, ("поле",)),
            Col("header", "text", True, ("заголовок", "колонка")),
        ),
        aliases=("Колонки",),
        key=("field",),
        about_en="Maps your ERP export's own headers to the canonical fields (date, doc_id, client_id, sku, "
        "qty, unit_price, ...). Built-in aliases already cover 1C, ERPNext and SAP.",
        about_ru="Сопоставляет заголовки вашей выгрузки из ERP с полями (date, doc_id, client_id, sku, qty, "
        "unit_price, ...). Заголовки 1С, ERPNext и SAP распознаются без настройки.",
    ),
    SheetSpec(
        "RedemptionEstimates",
        (
            Col("from_date", "date", True, ("с_даты", "дата", "дата_начала")),
            Col("expected_redemption_pct", "pct", True, ("ожидаемое_погашение_%", "погашение_%", "ожидаемое_погашение"),
                ZERO, HUNDRED),
        ),
        aliases=("ОжидаемоеПогашение", "Ожидаемое погашение"),
        key=("from_date",),
        about_en="History of the share of points expected to be redeemed (%, IFRS 15 liability): from each "
        "from_date on. Before the first row, or with no rows, the setting expected_redemption_pct applies.",
        about_ru="История ожидаемой доли погашения бонусов (%, обязательство по МСФО 15): действует с from_date. "
        "До первой строки или без строк действует настройка expected_redemption_pct.",
    ),
)

SHEET = {spec.name: spec for spec in SHEETS}


@dataclass(frozen=True)
class SettingSpec:
    """How a Settings key is read; its default is the field's default in ``model.Settings``."""

    key: str
    kind: str  # int, pct, bool, text, choice, month_day
    choices: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    about: str = ""


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("currency", "text", about="ISO currency code"),
    SettingSpec("minor_units", "int", min=0, max=4, about="decimals of the currency"),
    SettingSpec("vat_rate_pct", "pct", about="VAT % where the export has none; blank: 20 before 2026, 22 from 2026"),
    SettingSpec("prices_include_vat", "bool"),
    SettingSpec("carrying_rate_pct", "pct", about="annual cost of holding reserved stock (capital + storage)"),
    SettingSpec("trial_months", "int", min=0, about="free months for a new client"),
    SettingSpec("fiscal_year_start", "month_day", about="MM-DD"),
    SettingSpec("rebate_mode", "choice", ("retroactive", "stepped")),
    SettingSpec("rebate_basis", "choice", ("net", "net_ex_vat")),
    SettingSpec("bonus_expiry_months", "int", min=0, about="0 = never"),
    SettingSpec("expected_redemption_pct", "pct", about="share of points expected to be redeemed (IFRS 15)"),
    SettingSpec("unknown_client", "choice", ("base", "error")),
    SettingSpec("default_payment", "text", about="blank: the first payment option"),
    SettingSpec("on_overdraw", "choice", ("error", "cap")),
    SettingSpec("new_client_days", "int", min=1, about="how long a client counts as new"),
    SettingSpec("rebate_reduces_price", "bool", about="TRUE: the rebate lowers the price and carries VAT"),
    SettingSpec("ledger", "text", about="SQLite path or SQLAlchemy URL of the bonus ledger"),
)

SETTING = {s.key: s for s in SETTINGS}

STAMP_KEYS = {
    "columns": ("int", 3),
    "cells_per_column": ("int", 4),
    "min_document": ("money", 0),
    "reward": ("text", None),
}

DEFAULT_MARKERS = (("white", 0, 0), ("green", 1, 3), ("yellow", 3, 6), ("red", 5, 10))
DEFAULT_BONUS_MODES = (("bonus", 100), ("half", 50), ("discount", 0))
