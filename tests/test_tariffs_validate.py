"""Validation: every problem at once, each with its Sheet!Cell and what would be right."""

from datetime import date
from decimal import Decimal

import openpyxl

from erp_plugin.tariffs import read_tariffs

from .conftest import TODAY, minimal_sheets, write_book


def messages(problems, severity="error"):
    return sorted(str(p) for p in problems if p.severity == severity)


def test_a_dozen_mistakes_across_sheets_are_all_reported(tmp_path):
    sheets = {
        "Settings": [
            ["key", "value"],
            ["currency", "RUBLES"],  # B2
            ["rebate_mode", "progressive"],  # B3
            ["vat_rate_pct", "=10+12"],  # B4: formula never calculated
        ],
        "Markers": [["marker", "min_pct", "max_pct"], ["white", 0, 0], ["green", 1, 3], ["yellow", 3, 6], ["red", 5, 10], ["blue", 8, 2]],
        "Tariffs": [
            ["tariff", "monthly_fee", "white", "green", "yellow", "red"],
            ["BASE", 0, 0, 1, 3, 5],
            ["PRO", 9990, 0, 2, 7, 8],  # E3 yellow out of range
            ["MAX", -500, 0, 3, 6, 10],  # B4 negative fee
        ],
        "Options": [
            ["option", "value", "weight_pct"],
            ["payment", "prepaid", 0],
            ["reserve_days", 7, 1],  # A3 unknown option
            ["moneyback_days", 14, "x"],  # C4 not a number
        ],
        "Clients": [
            ["client_id", "tariff", "bonus_mode", "joined"],
            ["C1", "PRO", "bonus", "01.03.2026"],
            ["C2", "GOLD", "", ""],  # B3 unknown tariff
            ["C1", "", "", ""],  # A4 duplicate
            ["C3", "", "", "31.02.2026"],  # D5 no such date
        ],
        "Products": [["sku", "marker", "category"], ["SKU-1", "purple", "Кабель"]],  # B2 unknown marker
        "Promotions": [["rule_id", "reward", "value"], ["P1", "cashback", 5]],  # B2 unknown reward
        "RebateScale": [["from_turnover", "rebate_pct"], [100000, 1], [500000, 2], [500000, 3]],  # A2 start, A4 order
        "Columns": [["field", "header"], ["customer", "Покупатель"]],  # A2 unknown field
    }
    path = write_book(tmp_path / "mistakes.xlsx", sheets)
    book, problems = read_tariffs(path, TODAY)
    assert book is None
    assert messages(problems) == sorted([
        "Settings!B2: currency 'RUBLES' is not a 3-letter code; expected e.g. RUB",
        "Settings!B3: rebate_mode 'progressive' is not one of retroactive, stepped",
        "Settings!B4: formula =10+12 has no computed value: the file was saved by a program that does not "
        "calculate formulas; open it in Excel or LibreOffice, save it, and run again",
        "Markers!B6: blue range 8–2 has min above max; swap them",
        "Tariffs!E3: yellow discount 7 is outside the yellow range 3–6",
        "Tariffs!B4: monthly_fee -500 is negative; expected 0 or more",
        "Options!A3: option 'reserve_days' is not one of reservation_days, moneyback_days, payment; "
        "did you mean reservation_days?",
        "Options!C4: weight_pct 'x' is not a percentage, e.g. 2.5",
        "Clients!B3: tariff 'GOLD' is not in Tariffs; expected one of BASE, PRO",
        "Clients!A4: client_id C1 is already in Clients!A2; each must appear once",
        "Clients!D5: joined '31.02.2026' is not a date, e.g. 31.12.2026",
        "Products!B2: marker 'purple' is not in Markers; expected one of white, green, yellow, red",
        "Promotions!B2: reward 'cashback' is not one of discount_pct, bonus_multiplier",
        "RebateScale!A2: the rebate scale must start at 0; make the first from_turnover 0 (rebate 0 below the first step)",
        "RebateScale!A4: from_turnover 500000 is already in RebateScale!A3; each must appear once",
        "Columns!A2: field 'customer' is not an export field; expected one of date, doc_id, client_id, sku, qty, "
        "unit_price, line_no, amount, name, category, marker, payment, reservation_days, moneyback_days, "
        "bonus_paid, coupon, vat_rate, base_doc",
    ])
    assert all(p.code for p in problems)


def test_missing_sheets_and_columns(book_path):
    sheets = minimal_sheets()
    del sheets["Options"]
    sheets["Clients"] = [["Name", "tariff"], ["Ромашка", "PRO"]]
    book, problems = read_tariffs(book_path(sheets), TODAY)
    assert messages(problems) == [
        "Clients!C1: missing required column client_id; add a header 'client_id' (or 'клиент') in row 1",
        "Options: missing sheet Options; add a sheet named Options with columns option, value, weight_pct "
        "(erp-plugin init writes a complete one)",
    ]  # and no "no payment rows" on top of the missing sheet


def test_marker_column_missing_and_base_rules(book_path):
    sheets = minimal_sheets()
    sheets["Tariffs"] = [["tariff", "monthly_fee", "white", "green", "yellow"], ["PRO", 100, 0, 2, 4]]
    sheets["Clients"] = [["client_id"], ["C1"]]
    _, problems = read_tariffs(book_path(sheets), TODAY)
    # the rows are there but cannot be read without the column: no misleading "no rows" on top
    assert messages(problems) == ["Tariffs!F1: missing required column red; add a header 'red' (or 'red_%') in row 1"]
    sheets["Tariffs"] = [["tariff", "monthly_fee", "white", "green", "yellow", "red"], ["BASE", 10, 0, 1, 3, 5], ["PRO", 100, 0, 2, 4, 6]]
    _, problems = read_tariffs(book_path(sheets, "b.xlsx"), TODAY)
    assert messages(problems) == ["Tariffs!B2: BASE is the free base conditions; its monthly_fee must be 0"]
    sheets["Tariffs"] = [["tariff", "monthly_fee", "white", "green", "yellow", "red"], ["PRO", 100, 0, 2, 4, 6]]
    _, problems = read_tariffs(book_path(sheets, "c.xlsx"), TODAY)
    assert messages(problems) == ["Tariffs: no BASE row; add a row BASE with fee 0 and the base discount of each marker"]


def test_references_between_sheets(book_path):
    sheets = minimal_sheets()
    sheets["Settings"] = [["key", "value"], ["default_payment", "cash"]]
    sheets["BonusModes"] = [["mode", "bonus_share_pct"], ["bonus", 100], ["half", 150]]
    sheets["Tiers"] = [["tier", "min_turnover"], ["bronze", ""], ["gold", 1000]]
    sheets["Clients"] = [["client_id", "tariff", "bonus_mode", "tier"], ["C1", "PRO", "triple", "platinum"]]
    sheets["TariffChanges"] = [["client_id", "from_date", "tariff", "bonus_mode"], ["C9", "01.01.2026", "VIP", "bonus"], ["C1", "01.01.2026", "", ""]]
    sheets["Promotions"] = [
        ["rule_id", "reward", "value", "segment", "marker", "payment", "every_nth"],
        ["P1", "discount_pct", 5, "tier:diamond", "pink", "card", ""],
        ["P2", "bonus_multiplier", 2, "", "", "", 3],
        ["P3", "discount_pct", 120, "", "", "", ""],
    ]
    sheets["Columns"] = [["field", "header"], ["sku", "Код"], ["name", "код"]]
    sheets["CouponRules"] = [["rule_id", "every_n_documents", "discount_pct", "valid"], ["C1", 0, 30, "next week"], ["C2", 5, 30, "days:x"]]
    _, problems = read_tariffs(book_path(sheets), TODAY)
    assert messages(problems) == sorted([
        "Settings!B2: default_payment 'cash' is not a payment option; expected one of prepaid",
        "BonusModes!B3: bonus_share_pct 150 is above 100; expected at most 100",
        "BonusModes: no discount mode; a blank bonus_mode means discount, so add the row discount 0",
        "Clients!C2: bonus mode 'triple' is not in BonusModes; expected one of bonus",
        "Clients!D2: tier 'platinum' is not in Tiers; expected one of bronze, gold",
        "TariffChanges!A2: client 'C9' is not in Clients; add it there or fix the id",
        "TariffChanges!C2: tariff 'VIP' is not in Tariffs; expected one of BASE, PRO",
        "Promotions!D2: segment 'tier:diamond' names tier 'diamond', which is not in Tiers",
        "Promotions!E2: marker 'pink' is not in Markers; expected one of white, green, yellow, red",
        "Promotions!F2: payment 'card' is not a payment option; expected one of prepaid",
        "Promotions!G3: every_nth applies to discount_pct rules only; clear it or set reward to discount_pct",
        "Promotions!C4: discount 120 % is outside 0–100; expected e.g. 5",
        "Columns!B3: header 'код' is already mapped to sku; a header maps to one field",
        "CouponRules!B2: every_n_documents 0 is below 1; expected 1 or more",
        "CouponRules!D2: valid 'next week' is not end_of_month or days:N (e.g. days:30)",  # the same row's too
        "CouponRules!D3: valid 'days:x' is not end_of_month or days:N (e.g. days:30)",
    ])
    assert messages(problems, "warning") == ["TariffChanges!B3: row changes neither tariff nor bonus_mode; fill one or delete the row"]


def test_lint_warnings_do_not_block(book_path):
    sheets = minimal_sheets()
    sheets["Clients"] = [["client_id", "tariff", "segments", "tier", "inn", "email"], ["C1", "PRO", "regular", "", "12345", "nobody-at-mail"]]
    sheets["Products"] = [["sku", "marker", "category"], ["PHONE", "green", "Телефоны"], ["CASE", "red", "Аксессуары"]]
    sheets["Tiers"] = [["tier", "min_turnover", "min_single_document"], ["gold", 5_000_000, ""], ["silver", 1_000_000, ""], ["bronze", "", ""]]
    sheets["Promotions"] = [
        ["rule_id", "reward", "value", "active_from", "active_to", "segment", "sku", "category", "requires_sku", "group"],
        ["OLD", "discount_pct", 5, "01.01.2025", "31.12.2025", "", "", "", "", ""],
        ["EMPTY", "discount_pct", 5, "01.12.2026", "01.11.2026", "", "", "", "", ""],
        ["VIP", "discount_pct", 3, "", "", "vip", "", "", "", "g"],
        ["BUNDLE", "discount_pct", 50, "", "", "", "CASE, CASE-2", "", "PHONE-X", "g"],
        ["GOLD", "bonus_multiplier", 2, "", "", "tier:gold", "", "Кабель", "", "g"],
    ]
    sheets["RebateScale"] = [["from_turnover", "rebate_pct"], [0, 0], [1000, 3], [2000, 2]]
    sheets["Quests"] = [["quest_id", "categories", "active_from", "active_to"], ["Q1", "Телефоны, Кабель", "", ""]]
    sheets["Settings"] = [["key", "value"], ["carying_rate_pct", 20]]
    sheets["StampCard"] = [["key", "value"], ["colums", 3]]
    book, problems = read_tariffs(book_path(sheets), TODAY)
    assert messages(problems) == []
    assert book is not None
    assert messages(problems, "warning") == sorted([
        "Settings!A2: unknown setting 'carying_rate_pct' is ignored; did you mean carrying_rate_pct?",
        "StampCard!A2: unknown key 'colums' is ignored; known keys: columns, cells_per_column, min_document, reward",
        "Clients!E2: ИНН/INN '12345' should be 10 digits (a company) or 12 (a sole trader)",
        "Clients!F2: email 'nobody-at-mail' does not look like an address (name@example.ru)",
        "Promotions!E2: promotion OLD ended on 31.12.2025; it applies only to older lines",
        "Promotions!E3: promotion EMPTY ends 01.11.2026 before it starts 01.12.2026; it never applies",
        "Promotions!F4: no client lists segment 'vip'; the rule applies to nobody yet",
        "Promotions!G5: SKU 'CASE-2' is not in Products; check the code",
        "Promotions!I5: SKU 'PHONE-X' is not in Products; check the code",
        "Promotions!F6: no client has tier 'gold' in Clients; the rule applies to nobody yet",
        "Promotions!H6: no product has category 'Кабель'",
        "Promotions!J4: group 'g' mixes discount_pct and bonus_multiplier rules (VIP, BUNDLE, GOLD); the one with "
        "the larger money total wins per document — put them in separate groups to stack them",
        "Tiers!A2: tier 'gold' can never be reached: a tier below it in the list is reached by the same clients; "
        "list tiers from lowest to highest with rising thresholds",
        "Tiers!A3: tier 'silver' can never be reached: a tier below it in the list is reached by the same clients; "
        "list tiers from lowest to highest with rising thresholds",
        "RebateScale!B4: rebate_pct falls from the step on row 3; a larger turnover earns less",
        "Quests!B2: no product has category Кабель; the quest cannot be completed",
    ])


def test_tier_reached_by_either_criterion_is_reachable(book_path):
    sheets = minimal_sheets()
    # silver by turnover 1 M or a 500 k document; gold by turnover 5 M only: silver stays reachable
    # through a big single document even though gold's turnover route is higher.
    sheets["Tiers"] = [["tier", "min_turnover", "min_single_document"], ["bronze", "", ""], ["silver", 1_000_000, 500_000], ["gold", 5_000_000, ""]]
    _, problems = read_tariffs(book_path(sheets), TODAY)
    assert list(problems) == []
    # a silver that gold beats on both criteria is unreachable
    sheets["Tiers"] = [["tier", "min_turnover", "min_single_document"], ["silver", 1_000_000, 500_000], ["gold", 1_000_000, 400_000]]
    _, problems = read_tariffs(book_path(sheets, "b.xlsx"), TODAY)
    assert [p.where for p in problems] == ["Tiers!A2"]


def test_formula_with_a_value_is_used_and_pct_precision(tmp_path):
    sheets = minimal_sheets()
    sheets["Tariffs"][2][3] = 2.33333
    path = write_book(tmp_path / "t.xlsx", sheets)
    _, problems = read_tariffs(path, TODAY)
    assert messages(problems) == ["Tariffs!D3: green 2.33333 has more than 4 decimals; round it, e.g. 2.3333"]


def test_blank_required_values_and_bad_settings(book_path):
    sheets = minimal_sheets()
    sheets["Tariffs"].append(["START", "", 0, 1, 3, 5])
    sheets["Settings"] = [
        ["key", "value"],
        ["minor_units", 7],
        ["trial_months", 1.5],
        ["prices_include_vat", "maybe"],
        ["fiscal_year_start", "13-45"],
        ["on_overdraw", ""],
    ]
    _, problems = read_tariffs(book_path(sheets), TODAY)
    assert messages(problems) == sorted([
        "Tariffs!B4: monthly_fee is blank; expected an amount, e.g. 1990 or 1 990,00",
        "Settings!B2: minor_units 7 is above 4; expected at most 4",
        "Settings!B3: trial_months 1.5 is not a whole number; expected e.g. 1",
        "Settings!B4: prices_include_vat 'maybe' is not TRUE or FALSE",
        "Settings!B5: fiscal_year_start '13-45' is not a month and day; expected MM-DD, e.g. 04-01",
    ])


def test_the_sample_workbook_validates_clean():
    book, problems = read_tariffs("workbooks/tariffs.xlsx", date(2026, 11, 22))
    assert list(problems) == []
    assert list(book.tariffs) == ["BASE", "START", "BUSINESS", "PRO", "PREMIUM", "MAX"]
    assert {p.rule_id for p in book.promotions} == {"REG5", "NEW2", "PREPAY1", "NTH3", "BUNDLE-CASE", "X2-RED", "GOLD1"}
    assert [t.tier for t in book.tiers] == ["bronze", "silver", "gold"]


def test_cell_sources_point_at_the_value(tmp_path):
    path = write_book(tmp_path / "t.xlsx", minimal_sheets())
    wb = openpyxl.load_workbook(path)
    wb["Tariffs"]["F3"] = 11
    wb.save(path)
    _, problems = read_tariffs(path, TODAY)
    (problem,) = problems
    assert (problem.sheet, problem.cell, problem.code) == ("Tariffs", "F3", "tariff.discount_range")
    assert problem.as_dict()["where"] == "Tariffs!F3"


def test_every_mistake_of_a_row_in_one_run(book_path):
    """Rows with several mistakes each: every one reported with its cell, in one run."""
    sheets = minimal_sheets()
    sheets["Promotions"] = [
        ["rule_id", "reward", "value", "marker", "payment", "every_nth"],
        ["P1", "gift", 5, "pink", "card", ""],  # three: the reward, the marker, the payment
        ["", "discount_pct", "пять", "pink", "", ""],  # three: no rule_id, the value, the marker
        ["P3", "bonus_multiplier", 0, "", "", 2],  # two: a multiplier of 0, every_nth on a multiplier
    ]
    _, problems = read_tariffs(book_path(sheets), TODAY)
    assert sorted((p.where, p.code) for p in problems if p.severity == "error") == [
        ("Promotions!A3", "value.blank"), ("Promotions!B2", "promo.reward"), ("Promotions!C3", "type.number"),
        ("Promotions!C4", "promo.value"), ("Promotions!D2", "ref.marker"), ("Promotions!D3", "ref.marker"),
        ("Promotions!E2", "ref.payment"), ("Promotions!F4", "promo.every_nth"),
    ]


def test_a_duplicate_key_hides_no_other_mistake_of_its_row(book_path):
    sheets = minimal_sheets()
    sheets["Markers"] = [["marker", "min_pct", "max_pct", "max_concession_pct"], ["white", 0, 0, ""],
                         ["green", 1, 3, 15], ["yellow", 3, 6, 25], ["red", 5, 10, 35],
                         ["Green", 4, 2, 150]]  # duplicate, min above max, concession above 100
    sheets["Clients"] = [["client_id", "tariff", "bonus_mode", "tier"], ["C1", "PRO", "bonus", ""],
                         ["C1", "VIP", "triple", "gold"]]  # duplicate, unknown tariff, mode and tier
    sheets["Products"] = [["sku", "marker"], ["S-1", "red"], ["S-1", "pink"]]  # duplicate, unknown marker
    sheets["Promotions"] = [["rule_id", "reward", "value", "marker"], ["P1", "discount_pct", 5, ""],
                            ["P1", "gift", 120, "pink"]]  # duplicate, reward, marker
    sheets["Options"] = [["option", "value", "weight_pct"], ["payment", "prepaid", 0], ["payment", "Prepaid", "x"]]
    book, problems = read_tariffs(book_path(sheets), TODAY)
    assert book is None
    assert sorted((p.where, p.code) for p in problems if p.severity == "error") == [
        ("Clients!A3", "key.duplicate"), ("Clients!B3", "ref.tariff"), ("Clients!C3", "ref.bonus_mode"),
        ("Clients!D3", "ref.tier"),
        ("Markers!A6", "key.duplicate"), ("Markers!B6", "marker.range"), ("Markers!D6", "value.range"),
        ("Options!A3", "key.duplicate"), ("Options!C3", "type.pct"),
        ("Products!A3", "key.duplicate"), ("Products!B3", "ref.marker"),
        ("Promotions!A3", "key.duplicate"), ("Promotions!B3", "promo.reward"), ("Promotions!D3", "ref.marker"),
    ]


def test_max_concession_pct_is_read_and_checked(book_path):
    sheets = minimal_sheets()
    sheets["Markers"] = [["Маркер", "мин_%", "макс_%", "Макс. уступка, %"], ["white", 0, 0, ""], ["green", 1, 3, "12,5"],
                         ["yellow", 3, 6, "много"], ["red", 5, 10, -1]]
    _, problems = read_tariffs(book_path(sheets), TODAY)
    assert messages(problems) == [
        "Markers!D4: max_concession_pct 'много' is not a percentage, e.g. 2.5",
        "Markers!D5: max_concession_pct -1 is negative; expected 0 or more",
    ]
    sheets["Markers"][3][3], sheets["Markers"][4][3] = 25, 35
    book, problems = read_tariffs(book_path(sheets, "b.xlsx"), TODAY)
    assert [(name, marker.max_concession_pct) for name, marker in book.markers.items()] == [
        ("white", None), ("green", Decimal("12.5")), ("yellow", Decimal(25)), ("red", Decimal(35))]
