"""The tariff workbook as frozen, typed records that remember their cells.

Money is in integer minor units, percentages are ``Decimal`` (``2.5`` means
2.5 %), dates are ``datetime.date``. Every record carries a ``Src`` so that any
later check or computation can point the user at the cell to fix
(``book.tariffs["PRO"].src.at("red")`` -> ``Tariffs!E5``).

A record is also the description of its sheet: each field a column holds says
so with ``column(kind, aliases, ...)`` (``columns.py``), in the sheet's column
order, and the reader and ``init``'s template take the columns from here. A
field without ``column`` is worked out by the reader (``Tariff.discounts`` from
the marker columns, ``Quest.reward_points`` from ``reward``).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from ..i18n import N_
from .columns import column, setting

if TYPE_CHECKING:
    import numpy as np

ZERO, ONE, HUNDRED = Decimal(0), Decimal(1), Decimal(100)


class Src(NamedTuple):
    """Where a record was read: its sheet, its Excel row, and the column letter of each of its fields.

    A named tuple, not a dataclass: one is made per row of a 100 000-client sheet, five times faster.
    """

    sheet: str
    row: int
    columns: tuple[tuple[str, str], ...] = ()  # (field's column name, column letter), shared by a sheet's rows

    def at(self, name: str) -> str:
        """``Sheet!Cell`` of the field ``name`` on this record's row (``Sheet!row`` if unknown)."""
        for key, letter in self.columns:
            if key == name:
                return f"{self.sheet}!{letter}{self.row}"
        return f"{self.sheet}!{self.row}:{self.row}"


NO_SRC = Src("", 0)


class MonthDay(NamedTuple):
    """A birthday whose year is not known: ``dd.mm`` on the Clients sheet (29.02 allowed)."""

    month: int
    day: int


DEFAULT_GREETING = "{name}, с днём рождения! Желаем здоровья, счастья и удачи!"


@dataclass(frozen=True)
class Settings:
    """The Settings sheet: one key per row; a key left out takes the default here (SPEC §4)."""

    currency: str = setting("RUB", "text", about=N_("ISO currency code"))
    minor_units: int = setting(2, "int", min=0, max=4, about=N_("decimals of the currency"))
    # None: the statutory Russian rate by date (20 %, 22 % from 2026)
    vat_rate_pct: Decimal | None = setting(None, "pct", about=N_("VAT % where the export has none; blank: 20 before 2026, 22 from 2026"))
    prices_include_vat: bool = setting(True, "bool")
    carrying_rate_pct: Decimal = setting(Decimal(25), "pct", about=N_("annual cost of holding reserved stock (capital + storage)"))
    trial_months: int = setting(3, "int", min=0, about=N_("free months for a new client"))
    fiscal_year_start: tuple[int, int] = setting((1, 1), "month_day", about=N_("MM-DD"))  # (month, day)
    rebate_mode: str = setting("retroactive", "choice", ("retroactive", "stepped"))
    rebate_basis: str = setting("net", "choice", ("net", "net_ex_vat"))
    bonus_expiry_months: int = setting(12, "int", min=0, about=N_("0 = never"))
    expected_redemption_pct: Decimal = setting(Decimal(80), "pct", about=N_("share of points expected to be redeemed (IFRS 15)"))
    unknown_client: str = setting("base", "choice", ("base", "error"))
    # None: the first payment option of the Options sheet
    default_payment: str | None = setting(None, "text", about=N_("blank: the first payment option"))
    on_overdraw: str = setting("error", "choice", ("error", "cap"))
    new_client_days: int = setting(365, "int", min=1, about=N_("how long a client counts as new"))
    rebate_reduces_price: bool = setting(False, "bool", about=N_("TRUE: the rebate lowers the price and carries VAT"))
    ledger: str | None = setting(None, "text", about=N_("SQLite path or SQLAlchemy URL of the bonus ledger"))
    # None: the environment's locale, else Russian (erp_plugin/i18n.py); --lang overrides it
    language: str | None = setting(None, "choice", ("ru", "en"),
                                   about=N_("messages, result headers and sheet names: ru | en; blank: the locale, else ru"))
    birthday_greeting: str = setting(DEFAULT_GREETING, "text",
                                     about=N_("erp-plugin report birthdays: the greeting; {name}, {tier}, {balance} filled in"))
    # the accountant's documents (period/accounting.py): credit note numbers and the chart of accounts
    credit_note_prefix: str = setting("КН", "text", about=N_("credit notes are numbered <prefix>-<year>-<seq>: КН-2026-0001"))
    account_customers: str = setting("62.01", "text", about=N_("account of settlements with buyers (Дт for fees, Кт for "
                                                            "credit notes); type it as text"))
    account_revenue: str = setting("90.01.1", "text", about=N_("revenue: Кт for fees, Дт for a rebate that lowers the price"))
    account_output_vat: str = setting("90.03", "text", about=N_("VAT on sales: Дт for the VAT of fees, Кт for the VAT of a "
                                                             "price-lowering rebate"))
    account_vat_payable: str = setting("68.02", "text", about=N_("VAT to the budget: Кт for fees' VAT, Дт for credit notes' VAT"))
    account_bonus_expense: str = setting("91.02", "text", about=N_("other expenses: Дт for a volume bonus that leaves the "
                                                                "price (and VAT) alone"))
    src: tuple[tuple[str, str], ...] = ()  # setting key -> value cell, for messages

    def at(self, key: str) -> str:
        ref = dict(self.src).get(key)
        return f"Settings!{ref}" if ref else "Settings"


@dataclass(frozen=True)
class Marker:
    marker: str = column("key", ("маркер", "цвет"), required=True)
    min_pct: Decimal = column("pct", ("мин_%", "мин", "минимум", "мин_скидка"), required=True, min=ZERO, max=HUNDRED)
    max_pct: Decimal = column("pct", ("макс_%", "макс", "максимум", "макс_скидка"), required=True, min=ZERO, max=HUNDRED)
    # the margin guardrail: a line whose discount and bonus exceed this share of its gross is a warning
    max_concession_pct: Decimal | None = column(
        "pct", ("макс_уступка_%", "макс_уступка", "предел_уступки"), min=ZERO, max=HUNDRED,
        hint="the most a line may give away (discount and bonus, % of gross) before a warning; blank = no check")
    src: Src = NO_SRC


@dataclass(frozen=True)
class Tariff:
    tariff: str = column("key", ("тариф",), required=True)
    monthly_fee: int = column("money", ("абонплата", "абонентская_плата", "плата_в_месяц"), required=True, min=ZERO)
    discounts: tuple[tuple[str, Decimal], ...]  # (marker, pct) in Markers order: read from one column per marker
    src: Src = NO_SRC

    def discount(self, marker: str) -> Decimal:
        return dict(self.discounts)[marker]


@dataclass(frozen=True)
class OptionValue:
    option: str = column("key", ("опция",), required=True, hint="reservation_days, moneyback_days or payment")
    # days for the day options, the payment method's name for payment
    value: int | str = column("text", ("значение",), required=True)
    weight_pct: Decimal = column("pct", ("вес_%", "вес"), required=True, min=ZERO, max=HUNDRED)
    src: Src = NO_SRC


@dataclass(frozen=True)
class BonusMode:
    mode: str = column("key", ("режим",), required=True)
    bonus_share_pct: Decimal = column("pct", ("доля_бонусов_%", "доля_бонусов", "бонусы_%"), required=True,
                                      min=ZERO, max=HUNDRED)
    src: Src = NO_SRC


@dataclass(frozen=True)
class Client:
    client_id: str = column("key", ("клиент", "код_клиента", "контрагент", "id"), required=True)
    tariff: str | None = column("key", ("тариф",), hint="blank = BASE")  # None: BASE
    bonus_mode: str | None = column("key", ("режим_бонусов", "режим"), hint="blank = discount")  # None: discount
    joined: date | None = column("date", ("дата_подключения", "подключен", "с"))
    name: str | None = column("text", ("наименование", "название", "имя"))
    inn: str | None = column("key", ("инн",))
    segments: tuple[str, ...] = column("list", ("сегменты", "сегмент"), default=())
    tier: str | None = column("key", ("уровень", "карта"))
    birthday: date | MonthDay | None = column("birthday", ("день_рождения", "др"), hint="31.12.1980, or 31.12 without the year")
    email: str | None = column("text", ("почта", "e_mail", "эл_почта"))
    phone: str | None = column("text", ("телефон",))
    src: Src = NO_SRC


@dataclass(frozen=True)
class TariffChange:
    client_id: str = column("key", ("клиент", "код_клиента"), required=True)
    from_date: date = column("date", ("с_даты", "дата", "дата_начала"), required=True)
    tariff: str | None = column("key", ("тариф",))
    bonus_mode: str | None = column("key", ("режим_бонусов", "режим"))
    src: Src = NO_SRC


@dataclass(frozen=True)
class Product:
    sku: str = column("key", ("артикул", "код"), required=True)
    marker: str | None = column("key", ("маркер", "цвет"))
    category: str | None = column("text", ("категория", "группа"))
    src: Src = NO_SRC


@dataclass(frozen=True)
class Promotion:
    rule_id: str = column("key", ("правило", "код_правила", "акция"), required=True)
    reward: str = column("key", ("награда", "тип"), required=True, hint="discount_pct or bonus_multiplier")
    value: Decimal = column("number", ("значение",), required=True, min=ZERO)
    active_from: date | None = column("date", ("действует_с", "с"))
    active_to: date | None = column("date", ("действует_по", "по"))
    segment: str | None = column("key", ("сегмент",), hint="new, tier:<name> or a client segment")
    marker: str | None = column("key", ("маркер",))
    skus: tuple[str, ...] = column("list", ("артикул", "артикулы"), header="sku", default=())
    category: str | None = column("text", ("категория",))
    payment: str | None = column("key", ("оплата",))
    min_qty: Decimal | None = column("number", ("мин_количество", "от_количества"), min=ZERO)
    requires_sku: str | None = column("key", ("требует_артикул", "при_покупке"))
    every_nth: int | None = column("int", ("каждый_n_й", "каждый"), min=ONE)
    group: str | None = column("key", ("группа",))
    priority: int = column("int", ("приоритет",), default=0)
    src: Src = NO_SRC


@dataclass(frozen=True)
class RebateStep:
    from_turnover: int = column("money", ("оборот_от", "от"), required=True, min=ZERO)
    rebate_pct: Decimal = column("pct", ("скидка_%", "ретро_бонус_%", "процент"), required=True, min=ZERO, max=HUNDRED)
    src: Src = NO_SRC


@dataclass(frozen=True)
class Tier:
    tier: str = column("key", ("уровень", "карта"), required=True)
    min_turnover: int | None = column("money", ("мин_оборот", "оборот_от"), min=ZERO)
    min_single_document: int | None = column("money", ("мин_документ", "разовая_покупка_от"), min=ZERO)
    src: Src = NO_SRC

    @property
    def is_base(self) -> bool:
        return self.min_turnover is None and self.min_single_document is None


@dataclass(frozen=True)
class StampCard:
    """The StampCard sheet: one key per row."""

    columns: int = setting(3, "int")
    cells_per_column: int = setting(4, "int")
    min_document: int = setting(0, "money")
    reward: str | None = setting(None, "text")
    reward_points: int | None = None  # the reward in minor units when it is a number of bonus points


@dataclass(frozen=True)
class CouponRule:
    rule_id: str = column("key", ("правило", "код_правила"), required=True)
    every_n_documents: int = column("int", ("каждый_n_й_документ", "каждый"), required=True, min=ONE)
    discount_pct: Decimal = column("pct", ("скидка_%", "скидка"), required=True, min=ZERO, max=HUNDRED)
    # the column valid: end_of_month (None: valid through the end of the issue month) or days:N
    valid_days: int | None = column("key", ("срок", "действует"), header="valid", hint="end_of_month or days:N")
    min_document: int = column("money", ("мин_документ", "от_суммы"), min=ZERO, default=0)
    src: Src = NO_SRC


@dataclass(frozen=True)
class Quest:
    quest_id: str = column("key", ("квест", "код"), required=True)
    categories: tuple[str, ...] = column("list", ("категории",), required=True)
    active_from: date | None = column("date", ("действует_с", "с"))
    active_to: date | None = column("date", ("действует_по", "по"))
    reward: str | None = column("text", ("награда",))
    reward_points: int | None = None
    src: Src = NO_SRC


@dataclass(frozen=True)
class ColumnMapping:
    field: str = column("key", ("поле",), required=True)
    header: str = column("text", ("заголовок", "колонка"), required=True)
    src: Src = NO_SRC


@dataclass(frozen=True)
class RedemptionEstimate:
    from_date: date = column("date", ("с_даты", "дата", "дата_начала"), required=True)
    expected_redemption_pct: Decimal = column(
        "pct", ("ожидаемое_погашение_%", "погашение_%", "ожидаемое_погашение"), required=True, min=ZERO, max=HUNDRED
    )
    src: Src = NO_SRC


@dataclass(frozen=True)
class TariffBook:
    """Everything the tariff workbook says, validated. Keyed collections keep sheet order."""

    path: str
    settings: Settings
    markers: dict[str, Marker]
    tariffs: dict[str, Tariff]
    options: tuple[OptionValue, ...]
    bonus_modes: dict[str, BonusMode]
    clients: dict[str, Client]
    tariff_changes: tuple[TariffChange, ...] = ()
    products: dict[str, Product] = field(default_factory=dict)
    promotions: tuple[Promotion, ...] = ()
    rebate_scale: tuple[RebateStep, ...] = ()
    tiers: tuple[Tier, ...] = ()
    stamp_card: StampCard | None = None
    coupon_rules: tuple[CouponRule, ...] = ()
    quests: tuple[Quest, ...] = ()
    columns: tuple[ColumnMapping, ...] = ()
    redemption_estimates: tuple[RedemptionEstimate, ...] = ()  # by from_date, each date once

    @classmethod
    def defaults(cls) -> "TariffBook":
        """A book of nothing but SPEC's default Settings: for reports and scripts that have no workbook."""
        return cls("", Settings(), {}, {}, (), {}, {})

    def option_values(self, option: str) -> list[OptionValue]:
        return [o for o in self.options if o.option == option]

    @property
    def default_payment(self) -> str | None:
        """The Settings value, else the first ``payment`` row of Options."""
        if self.settings.default_payment:
            return self.settings.default_payment
        payments = self.option_values("payment")
        return str(payments[0].value) if payments else None

    def expected_redemption_on(self, day: date) -> Decimal:
        """The expected redemption (%) in force on ``day`` (SPEC §8): the last RedemptionEstimates row
        with from_date <= day, else the setting expected_redemption_pct. A datetime counts by its day."""
        if isinstance(day, datetime):
            day = day.date()
        at = bisect_right(self.redemption_estimates, day, key=lambda e: e.from_date)
        return self.redemption_estimates[at - 1].expected_redemption_pct if at else self.settings.expected_redemption_pct

    def expected_redemption_scaled(self, days) -> np.ndarray:
        """``expected_redemption_on`` of each day of a ``datetime64`` array, as int64 in PCT_SCALE units.

        One binary search over the from_dates for the whole array; a NaT day sorts after every
        date and gets the latest estimate.
        """
        import numpy as np  # here: reading and validating a workbook needs no numpy

        from ..money import pct_to_scaled

        days = np.asarray(days, dtype="datetime64[D]")
        starts = np.array([e.from_date for e in self.redemption_estimates], dtype="datetime64[D]")
        scaled = np.array(
            [pct_to_scaled(p) for p in (self.settings.expected_redemption_pct,
                                        *(e.expected_redemption_pct for e in self.redemption_estimates))],
            dtype=np.int64,
        )
        return scaled[np.searchsorted(starts, days, side="right")]
