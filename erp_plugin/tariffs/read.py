"""Reading the tariff workbook into a TariffBook, collecting every problem on the way.

Each sheet is read by its spec (schema.py, its columns described on its record
in model.py): headers found case-insensitively or by a Russian alias, every
cell typed by its column's kind, a whole column at a time, keys checked for
duplicates, and each row made into its record by ``Row.record``. Names that other sheets refer to (tariffs, markers, modes, tiers,
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

from ..erp.fields import normalize_header
from ..i18n import msg
from ..parsing import to_minor
from ..problems import Problems
from . import model as m
from .cells import LATER, CellReader, common_values, parse_date, plain, text_of
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
from .workbook import RawCell, Region, Workbook, column_letter, column_number

_INN = re.compile(r"\d{10}|\d{12}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Row:
    """One data row of a sheet: its typed values by column name, and where it is.

    ``row["tariff"]`` / ``row.get("tariff")`` is the typed value (None when blank or absent);
    ``row.cell("tariff")`` the cell itself, for a message; ``row.record(Client)`` the record
    the row becomes, each column into its field.
    """

    __slots__ = ("number", "src", "_at", "_values", "_sheet")

    def __init__(self, number: int, src: m.Src, at: int, values: dict[str, list], sheet: _Sheet):
        self.number = number
        self.src = src
        self._at = at  # the row's position among the region's data rows
        self._values = values  # column name -> typed values of every data row
        self._sheet = sheet

    def __getitem__(self, name: str):
        return self._values[name][self._at]

    def get(self, name: str):
        values = self._values.get(name)
        return None if values is None else values[self._at]

    def cell(self, name: str) -> RawCell:
        return self._sheet.region.cell(self._at, self._sheet.columns[name][1])

    def record(self, record: type, **given):
        """``record`` from this row: each of its columns' values into its field (a blank leaves the
        field's default), then the fields ``given`` (worked out by the sheet's reader)."""
        at = self._at
        fields = {field: values[at] for field, values in self._sheet.fields if values[at] is not None}
        fields.update(given)
        return record(**fields, src=self.src)


@dataclass
class _Sheet:
    spec: SheetSpec
    region: Region
    columns: dict[str, tuple[Col, int]]  # column name -> (its description, its index in the region)
    fields: list[tuple[str, list]]  # (record field, typed values) of each of the record's columns in the sheet


class Names:
    """Case-insensitive lookup of defined names, answering in the defining spelling."""

    def __init__(self, names=()):
        self._by_key = {str(n).casefold(): str(n) for n in names}
        self._canonical: dict[str, str] = {}  # each spelling met, answered once (100 000 clients, few names)

    def get(self, name: str | None) -> str | None:
        return None if name is None else self._by_key.get(name.casefold())

    def canonical(self, name: str | None) -> str | None:
        """The defined spelling of ``name``, or ``name`` as written when it is not defined."""
        if name is None:
            return None
        known = self._canonical.get(name)
        if known is None:
            known = self._canonical[name] = self._by_key.get(name.casefold(), name)
        return known

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
                    msg("missing sheet {name}; add a sheet named {name} with columns {value} (erp-plugin init "
                        "writes a complete one)",
                        name=name, value=', '.join(c.name for c in spec.columns if c.required)),
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
                letter = column_letter(column_number(first_col) + next_free)
                aka = msg(" (or {alias!r})", alias=col.aliases[0]) if col.aliases else ""
                self.problems.error(
                    "column.missing",
                    msg("missing required column {name}; add a header {name!r}{aka} in row {header_row}", name=col.name, aka=aka, header_row=region.header_row),
                    sheet=region.sheet,
                    cell=f"{letter}{region.header_row}",
                )
                next_free += 1
        return resolved

    def _typed_rows(self, region: Region, spec: SheetSpec, columns: dict[str, tuple[Col, int]]) -> Iterator[Row]:
        """Every whole row, typed. Columns are typed a whole column at a time where that is plain
        (``common_values``); the other cells one by one as their row comes, so that problems are
        reported row by row, in the order a person reads the sheet."""
        reader = CellReader(region.sheet, self.problems, self.minor_units)
        values: dict[str, list] = {}
        later: set[int] = set()  # rows with a cell left to the reader
        for name, (col, index) in columns.items():
            typed = common_values(region.column(index), col.kind, col.required)
            for at in region.marked(index):
                typed[at] = LATER
            if LATER in typed:
                later.update(at for at, value in enumerate(typed) if value is LATER)
            values[name] = typed
        sheet = _Sheet(spec, region, columns, [(c.field, values[c.name]) for c in spec.columns if c.name in values])
        letters = tuple((name, region.letter(index)) for name, (_col, index) in columns.items())
        first = values.get(spec.columns[0].name)
        defined = self.defined[spec.name]
        if first is not None:
            defined.update(v.casefold() for v in first if type(v) is str)  # the later rows' are added below
        key_columns = [values[k] for k in spec.key] if all(k in values for k in spec.key) else []
        keys = [tuple(_key_of(v) for v in key) for key in zip(*key_columns)]  # updated for the later rows below
        key_letter = region.letter(columns[spec.key[0]][1]) if key_columns else ""
        required = [values[c.name] for c in spec.columns if c.required and c.name in columns]
        seen: dict[tuple, int] = {}  # key -> the row number of its first row
        for at, number in enumerate(region.numbers):
            if at in later:
                for name, (col, index) in columns.items():
                    if values[name][at] is LATER:
                        values[name][at] = reader.read(region.cell(at, index), col.kind, col.name, col.required, col.min, col.max)
                if first is not None and type(first[at]) is str:
                    defined.add(first[at].casefold())
                if keys:
                    keys[at] = tuple(_key_of(key[at]) for key in key_columns)
            if keys and None not in keys[at]:
                if keys[at] in seen:
                    shown = " + ".join(text_of(region.cell(at, columns[k][1]).value) for k in spec.key)
                    self.problems.error(
                        "key.duplicate",
                        msg("{key} {shown} is already in {sheet}!{key_letter}{seen}; each must appear once",
                            key=' + '.join(spec.key), shown=shown, sheet=region.sheet, key_letter=key_letter, seen=seen[keys[at]]),
                        sheet=region.sheet,
                        cell=f"{key_letter}{number}",
                    )
                    continue
                seen[keys[at]] = number
            # a blank required cell was left to the reader (common_values), so only such rows can lack one
            if at in later and any(column[at] is None for column in required):
                continue  # the problem is recorded; a half-read row is not used
            yield Row(number, m.Src(region.sheet, number, letters), at, values, sheet)

    # ---------------------------------------------------------------- sheets

    def settings(self) -> m.Settings:
        rows = self.rows("Settings")
        found: dict[str, object] = {}
        refs: dict[str, str] = {}
        reader = CellReader("Settings", self.problems)
        for row in rows or ():
            key = normalize_header(row["key"])
            spec = SETTING.get(key)
            cell = row.cell("value")
            if spec is None:
                near = difflib.get_close_matches(key, list(SETTING), n=1)
                hint = msg("; did you mean {near}?", near=near[0]) if near else msg("; known keys: {keys}", keys=", ".join(SETTING))
                reader.warning(row.cell("key"), "settings.unknown_key", msg("unknown setting {key!r} is "
                                                                            "ignored{hint}",
                                                                            key=row['key'], hint=hint))
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
                reader.error(cell, "settings.choice", msg("{label} {text!r} is not one of {choices}",
                                                          label=label, text=text, choices=', '.join(spec.choices)))
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
                reader.error(cell, "settings.currency", msg("currency {code!r} is not a 3-letter code; "
                                                            "expected e.g. RUB",
                                                            code=code))
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
        reader.error(cell, "settings.fiscal_year_start", msg("fiscal_year_start {text!r} is not a month and "
                                                             "day; expected MM-DD, e.g. 04-01",
                                                             text=text))
        return None

    def markers(self) -> dict[str, m.Marker]:
        rows = self.rows("Markers")
        if rows is None:
            return {name: m.Marker(name, Decimal(lo), Decimal(hi)) for name, lo, hi in DEFAULT_MARKERS}
        markers = {}
        for row in rows:
            if row["min_pct"] > row["max_pct"]:
                self.problems.error(
                    "marker.range",
                    msg("{marker} range {min_pct}–{max_pct} has min above max; swap them", marker=row['marker'], min_pct=plain(row['min_pct']), max_pct=plain(row['max_pct'])),
                    sheet=row.src.sheet,
                    cell=row.cell("min_pct").ref,
                )
                continue
            markers[row["marker"]] = row.record(m.Marker)
        if not markers and not self._has_errors_on("Markers"):
            self.problems.error("sheet.empty", msg("Markers has no rows; add the markers, e.g. white 0 0"), sheet="Markers")
        return markers

    def tariffs(self, markers: dict[str, m.Marker]) -> dict[str, m.Tariff]:
        extra = tuple(Col(name, "pct", True, (f"{name}_%", f"{name}_pct", f"{name} %")) for name in markers)
        rows = self.rows("Tariffs", extra)
        if rows is None:
            return {}
        tariffs: dict[str, m.Tariff] = {}
        for row in rows:
            name = "BASE" if row["tariff"].casefold() == "base" else row["tariff"]
            discounts = []
            for marker in markers.values():
                pct = row.get(marker.marker)
                if pct is None:
                    continue
                if not marker.min_pct <= pct <= marker.max_pct:
                    self.problems.error(
                        "tariff.discount_range",
                        msg("{marker} discount {pct} is outside the {marker} range {min_pct}–{max_pct}",
                            marker=marker.marker, pct=plain(pct), min_pct=plain(marker.min_pct), max_pct=plain(marker.max_pct)),
                        sheet=row.src.sheet,
                        cell=row.cell(marker.marker).ref,
                    )
                discounts.append((marker.marker, pct))
            if len(discounts) == len(markers):
                tariffs[name] = m.Tariff(name, row["monthly_fee"], tuple(discounts), row.src)
        return tariffs

    def options(self) -> tuple[m.OptionValue, ...]:
        rows = self.rows("Options")
        options: list[m.OptionValue] = []
        seen_payment: dict[str, str] = {}  # payment -> the cell of its first row
        reader = CellReader("Options", self.problems)
        for row in rows or ():
            option = normalize_header(row["option"])
            if option not in OPTIONS:
                near = difflib.get_close_matches(option, OPTIONS, n=1)
                hint = msg("; did you mean {near}?", near=near[0]) if near else ""
                reader.error(row.cell("option"), "option.unknown", msg("option {option!r} is not one of "
                                                                       "{options}{hint}",
                                                                       option=row['option'], options=', '.join(OPTIONS), hint=hint))
                continue
            if option == "payment":
                value: int | str = text_of(row["value"])
                if value.casefold() in seen_payment:
                    reader.error(
                        row.cell("value"), "key.duplicate",
                        msg("payment {value!r} is already in Options!{seen_payment}; each must appear once", value=value, seen_payment=seen_payment[value.casefold()]),
                    )
                    continue
                seen_payment[value.casefold()] = row.cell("value").ref
            else:
                days = reader.read(row.cell("value"), "int", f"{option} value", True, Decimal(0))
                if days is None:
                    continue
                value = days
            options.append(m.OptionValue(option, value, row["weight_pct"], row.src))
        return tuple(options)

    def bonus_modes(self) -> dict[str, m.BonusMode]:
        rows = self.rows("BonusModes")
        if rows is None:
            return {name: m.BonusMode(name, Decimal(share)) for name, share in DEFAULT_BONUS_MODES}
        return {r["mode"]: r.record(m.BonusMode) for r in rows}

    def tiers(self) -> tuple[m.Tier, ...]:
        return tuple(r.record(m.Tier) for r in self.rows("Tiers") or ())

    def clients(self, tariffs: Names, modes: Names, tiers: Names) -> dict[str, m.Client]:
        clients = {}
        reader = CellReader("Clients", self.problems)
        for row in self.rows("Clients") or ():
            inn = row.get("inn")
            if inn and not _INN.fullmatch(inn):
                reader.warning(row.cell("inn"), "client.inn", msg("ИНН/INN {inn!r} should be 10 digits (a "
                                                                  "company) or 12 (a sole trader)",
                                                                  inn=inn))
            email = row.get("email")
            if email and not _EMAIL.fullmatch(email):
                reader.warning(row.cell("email"), "client.email", msg("email {email!r} does not look like an "
                                                                      "address (name@example.ru)",
                                                                      email=email))
            clients[row["client_id"]] = row.record(
                m.Client,
                tariff=_base_or(tariffs.canonical(row.get("tariff"))),
                bonus_mode=modes.canonical(row.get("bonus_mode")),
                tier=tiers.canonical(row.get("tier")),
            )
        return clients

    def tariff_changes(self, tariffs: Names, modes: Names) -> tuple[m.TariffChange, ...]:
        changes = []
        reader = CellReader("TariffChanges", self.problems)
        for row in self.rows("TariffChanges") or ():
            if row.get("tariff") is None and row.get("bonus_mode") is None:
                reader.warning(row.cell("from_date"), "change.empty", msg("row changes neither tariff nor "
                                                                          "bonus_mode; fill one or delete the "
                                                                          "row"))
            changes.append(
                row.record(m.TariffChange, tariff=_base_or(tariffs.canonical(row.get("tariff"))),
                           bonus_mode=modes.canonical(row.get("bonus_mode")))
            )
        return tuple(sorted(changes, key=lambda c: (c.client_id, c.from_date)))

    def products(self, markers: Names) -> dict[str, m.Product]:
        return {
            r["sku"]: r.record(m.Product, marker=markers.canonical(r.get("marker")))
            for r in self.rows("Products") or ()
        }

    def promotions(self, markers: Names) -> tuple[m.Promotion, ...]:
        promotions = []
        reader = CellReader("Promotions", self.problems)
        for row in self.rows("Promotions") or ():
            reward = row["reward"].casefold()
            if reward not in ("discount_pct", "bonus_multiplier"):
                reader.error(row.cell("reward"), "promo.reward", msg("reward {reward!r} is not one of "
                                                                     "discount_pct, bonus_multiplier",
                                                                     reward=row['reward']))
                continue
            value: Decimal = row["value"]
            if reward == "discount_pct" and not Decimal(0) < value <= Decimal(100):
                reader.error(row.cell("value"), "promo.value", msg("discount {value} % is outside 0–100; "
                                                                   "expected e.g. 5",
                                                                   value=plain(value)))
                continue
            if reward == "bonus_multiplier" and value <= 0:
                reader.error(row.cell("value"), "promo.value", msg("multiplier {value} must be above 0; "
                                                                   "expected e.g. 2 for double points",
                                                                   value=plain(value)))
                continue
            if reward == "bonus_multiplier" and row.get("every_nth") is not None:
                reader.error(row.cell("every_nth"), "promo.every_nth", msg("every_nth applies to discount_pct "
                                                                           "rules only; clear it or set reward "
                                                                           "to discount_pct"))
                continue
            segment = row.get("segment")
            if segment and segment.casefold() == "new":
                segment = "new"
            promotions.append(row.record(m.Promotion, reward=reward, segment=segment, marker=markers.canonical(row.get("marker"))))
        return tuple(promotions)

    def rebate_scale(self) -> tuple[m.RebateStep, ...]:
        return tuple(r.record(m.RebateStep) for r in self.rows("RebateScale") or ())

    def stamp_card(self) -> m.StampCard | None:
        rows = self.rows("StampCard")
        if rows is None:
            return None
        reader = CellReader("StampCard", self.problems, self.minor_units)
        found: dict[str, object] = {}
        for row in rows:
            key = normalize_header(row["key"])
            if key not in STAMP_KEYS:
                reader.warning(row.cell("key"), "stamp.unknown_key", msg("unknown key {key!r} is ignored; "
                                                                         "known keys: {keys}",
                                                                         key=row['key'], keys=', '.join(STAMP_KEYS)))
                continue
            kind, _default = STAMP_KEYS[key]
            if row.cell("value").formula is not None:
                continue  # reported when the row was read
            low = Decimal(1) if kind == "int" else Decimal(0)
            value = reader.read(row.cell("value"), kind, key, True, low)
            if value is not None:
                found[key] = value
        reward = found.pop("reward", None)
        return m.StampCard(**found, reward=reward, reward_points=self._points(reward))

    def coupon_rules(self) -> tuple[m.CouponRule, ...]:
        rules = []
        reader = CellReader("CouponRules", self.problems)
        for row in self.rows("CouponRules") or ():
            valid = (row.get("valid") or "end_of_month").strip().casefold()
            match = re.fullmatch(r"days\s*:\s*(\d+)", valid)
            if valid != "end_of_month" and not (match and int(match.group(1)) > 0):
                reader.error(row.cell("valid"), "coupon.valid", msg("valid {valid!r} is not end_of_month or "
                                                                    "days:N (e.g. days:30)",
                                                                    valid=row['valid']))
                continue
            if row["discount_pct"] == 0:
                reader.error(row.cell("discount_pct"), "coupon.discount", msg("a coupon discount of 0 % gives "
                                                                              "nothing; expected e.g. 30"))
                continue
            rules.append(row.record(m.CouponRule, valid_days=int(match.group(1)) if match else None))
        return tuple(rules)

    def quests(self) -> tuple[m.Quest, ...]:
        quests = []
        for row in self.rows("Quests") or ():
            if not row["categories"]:
                self.problems.error("quest.categories", msg("categories is empty; list them separated by commas"), sheet=row.src.sheet, cell=row.cell("categories").ref)
                continue
            reward = row.get("reward")
            quests.append(row.record(m.Quest, reward_points=self._points(reward)))
        return tuple(quests)

    def columns(self) -> tuple[m.ColumnMapping, ...]:
        return tuple(
            r.record(m.ColumnMapping, field=normalize_header(r["field"])) for r in self.rows("Columns") or ()
        )

    def redemption_estimates(self) -> tuple[m.RedemptionEstimate, ...]:
        estimates = [r.record(m.RedemptionEstimate) for r in self.rows("RedemptionEstimates") or ()]
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
