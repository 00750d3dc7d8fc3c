"""The tariff workbook as frozen, typed records that remember their cells.

Money is in integer minor units, percentages are ``Decimal`` (``2.5`` means
2.5 %), dates are ``datetime.date``. Every record carries a ``Src`` so that any
later check or computation can point the user at the cell to fix
(``book.tariffs["PRO"].src.at("red")`` -> ``Tariffs!E5``).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import numpy as np

from ..money import pct_to_scaled


@dataclass(frozen=True)
class Src:
    sheet: str
    row: int
    cells: tuple[tuple[str, str], ...] = ()

    def at(self, name: str) -> str:
        """``Sheet!Cell`` of the field ``name`` on this record's row (``Sheet!row`` if unknown)."""
        for key, ref in self.cells:
            if key == name:
                return f"{self.sheet}!{ref}"
        return f"{self.sheet}!{self.row}:{self.row}"


NO_SRC = Src("", 0)


@dataclass(frozen=True)
class Settings:
    currency: str = "RUB"
    minor_units: int = 2
    vat_rate_pct: Decimal | None = None  # None: the statutory Russian rate by date (20 %, 22 % from 2026)
    prices_include_vat: bool = True
    carrying_rate_pct: Decimal = Decimal(25)
    trial_months: int = 3
    fiscal_year_start: tuple[int, int] = (1, 1)  # (month, day)
    rebate_mode: str = "retroactive"
    rebate_basis: str = "net"
    bonus_expiry_months: int = 12
    expected_redemption_pct: Decimal = Decimal(80)
    unknown_client: str = "base"
    default_payment: str | None = None  # None: the first payment option of the Options sheet
    on_overdraw: str = "error"
    new_client_days: int = 365
    rebate_reduces_price: bool = False
    ledger: str | None = None
    src: tuple[tuple[str, str], ...] = ()  # setting key -> value cell, for messages

    def at(self, key: str) -> str:
        ref = dict(self.src).get(key)
        return f"Settings!{ref}" if ref else "Settings"


@dataclass(frozen=True)
class Marker:
    marker: str
    min_pct: Decimal
    max_pct: Decimal
    src: Src = NO_SRC


@dataclass(frozen=True)
class Tariff:
    tariff: str
    monthly_fee: int
    discounts: tuple[tuple[str, Decimal], ...]  # (marker, pct) in Markers order
    src: Src = NO_SRC

    def discount(self, marker: str) -> Decimal:
        return dict(self.discounts)[marker]


@dataclass(frozen=True)
class OptionValue:
    option: str  # reservation_days | moneyback_days | payment
    value: int | str  # days for the day options, the payment method's name for payment
    weight_pct: Decimal
    src: Src = NO_SRC


@dataclass(frozen=True)
class BonusMode:
    mode: str
    bonus_share_pct: Decimal
    src: Src = NO_SRC


@dataclass(frozen=True)
class Client:
    client_id: str
    tariff: str | None = None  # None: BASE
    bonus_mode: str | None = None  # None: discount
    joined: date | None = None
    name: str | None = None
    inn: str | None = None
    segments: tuple[str, ...] = ()
    tier: str | None = None
    birthday: date | None = None
    email: str | None = None
    phone: str | None = None
    src: Src = NO_SRC


@dataclass(frozen=True)
class TariffChange:
    client_id: str
    from_date: date
    tariff: str | None = None
    bonus_mode: str | None = None
    src: Src = NO_SRC


@dataclass(frozen=True)
class Product:
    sku: str
    marker: str | None = None
    category: str | None = None
    src: Src = NO_SRC


@dataclass(frozen=True)
class Promotion:
    rule_id: str
    reward: str  # discount_pct | bonus_multiplier
    value: Decimal
    active_from: date | None = None
    active_to: date | None = None
    segment: str | None = None
    marker: str | None = None
    skus: tuple[str, ...] = ()
    category: str | None = None
    payment: str | None = None
    min_qty: Decimal | None = None
    requires_sku: str | None = None
    every_nth: int | None = None
    group: str | None = None
    priority: int = 0
    src: Src = NO_SRC


@dataclass(frozen=True)
class RebateStep:
    from_turnover: int
    rebate_pct: Decimal
    src: Src = NO_SRC


@dataclass(frozen=True)
class Tier:
    tier: str
    min_turnover: int | None = None
    min_single_document: int | None = None
    src: Src = NO_SRC

    @property
    def is_base(self) -> bool:
        return self.min_turnover is None and self.min_single_document is None


@dataclass(frozen=True)
class StampCard:
    columns: int = 3
    cells_per_column: int = 4
    min_document: int = 0
    reward: str | None = None
    reward_points: int | None = None  # the reward in minor units when it is a number of bonus points


@dataclass(frozen=True)
class CouponRule:
    rule_id: str
    every_n_documents: int
    discount_pct: Decimal
    valid_days: int | None  # None: valid through the end of the issue month
    min_document: int = 0
    src: Src = NO_SRC


@dataclass(frozen=True)
class Quest:
    quest_id: str
    categories: tuple[str, ...]
    active_from: date | None = None
    active_to: date | None = None
    reward: str | None = None
    reward_points: int | None = None
    src: Src = NO_SRC


@dataclass(frozen=True)
class ColumnMapping:
    field: str
    header: str
    src: Src = NO_SRC


@dataclass(frozen=True)
class RedemptionEstimate:
    from_date: date
    expected_redemption_pct: Decimal
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
        days = np.asarray(days, dtype="datetime64[D]")
        starts = np.array([e.from_date for e in self.redemption_estimates], dtype="datetime64[D]")
        scaled = np.array(
            [pct_to_scaled(p) for p in (self.settings.expected_redemption_pct,
                                        *(e.expected_redemption_pct for e in self.redemption_estimates))],
            dtype=np.int64,
        )
        return scaled[np.searchsorted(starts, days, side="right")]
