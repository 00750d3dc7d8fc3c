"""Reading the tariff workbook into a TariffBook, collecting every problem on the way.

Each sheet is read by its spec (schema.py): headers found case-insensitively or
by a Russian alias, every cell typed by its column's kind, keys checked for
duplicates. Names that other sheets refer to (tariffs, markers, modes, tiers,
options) are matched case-insensitively and stored in the spelling of the sheet
that defines them; client ids and SKUs are matched exactly, as ERPs write them.
Cross-sheet rules and lint warnings live in validate.py.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterator

from openpyxl.utils import column_index_from_string, get_column_letter

from ..erp.fields import normalize_header
from ..parsing import to_minor
from ..problems import Problems
from . import model as m
from .cells import CellReader, parse_date, plain, text_of
from .schema import (
    DEFAULT_BONUS_MODES,
    DEFAULT_MARKERS,
    OPTIONS,
    SETTING,
    SHEET,
    STAMP_KEYS,
    Col,
    SheetSpec,
)
from .workbook import RawCell, Region, Workbook


@dataclass
class Row:
    number: int
    values: dict[str, object]
    cells: dict[str, RawCell]
    src: m.Src


class Names:
    """Case-insensitive lookup of defined names, answering in the defining spelling."""

    def __init__(self, names=()):
        self._by_key = {str(n).casefold(): str(n) for n in names}

    def get(self, name: str | None) -> str | None:
        return None if name is None else self._by_key.get(name.casefold())

    def canonical(self, name: str | None) -> str | None:
        """The defined spelling of ``name``, or ``name`` as written when it is not defined."""
        return None if name is None else self._by_key.get(name.casefold(), name)

    def __contains__(self, name: str) -> bool:
        return name.casefold() in self._by_key

    def listing(self) -> str:
        return ", ".join(self._by_key.values())


class BookReader:
    def __init__(self, workbook: Workbook, problems: Problems):
        self.wb = workbook
        self.problems = problems
        self.minor_units = 2
        # Names each sheet defines, rows with errors included, so that a reference to a row
        # that failed on another cell does not add a second, misleading error.
        self.defined: dict[str, set[str]] = defaultdict(set)

    # -------------------------------------------------------------- generic

    def rows(self, name: str, extra: tuple[Col, ...] = ()) -> Iterator[Row] | None:
        """Typed rows of sheet ``name``; None when the sheet is absent (the caller decides if that is wrong)."""
        spec = SHEET[name]
        region = self.wb.region(spec)
        if region is None:
            if spec.required:
                self.problems.error(
                    "sheet.missing",
                    f"missing sheet {name}; add a sheet named {name} with columns "
                    f"{', '.join(c.name for c in spec.columns if c.required)} (erp-plugin init writes a complete one)",
                    sheet=name,
                )
            return None
        columns = self._resolve(region, spec, extra)
        if any(c.required and c.name not in columns for c in (*spec.columns, *extra)):
            return iter(())  # the missing column is reported; the sheet cannot be read without it
        return self._typed_rows(region, spec, columns)

    def _resolve(self, region: Region, spec: SheetSpec, extra: tuple[Col, ...]) -> dict[str, tuple[Col, int]]:
        resolved: dict[str, tuple[Col, int]] = {}
        next_free = len(region.headers) and max(h.index for h in region.headers) + 1
        for col in (*spec.columns, *extra):
            header = region.find((col.name, *col.aliases))
            if header is not None:
                resolved[col.name] = (col, header.index)
            elif col.required:
                first_col = region.headers[0].letter if region.headers else "A"
                letter = get_column_letter(column_index_from_string(first_col) + next_free)
                aka = f" (or {col.aliases[0]!r})" if col.aliases else ""
                self.problems.error(
                    "column.missing",
                    f"missing required column {col.name}; add a header {col.name!r}{aka} in row {region.header_row}",
                    sheet=region.sheet,
                    cell=f"{letter}{region.header_row}",
                )
                next_free += 1
        return resolved

    def _typed_rows(self, region: Region, spec: SheetSpec, columns: dict[str, tuple[Col, int]]) -> Iterator[Row]:
        reader = CellReader(region.sheet, self.problems, self.minor_units)
        seen: dict[tuple, str] = {}  # key -> the cell of its first row
        for number, cells in region.rows:
            values: dict[str, object] = {}
            raw: dict[str, RawCell] = {}
            for name, (col, index) in columns.items():
                cell = cells[index] if index < len(cells) else None
                if cell is None:
                    continue
                raw[name] = cell
                values[name] = reader.read(cell, col.kind, col.name, col.required, col.min, col.max)
            src = m.Src(region.sheet, number, tuple((name, cell.ref) for name, cell in raw.items()))
            if isinstance(values.get(spec.columns[0].name), str):
                self.defined[spec.name].add(values[spec.columns[0].name].casefold())
            if spec.key and all(values.get(k) is not None for k in spec.key):
                key = tuple(_key_of(values[k]) for k in spec.key)
                if key in seen:
                    shown = " + ".join(text_of(raw[k].value) for k in spec.key)
                    self.problems.error(
                        "key.duplicate",
                        f"{' + '.join(spec.key)} {shown} is already in {region.sheet}!{seen[key]}; each must appear once",
                        sheet=region.sheet,
                        cell=raw[spec.key[0]].ref,
                    )
                    continue
                seen[key] = raw[spec.key[0]].ref
            if any(values.get(c.name) is None for c in spec.columns if c.required and c.name in columns):
                continue  # the problem is recorded; a half-read row is not used
            yield Row(number, values, raw, src)

    # ---------------------------------------------------------------- sheets

    def settings(self) -> m.Settings:
        rows = self.rows("Settings")
        found: dict[str, object] = {}
        refs: dict[str, str] = {}
        reader = CellReader("Settings", self.problems)
        for row in rows or ():
            key = normalize_header(row.values["key"])
            spec = SETTING.get(key)
            cell = row.cells["value"]
            if spec is None:
                near = difflib.get_close_matches(key, list(SETTING), n=1)
                hint = f"; did you mean {near[0]}?" if near else f"; known keys: {', '.join(SETTING)}"
                reader.warning(row.cells["key"], "settings.unknown_key", f"unknown setting {row.values['key']!r} is ignored{hint}")
                continue
            value = self._setting(reader, spec, cell)
            if value is not None:
                found[key] = value
                refs[key] = cell.ref
            if key == "minor_units" and value is not None:
                self.minor_units = value
        return m.Settings(**found, src=tuple(refs.items()))

    def _setting(self, reader: CellReader, spec, cell: RawCell):
        label = spec.key
        if cell.formula is not None:
            return None  # reported when the row was read
        if spec.kind == "choice":
            text = reader.read(cell, "key", label)
            if text is None:
                return None
            if text.casefold() not in spec.choices:
                reader.error(cell, "settings.choice", f"{label} {text!r} is not one of {', '.join(spec.choices)}")
                return None
            return text.casefold()
        if spec.kind == "month_day":
            return self._month_day(reader, cell)
        if spec.kind == "int":
            low = Decimal(spec.min) if spec.min is not None else None
            high = Decimal(spec.max) if spec.max is not None else None
            return reader.read(cell, "int", label, low=low, high=high)
        if spec.kind == "pct":
            return reader.read(cell, "pct", label, low=Decimal(0), high=Decimal(1000))
        if spec.key == "currency":
            code = reader.read(cell, "text", label)
            if code is not None and not re.fullmatch(r"[A-Za-z]{3}", code):
                reader.error(cell, "settings.currency", f"currency {code!r} is not a 3-letter code; expected e.g. RUB")
                return None
            return code.upper() if code else None
        return reader.read(cell, spec.kind, label)

    @staticmethod
    def _month_day(reader: CellReader, cell: RawCell) -> tuple[int, int] | None:
        if cell.blank or cell.formula:
            return reader.read(cell, "text", "fiscal_year_start")
        text = text_of(cell.value)
        try:
            if isinstance(cell.value, (int, float)) or re.fullmatch(r"\d{4}-\d{2}-\d{2}.*|\d{1,2}\.\d{1,2}\.\d{4}", text):
                day = parse_date(cell.value)
                return day.month, day.day
            match = re.fullmatch(r"(\d{1,2})-(\d{1,2})", text)
            if match:
                month, day_of = map(int, match.groups())
                parse_date(f"{day_of}.{month}.2024")  # 2024: a leap year, so 02-29 is a real day
                return month, day_of
            match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})", text)
            if match:
                day_of, month = map(int, match.groups())
                parse_date(f"{day_of}.{month}.2024")
                return month, day_of
        except ValueError:
            pass
        reader.error(cell, "settings.fiscal_year_start", f"fiscal_year_start {text!r} is not a month and day; expected MM-DD, e.g. 04-01")
        return None

    def markers(self) -> dict[str, m.Marker]:
        rows = self.rows("Markers")
        if rows is None:
            return {name: m.Marker(name, Decimal(lo), Decimal(hi)) for name, lo, hi in DEFAULT_MARKERS}
        markers = {}
        for row in rows:
            v = row.values
            if v["min_pct"] > v["max_pct"]:
                self.problems.error(
                    "marker.range",
                    f"{v['marker']} range {plain(v['min_pct'])}–{plain(v['max_pct'])} has min above max; swap them",
                    sheet=row.src.sheet,
                    cell=row.cells["min_pct"].ref,
                )
                continue
            markers[v["marker"]] = m.Marker(v["marker"], v["min_pct"], v["max_pct"], row.src)
        if not markers and not self._has_errors_on("Markers"):
            self.problems.error("sheet.empty", "Markers has no rows; add the markers, e.g. white 0 0", sheet="Markers")
        return markers

    def tariffs(self, markers: dict[str, m.Marker]) -> dict[str, m.Tariff]:
        extra = tuple(Col(name, "pct", True, (f"{name}_%", f"{name}_pct", f"{name} %")) for name in markers)
        rows = self.rows("Tariffs", extra)
        if rows is None:
            return {}
        tariffs: dict[str, m.Tariff] = {}
        for row in rows:
            v = row.values
            name = "BASE" if v["tariff"].casefold() == "base" else v["tariff"]
            discounts = []
            for marker in markers.values():
                pct = v.get(marker.marker)
                if pct is None:
                    continue
                if not marker.min_pct <= pct <= marker.max_pct:
                    self.problems.error(
                        "tariff.discount_range",
                        f"{marker.marker} discount {plain(pct)} is outside the {marker.marker} range "
                        f"{plain(marker.min_pct)}–{plain(marker.max_pct)}",
                        sheet=row.src.sheet,
                        cell=row.cells[marker.marker].ref,
                    )
                discounts.append((marker.marker, pct))
            if len(discounts) == len(markers):
                tariffs[name] = m.Tariff(name, v["monthly_fee"], tuple(discounts), row.src)
        return tariffs

    def options(self) -> tuple[m.OptionValue, ...]:
        rows = self.rows("Options")
        options: list[m.OptionValue] = []
        seen_payment: dict[str, str] = {}  # payment -> the cell of its first row
        reader = CellReader("Options", self.problems)
        for row in rows or ():
            v = row.values
            option = normalize_header(v["option"])
            if option not in OPTIONS:
                near = difflib.get_close_matches(option, OPTIONS, n=1)
                hint = f"; did you mean {near[0]}?" if near else ""
                reader.error(row.cells["option"], "option.unknown", f"option {v['option']!r} is not one of {', '.join(OPTIONS)}{hint}")
                continue
            if option == "payment":
                value: int | str = text_of(v["value"])
                if value.casefold() in seen_payment:
                    reader.error(
                        row.cells["value"], "key.duplicate",
                        f"payment {value!r} is already in Options!{seen_payment[value.casefold()]}; each must appear once",
                    )
                    continue
                seen_payment[value.casefold()] = row.cells["value"].ref
            else:
                days = reader.read(row.cells["value"], "int", f"{option} value", True, Decimal(0))
                if days is None:
                    continue
                value = days
            options.append(m.OptionValue(option, value, v["weight_pct"], row.src))
        return tuple(options)

    def bonus_modes(self) -> dict[str, m.BonusMode]:
        rows = self.rows("BonusModes")
        if rows is None:
            return {name: m.BonusMode(name, Decimal(share)) for name, share in DEFAULT_BONUS_MODES}
        return {r.values["mode"]: m.BonusMode(r.values["mode"], r.values["bonus_share_pct"], r.src) for r in rows}

    def tiers(self) -> tuple[m.Tier, ...]:
        return tuple(
            m.Tier(r.values["tier"], r.values.get("min_turnover"), r.values.get("min_single_document"), r.src)
            for r in self.rows("Tiers") or ()
        )

    def clients(self, tariffs: Names, modes: Names, tiers: Names) -> dict[str, m.Client]:
        clients = {}
        reader = CellReader("Clients", self.problems)
        for row in self.rows("Clients") or ():
            v = row.values
            inn = v.get("inn")
            if inn and not re.fullmatch(r"\d{10}|\d{12}", inn):
                reader.warning(row.cells["inn"], "client.inn", f"ИНН/INN {inn!r} should be 10 digits (a company) or 12 (a sole trader)")
            email = v.get("email")
            if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                reader.warning(row.cells["email"], "client.email", f"email {email!r} does not look like an address (name@example.ru)")
            clients[v["client_id"]] = m.Client(
                client_id=v["client_id"],
                tariff=_base_or(tariffs.canonical(v.get("tariff"))),
                bonus_mode=modes.canonical(v.get("bonus_mode")),
                joined=v.get("joined"),
                name=v.get("name"),
                inn=inn,
                segments=v.get("segments") or (),
                tier=tiers.canonical(v.get("tier")),
                birthday=v.get("birthday"),
                email=email,
                phone=v.get("phone"),
                src=row.src,
            )
        return clients

    def tariff_changes(self, tariffs: Names, modes: Names) -> tuple[m.TariffChange, ...]:
        changes = []
        reader = CellReader("TariffChanges", self.problems)
        for row in self.rows("TariffChanges") or ():
            v = row.values
            if v.get("tariff") is None and v.get("bonus_mode") is None:
                reader.warning(row.cells["from_date"], "change.empty", "row changes neither tariff nor bonus_mode; fill one or delete the row")
            changes.append(
                m.TariffChange(
                    v["client_id"], v["from_date"], _base_or(tariffs.canonical(v.get("tariff"))),
                    modes.canonical(v.get("bonus_mode")), row.src,
                )
            )
        return tuple(sorted(changes, key=lambda c: (c.client_id, c.from_date)))

    def products(self, markers: Names) -> dict[str, m.Product]:
        return {
            r.values["sku"]: m.Product(r.values["sku"], markers.canonical(r.values.get("marker")), r.values.get("category"), r.src)
            for r in self.rows("Products") or ()
        }

    def promotions(self, markers: Names) -> tuple[m.Promotion, ...]:
        promotions = []
        reader = CellReader("Promotions", self.problems)
        for row in self.rows("Promotions") or ():
            v = row.values
            reward = v["reward"].casefold()
            if reward not in ("discount_pct", "bonus_multiplier"):
                reader.error(row.cells["reward"], "promo.reward", f"reward {v['reward']!r} is not one of discount_pct, bonus_multiplier")
                continue
            value: Decimal = v["value"]
            if reward == "discount_pct" and not Decimal(0) < value <= Decimal(100):
                reader.error(row.cells["value"], "promo.value", f"discount {plain(value)} % is outside 0–100; expected e.g. 5")
                continue
            if reward == "bonus_multiplier" and value <= 0:
                reader.error(row.cells["value"], "promo.value", f"multiplier {plain(value)} must be above 0; expected e.g. 2 for double points")
                continue
            if reward == "bonus_multiplier" and v.get("every_nth") is not None:
                reader.error(row.cells["every_nth"], "promo.every_nth", "every_nth applies to discount_pct rules only; clear it or set reward to discount_pct")
                continue
            segment = v.get("segment")
            if segment and segment.casefold() == "new":
                segment = "new"
            promotions.append(
                m.Promotion(
                    rule_id=v["rule_id"], reward=reward, value=value,
                    active_from=v.get("active_from"), active_to=v.get("active_to"),
                    segment=segment, marker=markers.canonical(v.get("marker")), skus=v.get("sku") or (),
                    category=v.get("category"), payment=v.get("payment"), min_qty=v.get("min_qty"),
                    requires_sku=v.get("requires_sku"), every_nth=v.get("every_nth"), group=v.get("group"),
                    priority=v.get("priority") or 0, src=row.src,
                )
            )
        return tuple(promotions)

    def rebate_scale(self) -> tuple[m.RebateStep, ...]:
        steps = [m.RebateStep(r.values["from_turnover"], r.values["rebate_pct"], r.src) for r in self.rows("RebateScale") or ()]
        return tuple(steps)

    def stamp_card(self) -> m.StampCard | None:
        rows = self.rows("StampCard")
        if rows is None:
            return None
        reader = CellReader("StampCard", self.problems, self.minor_units)
        found: dict[str, object] = {}
        for row in rows:
            key = normalize_header(row.values["key"])
            if key not in STAMP_KEYS:
                reader.warning(row.cells["key"], "stamp.unknown_key", f"unknown key {row.values['key']!r} is ignored; known keys: {', '.join(STAMP_KEYS)}")
                continue
            kind, _default = STAMP_KEYS[key]
            if row.cells["value"].formula is not None:
                continue  # reported when the row was read
            low = Decimal(1) if kind == "int" else Decimal(0)
            value = reader.read(row.cells["value"], kind, key, True, low)
            if value is not None:
                found[key] = value
        reward = found.pop("reward", None)
        return m.StampCard(**found, reward=reward, reward_points=self._points(reward))

    def coupon_rules(self) -> tuple[m.CouponRule, ...]:
        rules = []
        reader = CellReader("CouponRules", self.problems)
        for row in self.rows("CouponRules") or ():
            v = row.values
            valid = (v.get("valid") or "end_of_month").strip().casefold()
            match = re.fullmatch(r"days\s*:\s*(\d+)", valid)
            if valid != "end_of_month" and not (match and int(match.group(1)) > 0):
                reader.error(row.cells["valid"], "coupon.valid", f"valid {v['valid']!r} is not end_of_month or days:N (e.g. days:30)")
                continue
            if v["discount_pct"] == 0:
                reader.error(row.cells["discount_pct"], "coupon.discount", "a coupon discount of 0 % gives nothing; expected e.g. 30")
                continue
            rules.append(
                m.CouponRule(
                    v["rule_id"], v["every_n_documents"], v["discount_pct"],
                    int(match.group(1)) if match else None, v.get("min_document") or 0, row.src,
                )
            )
        return tuple(rules)

    def quests(self) -> tuple[m.Quest, ...]:
        quests = []
        for row in self.rows("Quests") or ():
            v = row.values
            if not v["categories"]:
                self.problems.error("quest.categories", "categories is empty; list them separated by commas", sheet=row.src.sheet, cell=row.cells["categories"].ref)
                continue
            reward = v.get("reward")
            quests.append(
                m.Quest(v["quest_id"], v["categories"], v.get("active_from"), v.get("active_to"), reward, self._points(reward), row.src)
            )
        return tuple(quests)

    def columns(self) -> tuple[m.ColumnMapping, ...]:
        return tuple(
            m.ColumnMapping(normalize_header(r.values["field"]), r.values["header"], r.src) for r in self.rows("Columns") or ()
        )

    def redemption_estimates(self) -> tuple[m.RedemptionEstimate, ...]:
        estimates = [
            m.RedemptionEstimate(r.values["from_date"], r.values["expected_redemption_pct"], r.src)
            for r in self.rows("RedemptionEstimates") or ()
        ]
        return tuple(sorted(estimates, key=lambda e: e.from_date))

    # ---------------------------------------------------------------- helpers

    def _points(self, reward: str | None) -> int | None:
        """A reward written as a number is that many bonus points (currency units), in minor units."""
        if reward is None:
            return None
        try:
            return to_minor(reward, self.minor_units)
        except ValueError:
            return None

    def _has_errors_on(self, sheet: str) -> bool:
        return any(p.sheet == sheet for p in self.problems.errors)


def _key_of(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def _base_or(tariff: str | None) -> str | None:
    return "BASE" if tariff is not None and tariff.casefold() == "base" else tariff


def read_book(workbook: Workbook, problems: Problems) -> tuple[m.TariffBook, dict[str, set[str]]]:
    """Every sheet, in the order their cross-references need; also the names each sheet defines."""
    r = BookReader(workbook, problems)
    settings = r.settings()
    markers = r.markers()
    tariffs = r.tariffs(markers)
    options = r.options()
    modes = r.bonus_modes()
    tiers = r.tiers()
    tariff_names, mode_names, marker_names = Names(tariffs), Names(modes), Names(markers)
    book = m.TariffBook(
        path=workbook.path,
        settings=settings,
        markers=markers,
        tariffs=tariffs,
        options=options,
        bonus_modes=modes,
        clients=r.clients(tariff_names, mode_names, Names(t.tier for t in tiers)),
        tariff_changes=r.tariff_changes(tariff_names, mode_names),
        products=r.products(marker_names),
        promotions=r.promotions(marker_names),
        rebate_scale=r.rebate_scale(),
        tiers=tiers,
        stamp_card=r.stamp_card(),
        coupon_rules=r.coupon_rules(),
        quests=r.quests(),
        columns=r.columns(),
        redemption_estimates=r.redemption_estimates(),
    )
    return book, r.defined
