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

from ..i18n import N_, translate
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
    about_en: str = ""  # what the sheet holds: a msgid (the Instructions sheet shows it in English and Russian)
    record: type | None = None  # the model record a row becomes; None for key/value sheets

    @property
    def about_ru(self) -> str:
        return translate(self.about_en, "ru")

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
        about_en=N_("Programme settings, one per row. A missing key takes its default."),
    ),
    rows_of(
        m.Marker,
        "Markers",
        aliases=("Маркеры",),
        key=("marker",),
        about_en=N_("Colour markers of products, the discount range each allows (%), and max_concession_pct: the most "
                 "a line may give away (discount and bonus, promotions included, % of gross) before a warning."),
    ),
    rows_of(
        m.Tariff,
        "Tariffs",
        aliases=("Тарифы",),
        required=True,
        key=("tariff",),
        about_en=N_("Paid tariffs and BASE: monthly fee and one discount (%) per marker column."),
    ),
    rows_of(
        m.OptionValue,
        "Options",
        aliases=("Опции",),
        required=True,
        key=("option", "value"),
        about_en=N_("Purchase options and how much each value lowers the discount (weight, %). Day "
        "options: a line falls in the smallest value >= its days. The first payment row is the default."),
    ),
    rows_of(
        m.BonusMode,
        "BonusModes",
        aliases=("РежимыБонусов", "Режимы бонусов"),
        key=("mode",),
        about_en=N_("Share of the earned discount that goes to the bonus account; the rest comes off the price."),
    ),
    rows_of(
        m.Client,
        "Clients",
        aliases=("Клиенты",),
        required=True,
        key=("client_id",),
        about_en=N_("Clients, their tariff and bonus mode, join date, segments (comma list), card tier, contacts."),
    ),
    rows_of(
        m.TariffChange,
        "TariffChanges",
        aliases=("ИзмененияТарифов", "Изменения тарифов"),
        key=("client_id", "from_date"),
        about_en=N_("History of tariff and bonus-mode changes; a blank keeps what was in force before."),
    ),
    rows_of(
        m.Product,
        "Products",
        aliases=("Товары",),
        key=("sku",),
        about_en=N_("Product markers and categories; a marker here wins over the export's."),
    ),
    rows_of(
        m.Promotion,
        "Promotions",
        aliases=("Акции",),
        key=("rule_id",),
        about_en=N_("Promotions: a line discount (%) or a bonus multiplier, with filters. Rules in one group "
        "compete per document (the larger total wins); rules without a group stack."),
    ),
    rows_of(
        m.RebateStep,
        "RebateScale",
        aliases=("ШкалаСкидок", "Шкала скидок", "Ретробонус"),
        key=("from_turnover",),
        about_en=N_("Year-end cumulative rebate by annual turnover; starts at 0 and rises strictly."),
    ),
    rows_of(
        m.Tier,
        "Tiers",
        aliases=("Уровни", "Карты"),
        key=("tier",),
        about_en=N_("Card tiers from lowest to highest; either criterion reaches a tier; none = the base tier."),
    ),
    SheetSpec(
        "StampCard",
        (
            Col("key", "key", True, ("ключ", "параметр")),
            Col("value", "raw", True, ("значение",)),
        ),
        aliases=("КартаШтампов", "Карта штампов"),
        key=("key",),
        about_en=N_("Stamp card: columns, cells_per_column, min_document (amount), reward."),
    ),
    rows_of(
        m.CouponRule,
        "CouponRules",
        aliases=("Купоны",),
        key=("rule_id",),
        about_en=N_("Coupons issued every n-th qualifying document, valid to month end or for N days."),
    ),
    rows_of(
        m.Quest,
        "Quests",
        aliases=("Квесты",),
        key=("quest_id",),
        about_en=N_("Quests: buy in every listed category within the window to earn the reward."),
    ),
    rows_of(
        m.ColumnMapping,
        "Columns",
        aliases=("Колонки",),
        key=("field",),
        about_en=N_("Maps your ERP export's own headers to the canonical fields (date, doc_id, client_id, sku, "
        "qty, unit_price, ...). Built-in aliases already cover 1C, ERPNext and SAP."),
    ),
    rows_of(
        m.RedemptionEstimate,
        "RedemptionEstimates",
        aliases=("ОжидаемоеПогашение", "Ожидаемое погашение"),
        key=("from_date",),
        about_en=N_("History of the share of points expected to be redeemed (%, IFRS 15 liability): from each "
        "from_date on. Before the first row, or with no rows, the setting expected_redemption_pct applies."),
    ),
)

SHEET = {spec.name: spec for spec in SHEETS}

# The keys of the key/value sheets, described on their records: Settings (defaults are SPEC's) and StampCard.
SETTINGS: tuple[SettingSpec, ...] = settings_of(m.Settings)
SETTING = {s.key: s for s in SETTINGS}
STAMP_KEYS = {s.key: (s.kind, s.default) for s in settings_of(m.StampCard)}

DEFAULT_MARKERS = (("white", 0, 0), ("green", 1, 3), ("yellow", 3, 6), ("red", 5, 10))
DEFAULT_BONUS_MODES = (("bonus", 100), ("half", 50), ("discount", 0))
