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

from stdnum.ru.inn import is_valid as is_valid_inn

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

    ``row["tariff"]`` / ``row.get("tariff")`` is the typed value (None when blank, wrong or absent);
    ``row.cell("tariff")`` the cell itself, for a message; ``row.record(Client)`` the record
    the row becomes, each column into its field. ``kept`` is False for a row that cannot be used
    (a duplicate key, a required value blank or wrong: already reported): its sheet's reader still
    checks it for every other problem, and leaves it out of the book.
    """

    __slots__ = ("number", "src", "kept", "_at", "_values", "_sheet")

    def __init__(self, number: int, src: m.Src, at: int, values: dict[str, list], sheet: _Sheet, kept: bool = True):
        self.number = number
        self.src = src
        self.kept = kept
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
        field's default), then the fields ``given`` (worked out by the sheet's reader). A row that is
        not ``kept`` gives a record with None for a required value it lacks: one for the cross-sheet
        checks (validate.py), never for the book."""
        at = self._at
        fields = {field: values[at] for field, values in self._sheet.fields if values[at] is not None}
        if not self.kept:
            fields = {**{field: None for field, _values in self._sheet.fields}, **fields}
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
        # Records of rows left out of the book (a duplicate key, a required value or a row rule wrong),
        # by sheet: validate.py checks their references too, so one problem never hides another.
        self.rejected: dict[str, list] = defaultdict(list)

    # -------------------------------------------------------------- generic

    def rows(self, name: str, extra: tuple[Col, ...] = ()) -> Iterator[Row] | None:
        """Typed rows of sheet ``name``, every one (``Row.kept`` says whether it can be used); None when the
        sheet is absent (the caller decides if that is wrong)."""
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
                    yield Row(number, m.Src(region.sheet, number, letters), at, values, sheet, kept=False)
                    continue
                seen[keys[at]] = number
            # a blank required cell was left to the reader (common_values), so only such rows can lack one;
            # the problem is recorded, and the half-read row is checked for its others but not used
            kept = not (at in later and any(column[at] is None for column in required))
            yield Row(number, m.Src(region.sheet, number, letters), at, values, sheet, kept)

    # ---------------------------------------------------------------- sheets

    def settings(self) -> m.Settings:
        rows = self.rows("Settings")
        found: dict[str, object] = {}
        refs: dict[str, str] = {}
        reader = CellReader("Settings", self.problems)
        for row in rows or ():
            if row["key"] is None:
                continue  # a blank key: reported; its value belongs to no setting
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
            if value is not None and row.kept:
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
            low, high = row["min_pct"], row["max_pct"]
            if low is not None and high is not None and low > high:
                self.problems.error(
                    "marker.range",
                    msg("{value} range {low}–{high} has min above max; swap them", value=row['marker'] or 'the marker', low=plain(low), high=plain(high)),
                    sheet=row.src.sheet,
                    cell=row.cell("min_pct").ref,
                )
            elif row.kept:
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
            name = _base_or(row["tariff"])
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
            if row.kept and len(discounts) == len(markers):
                tariffs[name] = m.Tariff(name, row["monthly_fee"], tuple(discounts), row.src)
        return tariffs

    def options(self) -> tuple[m.OptionValue, ...]:
        rows = self.rows("Options")
        options: list[m.OptionValue] = []
        seen_payment: dict[str, str] = {}  # payment -> the cell of its first row
        reader = CellReader("Options", self.problems)
        for row in rows or ():
            option = None if row["option"] is None else normalize_header(row["option"])
            if option is not None and option not in OPTIONS:
                near = difflib.get_close_matches(option, OPTIONS, n=1)
                hint = msg("; did you mean {near}?", near=near[0]) if near else ""
                reader.error(row.cell("option"), "option.unknown", msg("option {option!r} is not one of "
                                                                       "{options}{hint}",
                                                                       option=row['option'], options=', '.join(OPTIONS), hint=hint))
            value: int | str | None = row["value"]
            usable = row.kept and option in OPTIONS and value is not None
            if option == "payment" and value is not None:
                value = text_of(value)
                if row.kept and value.casefold() in seen_payment:
                    reader.error(
                        row.cell("value"), "key.duplicate",
                        msg("payment {value!r} is already in Options!{seen_payment}; each must appear once", value=value, seen_payment=seen_payment[value.casefold()]),
                    )
                    usable = False
                seen_payment.setdefault(value.casefold(), row.cell("value").ref)
            elif option in OPTIONS and value is not None:
                value = reader.read(row.cell("value"), "int", f"{option} value", True, Decimal(0))
                usable = usable and value is not None
            if usable and row["weight_pct"] is not None:
                options.append(m.OptionValue(option, value, row["weight_pct"], row.src))
        return tuple(options)

    def bonus_modes(self) -> dict[str, m.BonusMode]:
        rows = self.rows("BonusModes")
        if rows is None:
            return {name: m.BonusMode(name, Decimal(share)) for name, share in DEFAULT_BONUS_MODES}
        return {r["mode"]: r.record(m.BonusMode) for r in self._kept(rows, m.BonusMode)}

    def tiers(self) -> tuple[m.Tier, ...]:
        return tuple(r.record(m.Tier) for r in self._kept(self.rows("Tiers"), m.Tier))

    def clients(self, tariffs: Names, modes: Names, tiers: Names) -> dict[str, m.Client]:
        clients = {}
        reader = CellReader("Clients", self.problems)
        for row in self.rows("Clients") or ():
            inn = row.get("inn")
            if inn and not _INN.fullmatch(inn):
                reader.warning(row.cell("inn"), "client.inn", msg("ИНН/INN {inn!r} should be 10 digits (a "
                                                                  "company) or 12 (a sole trader)",
                                                                  inn=inn))
            elif inn and not is_valid_inn(inn):
                reader.warning(row.cell("inn"), "client.inn", msg("ИНН/INN {inn!r}: the check digit does not "
                                                                  "match; a digit is mistyped (compare with "
                                                                  "the client's registration card)",
                                                                  inn=inn))
            email = row.get("email")
            if email and not _EMAIL.fullmatch(email):
                reader.warning(row.cell("email"), "client.email", msg("email {email!r} does not look like an "
                                                                      "address (name@example.ru)",
                                                                      email=email))
            client = row.record(
                m.Client,
                tariff=_base_or(tariffs.canonical(row.get("tariff"))),
                bonus_mode=modes.canonical(row.get("bonus_mode")),
                tier=tiers.canonical(row.get("tier")),
            )
            if row.kept:
                clients[row["client_id"]] = client
            else:
                self.rejected["Clients"].append(client)
        return clients

    def tariff_changes(self, tariffs: Names, modes: Names) -> tuple[m.TariffChange, ...]:
        changes = []
        reader = CellReader("TariffChanges", self.problems)
        for row in self.rows("TariffChanges") or ():
            if row.get("tariff") is None and row.get("bonus_mode") is None:
                reader.warning(row.cell("from_date"), "change.empty", msg("row changes neither tariff nor "
                                                                          "bonus_mode; fill one or delete the "
                                                                          "row"))
            change = row.record(m.TariffChange, tariff=_base_or(tariffs.canonical(row.get("tariff"))),
                                bonus_mode=modes.canonical(row.get("bonus_mode")))
            (changes if row.kept else self.rejected["TariffChanges"]).append(change)
        return tuple(sorted(changes, key=lambda c: (c.client_id, c.from_date)))

    def products(self, markers: Names) -> dict[str, m.Product]:
        def marker(row: Row) -> dict:
            return {"marker": markers.canonical(row.get("marker"))}

        return {r["sku"]: r.record(m.Product, **marker(r)) for r in self._kept(self.rows("Products"), m.Product, marker)}

    def promotions(self, markers: Names) -> tuple[m.Promotion, ...]:
        promotions = []
        reader = CellReader("Promotions", self.problems)
        for row in self.rows("Promotions") or ():
            reward, value = (row["reward"] or "").casefold(), row["value"]
            problems = len(self.problems.items)
            if row["reward"] is not None and reward not in ("discount_pct", "bonus_multiplier"):
                reader.error(row.cell("reward"), "promo.reward", msg("reward {reward!r} is not one of "
                                                                     "discount_pct, bonus_multiplier",
                                                                     reward=row['reward']))
            if reward == "discount_pct" and value is not None and not Decimal(0) < value <= Decimal(100):
                reader.error(row.cell("value"), "promo.value", msg("discount {value} % is outside 0–100; "
                                                                   "expected e.g. 5",
                                                                   value=plain(value)))
            if reward == "bonus_multiplier" and value is not None and value <= 0:
                reader.error(row.cell("value"), "promo.value", msg("multiplier {value} must be above 0; "
                                                                   "expected e.g. 2 for double points",
                                                                   value=plain(value)))
            if reward == "bonus_multiplier" and row.get("every_nth") is not None:
                reader.error(row.cell("every_nth"), "promo.every_nth", msg("every_nth applies to discount_pct "
                                                                           "rules only; clear it or set reward "
                                                                           "to discount_pct"))
            segment = row.get("segment")
            if segment and segment.casefold() == "new":
                segment = "new"
            rule = row.record(m.Promotion, reward=reward or None, segment=segment, marker=markers.canonical(row.get("marker")))
            good = row.kept and len(self.problems.items) == problems
            (promotions if good else self.rejected["Promotions"]).append(rule)
        return tuple(promotions)

    def rebate_scale(self) -> tuple[m.RebateStep, ...]:
        return tuple(r.record(m.RebateStep) for r in self._kept(self.rows("RebateScale"), m.RebateStep))

    def stamp_card(self) -> m.StampCard | None:
        rows = self.rows("StampCard")
        if rows is None:
            return None
        reader = CellReader("StampCard", self.problems, self.minor_units)
        found: dict[str, object] = {}
        for row in rows:
            if row["key"] is None:
                continue  # a blank key: reported; its value belongs to no key
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
            if value is not None and row.kept:
                found[key] = value
        reward = found.pop("reward", None)
        return m.StampCard(**found, reward=reward, reward_points=self._points(reward))

    def coupon_rules(self) -> tuple[m.CouponRule, ...]:
        rules = []
        reader = CellReader("CouponRules", self.problems)
        for row in self.rows("CouponRules") or ():
            valid = (row.get("valid") or "end_of_month").strip().casefold()
            match = re.fullmatch(r"days\s*:\s*(\d+)", valid)
            good = row.kept
            if valid != "end_of_month" and not (match and int(match.group(1)) > 0):
                reader.error(row.cell("valid"), "coupon.valid", msg("valid {valid!r} is not end_of_month or "
                                                                    "days:N (e.g. days:30)",
                                                                    valid=row['valid']))
                good = False
            if row["discount_pct"] == 0:
                reader.error(row.cell("discount_pct"), "coupon.discount", msg("a coupon discount of 0 % gives "
                                                                              "nothing; expected e.g. 30"))
                good = False
            if good:
                rules.append(row.record(m.CouponRule, valid_days=int(match.group(1)) if match else None))
        return tuple(rules)

    def quests(self) -> tuple[m.Quest, ...]:
        quests = []
        for row in self.rows("Quests") or ():
            quest = row.record(m.Quest, reward_points=self._points(row.get("reward")))
            if row["categories"] == ():  # a cell of commas only (a blank one is reported as blank)
                self.problems.error("quest.categories", msg("categories is empty; list them separated by commas"), sheet=row.src.sheet, cell=row.cell("categories").ref)
                self.rejected["Quests"].append(quest)
            elif row.kept:
                quests.append(quest)
            else:
                self.rejected["Quests"].append(quest)
        return tuple(quests)

    def columns(self) -> tuple[m.ColumnMapping, ...]:
        def field(row: Row) -> dict:
            return {"field": row["field"] and normalize_header(row["field"])}

        return tuple(r.record(m.ColumnMapping, **field(r)) for r in self._kept(self.rows("Columns"), m.ColumnMapping, field))

    def redemption_estimates(self) -> tuple[m.RedemptionEstimate, ...]:
        estimates = [r.record(m.RedemptionEstimate) for r in self._kept(self.rows("RedemptionEstimates"), m.RedemptionEstimate)]
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

    def _kept(self, rows: Iterator[Row] | None, record: type, given=None) -> Iterator[Row]:
        """The rows that can be used; each other one's record (with ``given(row)``'s fields) is set aside
        for the cross-sheet checks."""
        for row in rows or ():
            if row.kept:
                yield row
            else:
                self._reject(row, record, **(given(row) if given else {}))

    def _reject(self, row: Row, record: type, **given) -> None:
        """A row left out of the book, kept for validate.py to check its references."""
        self.rejected[row.src.sheet].append(row.record(record, **given))

    def _has_errors_on(self, sheet: str) -> bool:
        return any(p.sheet == sheet for p in self.problems.errors)


def _key_of(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def _base_or(tariff: str | None) -> str | None:
    return "BASE" if tariff is not None and tariff.casefold() == "base" else tariff


def read_book(workbook: Workbook, problems: Problems) -> tuple[m.TariffBook, BookReader]:
    """Every sheet, in the order their cross-references need; also the reader, which holds the names each
    sheet defines (``defined``) and the records of the rows left out of the book (``rejected``)."""
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
    return book, r
