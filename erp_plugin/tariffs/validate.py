"""Rules across sheets (errors) and lint warnings that do not block a run.

Errors: references to tariffs, modes, markers, tiers, clients, payments and
fields that are not defined; a BASE tariff that is missing or charges a fee; a
rebate scale that does not start at 0 or does not rise; Columns mapping one
header twice.

Warnings (the programme still runs): a promotion whose window is empty or over,
a rule or quest naming a SKU, segment or category nobody has, a tier that can
never be reached, one exclusive group mixing rewards, a falling rebate scale.
A plain segment word nobody has is a warning rather than an error: managers
prepare a promotion before they tag its clients (see docs/decisions.md).

The references of rows the reader left out of the book (a duplicate key, a
required value or a row rule wrong: ``rejected``) are checked too, so one
problem of a row never hides another.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from ..erp.fields import FIELDS, normalize_header
from ..i18n import msg
from ..problems import Problems
from .model import Src, TariffBook


class Checker:
    def __init__(self, book: TariffBook, defined: dict[str, set[str]], rejected: dict[str, list], problems: Problems,
                 today: date):
        self.book = book
        self.defined = defined
        self.rejected = rejected
        self.problems = problems
        self.today = today

    def every(self, sheet: str, records) -> list:
        """The sheet's records in the book and those of its rows left out of it (their references are
        checked all the same), in sheet order."""
        return sorted([*records, *self.rejected.get(sheet, ())], key=lambda record: record.src.row)

    def known(self, sheet: str, name: str, valid) -> bool:
        """Defined on ``sheet``: a valid record, or a row there whose own error is already reported."""
        return name in valid or name.casefold() in self.defined.get(sheet, ())

    def error(self, src: Src, field: str, code: str, message: str) -> None:
        sheet, cell = _split(src.at(field))
        self.problems.error(code, message, sheet=sheet, cell=cell)

    def warning(self, src: Src, field: str, code: str, message: str) -> None:
        sheet, cell = _split(src.at(field))
        self.problems.warning(code, message, sheet=sheet, cell=cell)

    def run(self) -> None:
        self.tariffs()
        self.options_and_modes()
        self.clients()
        self.products()
        self.promotions()
        self.rebate_scale()
        self.tiers()
        self.quests()
        self.columns()

    def tariffs(self) -> None:
        book = self.book
        if not book.tariffs and not any(p.sheet == "Tariffs" for p in self.problems.errors):
            self.problems.error("sheet.empty", msg("Tariffs has no rows; add BASE and the paid tariffs"), sheet="Tariffs")
        elif book.tariffs and "BASE" not in book.tariffs:
            self.problems.error(
                "tariff.no_base",
                msg("no BASE row; add a row BASE with fee 0 and the base discount of each marker"),
                sheet="Tariffs",
            )
        base = book.tariffs.get("BASE")
        if base is not None and base.monthly_fee != 0:
            self.error(base.src, "monthly_fee", "tariff.base_fee", msg("BASE is the free base conditions; its "
                                                                       "monthly_fee must be 0"))

    def options_and_modes(self) -> None:
        book = self.book
        if not book.option_values("payment") and not any(p.sheet == "Options" for p in self.problems.errors):
            self.problems.error(
                "option.no_payment",
                msg("no payment rows; add at least one payment method (e.g. prepaid, weight 0), the first is "
                    "the default"),
                sheet="Options",
            )
        wanted = book.settings.default_payment
        payments = {str(o.value).casefold() for o in book.option_values("payment")}
        if wanted and payments and wanted.casefold() not in payments:
            sheet, cell = _split(book.settings.at("default_payment"))
            self.problems.error(
                "settings.default_payment",
                msg("default_payment {wanted!r} is not a payment option; expected one of {value}", wanted=wanted, value=', '.join(str(o.value) for o in book.option_values('payment'))),
                sheet=sheet,
                cell=cell,
            )
        if book.bonus_modes and "discount" not in book.bonus_modes:
            self.problems.error(
                "mode.no_discount",
                msg("no discount mode; a blank bonus_mode means discount, so add the row discount 0"),
                sheet="BonusModes",
            )

    def clients(self) -> None:
        book = self.book
        tiers = [t.tier for t in book.tiers]
        # 100 000 clients name a handful of tariffs, modes and tiers: each distinct triple is checked,
        # and the clients are walked, to report each wrong one in sheet order, only when one is wrong
        clients = [*book.clients.values(), *self.rejected.get("Clients", ())]
        named = {(c.tariff, c.bonus_mode, c.tier) for c in clients}
        if any(self._unknown_tariff(t) or self._unknown_mode(m) or self._unknown_tier(r) for t, m, r in named):
            for client in self.every("Clients", book.clients.values()):
                self._tariff_ref(client.src, client.tariff)
                self._mode_ref(client.src, client.bonus_mode)
                if self._unknown_tier(client.tier):
                    listing = ", ".join(tiers) if tiers else "none: add a Tiers sheet"
                    self.error(client.src, "tier", "ref.tier", msg("tier {tier!r} is not in Tiers; expected "
                                                                   "one of {listing}",
                                                                   tier=client.tier, listing=listing))
        for change in self.every("TariffChanges", book.tariff_changes):
            if change.client_id is not None and not self.known("Clients", change.client_id, book.clients):
                self.error(change.src, "client_id", "ref.client", msg("client {client_id!r} is not in Clients; "
                                                                      "add it there or fix the id",
                                                                      client_id=change.client_id))
            self._tariff_ref(change.src, change.tariff)
            self._mode_ref(change.src, change.bonus_mode)

    def _unknown_tariff(self, tariff: str | None) -> bool:
        return tariff is not None and bool(self.book.tariffs) and not self.known("Tariffs", tariff, self.book.tariffs)

    def _unknown_mode(self, mode: str | None) -> bool:
        return mode is not None and not self.known("BonusModes", mode, self.book.bonus_modes)

    def _unknown_tier(self, tier: str | None) -> bool:
        return tier is not None and not self.known("Tiers", tier, [t.tier for t in self.book.tiers])

    def _tariff_ref(self, src: Src, tariff: str | None) -> None:
        if self._unknown_tariff(tariff):
            self.error(src, "tariff", "ref.tariff", msg("tariff {tariff!r} is not in Tariffs; expected one of "
                                                        "{tariffs}",
                                                        tariff=tariff, tariffs=', '.join(self.book.tariffs)))

    def _mode_ref(self, src: Src, mode: str | None) -> None:
        if self._unknown_mode(mode):
            self.error(src, "bonus_mode", "ref.bonus_mode", msg("bonus mode {mode!r} is not in BonusModes; "
                                                                "expected one of {bonus_modes}",
                                                                mode=mode, bonus_modes=', '.join(self.book.bonus_modes)))

    def products(self) -> None:
        for product in self.every("Products", self.book.products.values()):
            self._marker_ref(product.src, product.marker)

    def _marker_ref(self, src: Src, marker: str | None) -> None:
        if marker is not None and not self.known("Markers", marker, self.book.markers):
            self.error(src, "marker", "ref.marker", msg("marker {marker!r} is not in Markers; expected one of "
                                                        "{markers}",
                                                        marker=marker, markers=', '.join(self.book.markers)))

    def promotions(self) -> None:
        book = self.book
        skus = set(book.products)
        categories = {p.category.casefold() for p in book.products.values() if p.category}
        segments = {s.casefold() for c in book.clients.values() for s in c.segments}
        tiers = {t.tier.casefold() for t in book.tiers}
        client_tiers = {c.tier.casefold() for c in book.clients.values() if c.tier}
        payments = {str(o.value).casefold() for o in book.option_values("payment")}
        groups: dict[str, list] = defaultdict(list)
        in_book = {id(rule) for rule in book.promotions}
        for rule in self.every("Promotions", book.promotions):
            src = rule.src
            self._marker_ref(src, rule.marker)
            if rule.payment and payments and rule.payment.casefold() not in payments:
                self.error(src, "payment", "ref.payment", msg("payment {payment!r} is not a payment option; "
                                                              "expected one of {payments}",
                                                              payment=rule.payment, payments=', '.join(sorted(payments))))
            self._window(src, f"promotion {rule.rule_id or f'on row {src.row}'}", rule.active_from, rule.active_to)
            if rule.segment and rule.segment != "new":
                if rule.segment.casefold().startswith("tier:"):
                    tier = rule.segment.split(":", 1)[1].strip()
                    if tier.casefold() not in tiers:
                        self.error(src, "segment", "ref.tier", msg("segment {segment!r} names tier {tier!r}, "
                                                                   "which is not in Tiers",
                                                                   segment=rule.segment, tier=tier))
                    elif tier.casefold() not in client_tiers:
                        self.warning(src, "segment", "lint.nobody", msg("no client has tier {tier!r} in "
                                                                        "Clients; the rule applies to nobody "
                                                                        "yet",
                                                                        tier=tier))
                elif rule.segment.casefold() not in segments:
                    self.warning(src, "segment", "lint.nobody", msg("no client lists segment {segment!r}; the "
                                                                    "rule applies to nobody yet",
                                                                    segment=rule.segment))
            if skus:
                for sku in (*rule.skus, *([rule.requires_sku] if rule.requires_sku else [])):
                    if sku not in skus:
                        field = "requires_sku" if sku == rule.requires_sku else "sku"
                        self.warning(src, field, "lint.unknown_sku", msg("SKU {sku!r} is not in Products; "
                                                                         "check the code",
                                                                         sku=sku))
            if categories and rule.category and rule.category.casefold() not in categories:
                self.warning(src, "category", "lint.unknown_category", msg("no product has category "
                                                                           "{category!r}",
                                                                           category=rule.category))
            if rule.group and id(rule) in in_book:  # a rule left out takes no part in its group
                groups[rule.group.casefold()].append(rule)
        for rules in groups.values():
            rewards = {r.reward for r in rules}
            if len(rewards) > 1:
                first = rules[0]
                others = ", ".join(r.rule_id for r in rules[1:])
                self.warning(
                    first.src, "group", "lint.group_mixes_rewards",
                    msg("group {group!r} mixes discount_pct and bonus_multiplier rules ({rule_id}, {others}); "
                        "the one with the larger money total wins per document — put them in separate groups "
                        "to stack them",
                        group=first.group, rule_id=first.rule_id, others=others),
                )

    def _window(self, src: Src, what: str, start: date | None, end: date | None) -> None:
        if start and end and start > end:
            self.warning(src, "active_to", "lint.empty_window", msg("{what} ends {end:%d.%m.%Y} before it "
                                                                    "starts {start:%d.%m.%Y}; it never applies",
                                                                    what=what, end=end, start=start))
        elif end and end < self.today:
            self.warning(src, "active_to", "lint.past_window", msg("{what} ended on {end:%d.%m.%Y}; it applies "
                                                                   "only to older lines",
                                                                   what=what, end=end))

    def rebate_scale(self) -> None:
        steps = self.book.rebate_scale
        if not steps:
            return
        if steps[0].from_turnover != 0:
            self.error(steps[0].src, "from_turnover", "scale.start", msg("the rebate scale must start at 0; "
                                                                         "make the first from_turnover 0 "
                                                                         "(rebate 0 below the first step)"))
        for before, step in zip(steps, steps[1:]):
            if step.from_turnover <= before.from_turnover:
                self.error(step.src, "from_turnover", "scale.order", msg("from_turnover must rise strictly: "
                                                                         "this step is not above the one on "
                                                                         "row {row}",
                                                                         row=before.src.row))
            elif step.rebate_pct < before.rebate_pct:
                self.warning(step.src, "rebate_pct", "lint.scale_falls", msg("rebate_pct falls from the step "
                                                                             "on row {row}; a larger turnover "
                                                                             "earns less",
                                                                             row=before.src.row))

    def tiers(self) -> None:
        tiers = self.book.tiers
        for i, tier in enumerate(tiers):
            higher = tiers[i + 1 :]
            if _never_reached(tier, higher):
                self.warning(
                    tier.src, "tier", "lint.tier_unreachable",
                    msg("tier {tier!r} can never be reached: a tier below it in the list is reached by the "
                        "same clients; list tiers from lowest to highest with rising thresholds",
                        tier=tier.tier),
                )

    def quests(self) -> None:
        categories = {p.category.casefold() for p in self.book.products.values() if p.category}
        for quest in self.every("Quests", self.book.quests):
            self._window(quest.src, f"quest {quest.quest_id or f'on row {quest.src.row}'}", quest.active_from,
                         quest.active_to)
            if categories and quest.categories:
                missing = [c for c in quest.categories if c.casefold() not in categories]
                if missing:
                    self.warning(quest.src, "categories", "lint.unknown_category", msg("no product has "
                                                                                       "category {missing}; "
                                                                                       "the quest cannot be "
                                                                                       "completed",
                                                                                       missing=', '.join(missing)))

    def columns(self) -> None:
        headers: dict[str, str] = {}
        in_book = {id(mapping) for mapping in self.book.columns}
        for mapping in self.every("Columns", self.book.columns):
            if mapping.field is not None and mapping.field not in FIELDS:
                self.error(mapping.src, "field", "ref.field", msg("field {field!r} is not an export field; "
                                                                  "expected one of {fields}",
                                                                  field=mapping.field, fields=', '.join(FIELDS)))
            if mapping.header is None or id(mapping) not in in_book:
                continue  # a row left out: its header maps nothing
            key = normalize_header(mapping.header)
            if key in headers:
                self.error(mapping.src, "header", "columns.header_twice", msg("header {header!r} is already "
                                                                              "mapped to {headers}; a header "
                                                                              "maps to one field",
                                                                              header=mapping.header, headers=headers[key]))
            headers[key] = mapping.field


def _never_reached(tier, higher) -> bool:
    """True when every client that meets ``tier`` also meets a tier listed after it.

    The worst case for ``tier`` is a client who just meets one of its criteria and
    has 0 on the other; a later tier reached by that client hides this route.
    """
    if not higher:
        return False

    def reached(turnover: int, document: int) -> bool:
        return any(
            h.is_base
            or (h.min_turnover is not None and h.min_turnover <= turnover)
            or (h.min_single_document is not None and h.min_single_document <= document)
            for h in higher
        )

    routes = []
    if tier.is_base:
        routes.append((0, 0))
    if tier.min_turnover is not None:
        routes.append((tier.min_turnover, 0))
    if tier.min_single_document is not None:
        routes.append((0, tier.min_single_document))
    return all(reached(t, d) for t, d in routes)


def _split(where: str) -> tuple[str, str | None]:
    sheet, _, cell = where.partition("!")
    return sheet, cell or None


def check_book(book: TariffBook, defined: dict[str, set[str]], rejected: dict[str, list], problems: Problems,
               today: date) -> None:
    Checker(book, defined, rejected, problems, today).run()
