"""What the tariff workbook holds: its sheets, in workbook order, each with the record its rows become (SPEC §4).

A sheet's columns — kinds, required or not, Russian aliases, limits — are the
fields of its record in ``model.py``; this table adds what belongs to the sheet
as a whole: its Russian names, whether it must be there, which columns are its
key, and the text of the Instructions sheet. The reader and ``init``'s template
both read it, so the two cannot drift apart: a field added to a record is read,
validated and written by ``init``.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import model as m
from .columns import Col, SettingSpec, columns_of, settings_of

__all__ = [
    "Col", "SettingSpec", "SheetSpec", "SHEETS", "SHEET", "SETTINGS", "SETTING", "STAMP_KEYS", "OPTIONS", "REWARDS",
    "DEFAULT_MARKERS", "DEFAULT_BONUS_MODES",
]


@dataclass(frozen=True)
class SheetSpec:
    name: str
    columns: tuple[Col, ...]
    aliases: tuple[str, ...] = ()
    required: bool = False
    key: tuple[str, ...] = ()  # columns that must be unique together
    about_en: str = ""
    about_ru: str = ""
    record: type | None = None  # the model record a row becomes; None for key/value sheets

    def column(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)


def rows_of(record: type, name: str, **sheet) -> SheetSpec:
    """A sheet whose rows are ``record``s: its columns are the record's ``column`` fields."""
    return SheetSpec(name, columns_of(record), record=record, **sheet)


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
    rows_of(
        m.Marker,
        "Markers",
        aliases=("Маркеры",),
        key=("marker",),
        about_en="Colour markers of products, the discount range each allows (%), and max_concession_pct: the most "
                 "a line may give away (discount and bonus, promotions included, % of gross) before a warning.",
        about_ru="Цветовые маркеры товаров, диапазон скидки каждого (%) и max_concession_pct: сколько строка может "
                 "отдать (скидка и бонус вместе с акциями, % от суммы) до предупреждения; пусто — без проверки.",
    ),
    rows_of(
        m.Tariff,
        "Tariffs",
        aliases=("Тарифы",),
        required=True,
        key=("tariff",),
        about_en="Paid tariffs and BASE: monthly fee and one discount (%) per marker column.",
        about_ru="Платные тарифы и BASE: абонплата в месяц и скидка (%) для каждого маркера.",
    ),
    rows_of(
        m.OptionValue,
        "Options",
        aliases=("Опции",),
        required=True,
        key=("option", "value"),
        about_en="Purchase options and how much each value lowers the discount (weight, %). Day "
        "options: a line falls in the smallest value >= its days. The first payment row is the default.",
        about_ru="Опции покупки и на сколько каждое значение снижает скидку (вес, %). Дни: строка попадает "
        "в наименьшее значение >= её дней. Первая строка payment — способ оплаты по умолчанию.",
    ),
    rows_of(
        m.BonusMode,
        "BonusModes",
        aliases=("РежимыБонусов", "Режимы бонусов"),
        key=("mode",),
        about_en="Share of the earned discount that goes to the bonus account; the rest comes off the price.",
        about_ru="Доля заработанной скидки, которая идёт на бонусный счёт; остальное — скидка с цены.",
    ),
    rows_of(
        m.Client,
        "Clients",
        aliases=("Клиенты",),
        required=True,
        key=("client_id",),
        about_en="Clients, their tariff and bonus mode, join date, segments (comma list), card tier, contacts.",
        about_ru="Клиенты: тариф, режим бонусов, дата подключения, сегменты (через запятую), уровень карты, контакты.",
    ),
    rows_of(
        m.TariffChange,
        "TariffChanges",
        aliases=("ИзмененияТарифов", "Изменения тарифов"),
        key=("client_id", "from_date"),
        about_en="History of tariff and bonus-mode changes; a blank keeps what was in force before.",
        about_ru="История смены тарифа и режима бонусов; пустое значение сохраняет прежнее.",
    ),
    rows_of(
        m.Product,
        "Products",
        aliases=("Товары",),
        key=("sku",),
        about_en="Product markers and categories; a marker here wins over the export's.",
        about_ru="Маркеры и категории товаров; маркер отсюда главнее маркера из выгрузки.",
    ),
    rows_of(
        m.Promotion,
        "Promotions",
        aliases=("Акции",),
        key=("rule_id",),
        about_en="Promotions: a line discount (%) or a bonus multiplier, with filters. Rules in one group "
        "compete per document (the larger total wins); rules without a group stack.",
        about_ru="Акции: скидка на строку (%) или множитель бонусов, с фильтрами. Правила одной группы "
        "конкурируют в документе (выигрывает большее), правила без группы складываются.",
    ),
    rows_of(
        m.RebateStep,
        "RebateScale",
        aliases=("ШкалаСкидок", "Шкала скидок", "Ретробонус"),
        key=("from_turnover",),
        about_en="Year-end cumulative rebate by annual turnover; starts at 0 and rises strictly.",
        about_ru="Накопительная скидка по итогам года от годового оборота; начинается с 0 и строго растёт.",
    ),
    rows_of(
        m.Tier,
        "Tiers",
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
    rows_of(
        m.CouponRule,
        "CouponRules",
        aliases=("Купоны",),
        key=("rule_id",),
        about_en="Coupons issued every n-th qualifying document, valid to month end or for N days.",
        about_ru="Купоны за каждый n-й подходящий документ, действуют до конца месяца или N дней.",
    ),
    rows_of(
        m.Quest,
        "Quests",
        aliases=("Квесты",),
        key=("quest_id",),
        about_en="Quests: buy in every listed category within the window to earn the reward.",
        about_ru="Квесты: купить в каждой из категорий в период действия и получить награду.",
    ),
    rows_of(
        m.ColumnMapping,
        "Columns",
        aliases=("Колонки",),
        key=("field",),
        about_en="Maps your ERP export's own headers to the canonical fields (date, doc_id, client_id, sku, "
        "qty, unit_price, ...). Built-in aliases already cover 1C, ERPNext and SAP.",
        about_ru="Сопоставляет заголовки вашей выгрузки из ERP с полями (date, doc_id, client_id, sku, qty, "
        "unit_price, ...). Заголовки 1С, ERPNext и SAP распознаются без настройки.",
    ),
    rows_of(
        m.RedemptionEstimate,
        "RedemptionEstimates",
        aliases=("ОжидаемоеПогашение", "Ожидаемое погашение"),
        key=("from_date",),
        about_en="History of the share of points expected to be redeemed (%, IFRS 15 liability): from each "
        "from_date on. Before the first row, or with no rows, the setting expected_redemption_pct applies.",
        about_ru="История ожидаемой доли погашения бонусов (%, обязательство по МСФО 15): действует с from_date. "
        "До первой строки или без строк действует настройка expected_redemption_pct.",
    ),
)

SHEET = {spec.name: spec for spec in SHEETS}

# The keys of the key/value sheets, described on their records: Settings (defaults are SPEC's) and StampCard.
SETTINGS: tuple[SettingSpec, ...] = settings_of(m.Settings)
SETTING = {s.key: s for s in SETTINGS}
STAMP_KEYS = {s.key: (s.kind, s.default) for s in settings_of(m.StampCard)}

DEFAULT_MARKERS = (("white", 0, 0), ("green", 1, 3), ("yellow", 3, 6), ("red", 5, 10))
DEFAULT_BONUS_MODES = (("bonus", 100), ("half", 50), ("discount", 0))
