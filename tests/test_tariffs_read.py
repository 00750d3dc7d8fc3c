"""Reading the tariff workbook as managers really keep it."""

from datetime import date
from decimal import Decimal

import openpyxl
from openpyxl.worksheet.table import Table

from erp_plugin.ooxml import is_percent_format
from erp_plugin.tariffs import read_tariffs

from .conftest import TODAY, minimal_sheets, set_cached_value, write_book


def read_ok(path):
    book, problems = read_tariffs(path, TODAY)
    assert not problems.errors, [str(p) for p in problems.errors]
    return book, problems


def test_minimal_workbook_takes_defaults(book_path):
    book, problems = read_ok(book_path(minimal_sheets()))
    assert list(problems) == []
    assert list(book.markers) == ["white", "green", "yellow", "red"]
    assert (book.markers["red"].min_pct, book.markers["red"].max_pct) == (Decimal(5), Decimal(10))
    assert {m: b.bonus_share_pct for m, b in book.bonus_modes.items()} == {
        "bonus": Decimal(100), "half": Decimal(50), "discount": Decimal(0)
    }
    s = book.settings
    assert (s.currency, s.minor_units, s.vat_rate_pct, s.prices_include_vat) == ("RUB", 2, None, True)
    assert (s.carrying_rate_pct, s.trial_months, s.fiscal_year_start) == (Decimal(25), 3, (1, 1))
    assert (s.rebate_mode, s.rebate_basis, s.unknown_client, s.on_overdraw) == ("retroactive", "net", "base", "error")
    assert (s.bonus_expiry_months, s.expected_redemption_pct, s.new_client_days) == (12, Decimal(80), 365)
    assert s.rebate_reduces_price is False
    assert book.default_payment == "prepaid"
    pro = book.tariffs["PRO"]
    assert pro.monthly_fee == 999000  # 9 990.00 in kopecks
    assert pro.discount("green") == Decimal("2.5")
    assert pro.src.at("yellow") == "Tariffs!E3"
    assert book.options[1].value == 7 and book.options[1].weight_pct == Decimal(1)


def test_russian_headers_sheet_names_and_text_numbers(book_path):
    sheets = {
        "Тарифы": [
            ["Тариф", "Абонплата", "white", "green", "yellow", "red"],
            ["base", "0", "0", "1", "3", "5"],
            ["Про", "1 990,50", "0", "2,5 %", "4", "7,25"],
        ],
        "Опции": [["Опция", "Значение", "Вес, %"], ["payment", "Предоплата", "0"], ["Payment", "Отсрочка 30", "1,5"]],
        "Клиенты": [
            ["Клиент", "Тариф", "Режим бонусов", "Дата подключения", "ИНН", "Сегменты"],
            ["00-000101", "про", "", "01.03.2025", "7701234560", "regular, key_account"],
        ],
        "Настройки": [["Ключ", "Значение"], ["Rebate Mode", "Stepped"], ["prices_include_vat", "нет"], ["fiscal_year_start", "04-01"]],
    }
    book, _ = read_ok(book_path(sheets))
    assert "BASE" in book.tariffs  # "base" is the BASE row
    assert book.tariffs["Про"].monthly_fee == 199050
    assert book.tariffs["Про"].discount("red") == Decimal("7.25")
    client = book.clients["00-000101"]
    assert client.tariff == "Про"  # stored in the Tariffs sheet's spelling
    assert client.bonus_mode is None and client.joined == date(2025, 3, 1)
    assert client.segments == ("regular", "key_account")
    assert book.settings.rebate_mode == "stepped"
    assert book.settings.prices_include_vat is False
    assert book.settings.fiscal_year_start == (4, 1)
    assert [o.value for o in book.option_values("payment")] == ["Предоплата", "Отсрочка 30"]
    assert book.default_payment == "Предоплата"


def test_excel_table_below_a_title_and_blank_rows(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tariffs"
    ws["A1"] = "Our tariffs for 2026"
    rows = [
        ["Tariff", "Monthly fee", "White", "Green", "Yellow", "Red"],
        ["BASE", 0, 0, 1, 3, 5],
        ["MAX", 49990, 0, 3, 6, 10],
    ]
    for r, values in enumerate(rows, start=4):
        for c, value in enumerate(values, start=2):
            ws.cell(row=r, column=c, value=value)
    ws.add_table(Table(displayName="tblTariffs", ref="B4:G6"))
    for name, sheet_rows in minimal_sheets().items():
        if name != "Tariffs":
            other = wb.create_sheet(name)
            for values in sheet_rows:
                other.append(values)
                other.append([])  # a blank row after each: skipped
    wb["Clients"]["B3"] = "max"  # rows 2 and 4 are blank: the client sits on row 3
    path = tmp_path / "t.xlsx"
    wb.save(path)
    book, problems = read_ok(path)
    assert list(book.tariffs) == ["BASE", "MAX"]
    assert book.tariffs["MAX"].monthly_fee == 4999000
    assert book.tariffs["MAX"].src.at("red") == "Tariffs!G6"
    assert book.clients["C1"].tariff == "MAX"


def test_table_values_and_cells(tmp_path):
    sheets = minimal_sheets()
    sheets["Tariffs"] = [["Our tariffs"], [], ["tariff", "monthly_fee", "white", "green", "yellow", "red"], ["BASE", 0, 0, 1, 3, 5], ["PRO", 10, 0, 2, 4, 6]]
    path = write_book(tmp_path / "t.xlsx", sheets)
    book, _ = read_ok(path)
    assert book.tariffs["PRO"].src.at("red") == "Tariffs!F5"  # header found on row 3, under a title


def test_percent_formatted_cells_and_formulas_with_values(tmp_path):
    sheets = minimal_sheets()
    path = write_book(tmp_path / "t.xlsx", sheets)
    wb = openpyxl.load_workbook(path)
    ws = wb["Tariffs"]
    ws["D3"] = 0.025  # a manager typed 2,5% in a percent-formatted cell
    ws["D3"].number_format = "0.0%"
    ws["E3"] = "=B3/1998"  # formula: 9990 / 1998 = 5
    wb.save(path)
    set_cached_value(path, 1, "E3", "5")
    book, _ = read_ok(path)
    assert book.tariffs["PRO"].discount("green") == Decimal("2.5")
    assert book.tariffs["PRO"].discount("yellow") == Decimal(5)


def test_percent_format_detection():
    assert is_percent_format("0%") and is_percent_format("0.00%")
    assert not is_percent_format('0.0###" %"')  # shown only
    assert not is_percent_format("0\\%")
    assert not is_percent_format("General") and not is_percent_format(None)


def test_markers_sheet_drives_tariff_columns(book_path):
    sheets = minimal_sheets()
    sheets["Markers"] = [["marker", "min_pct", "max_pct"], ["white", 0, 0], ["blue", 2, 4]]
    sheets["Tariffs"] = [["tariff", "monthly_fee", "white", "Blue %"], ["BASE", 0, 0, 2], ["PRO", 100, 0, 4]]
    book, _ = read_ok(book_path(sheets))
    assert book.tariffs["PRO"].discounts == (("white", Decimal(0)), ("blue", Decimal(4)))


def test_every_optional_sheet(book_path):
    sheets = minimal_sheets()
    sheets["Clients"] = [
        ["client_id", "tariff", "bonus_mode", "joined", "name", "inn", "segments", "tier", "birthday", "email", "phone"],
        ["C1", "PRO", "half", date(2026, 2, 1), "ООО «Ромашка»", "7701234560", "regular", "gold", "12.04.1980", "a@b.ru", "+7 495 1"],
    ]
    sheets["TariffChanges"] = [["client_id", "from_date", "tariff", "bonus_mode"], ["C1", "01.09.2026", "BASE", ""], ["C1", "01.07.2026", "", "bonus"]]
    sheets["Products"] = [["sku", "marker", "category"], ["SKU-1", "Red", "Кабель"], ["SKU-2", "", ""]]
    sheets["Promotions"] = [
        ["rule_id", "reward", "value", "active_from", "active_to", "segment", "marker", "sku", "category", "payment",
         "min_qty", "requires_sku", "every_nth", "group", "priority"],
        ["NTH", "discount_pct", 50, "01.01.2026", "", "New", "red", "SKU-1, SKU-2", "Кабель", "prepaid", 2, "SKU-2", 3, "g", 1],
        ["X2", "Bonus_Multiplier", 2, "", "", "tier:gold", "", "", "", "", "", "", "", "", ""],
    ]
    sheets["RebateScale"] = [["from_turnover", "rebate_pct"], [0, 0], ["1 000 000", 1], [5_000_000, 2.5]]
    sheets["Tiers"] = [["tier", "min_turnover", "min_single_document"], ["bronze", "", ""], ["gold", 5_000_000, 500_000]]
    sheets["StampCard"] = [["key", "value"], ["columns", 3], ["cells_per_column", 4], ["min_document", "10 000"], ["reward", 1000]]
    sheets["CouponRules"] = [["rule_id", "every_n_documents", "discount_pct", "valid", "min_document"], ["C30", 5, 30, "days:14", 5000]]
    sheets["Quests"] = [["quest_id", "categories", "active_from", "active_to", "reward"], ["Q1", "Кабель", "2026-01-01", "", "Кружка"]]
    sheets["Columns"] = [["field", "header"], ["client_id", "Код клиента"], ["Unit Price", "Цена без НДС"]]
    book, problems = read_ok(book_path(sheets))
    assert list(problems) == []
    client = book.clients["C1"]
    assert (client.tier, client.birthday, client.inn) == ("gold", date(1980, 4, 12), "7701234560")
    # sorted by date; blanks keep what was in force
    assert [(c.from_date, c.tariff, c.bonus_mode) for c in book.tariff_changes] == [
        (date(2026, 7, 1), None, "bonus"), (date(2026, 9, 1), "BASE", None)
    ]
    assert book.products["SKU-1"].marker == "red" and book.products["SKU-2"].marker is None
    nth, x2 = book.promotions
    assert (nth.segment, nth.skus, nth.every_nth, nth.min_qty, nth.requires_sku, nth.priority) == (
        "new", ("SKU-1", "SKU-2"), 3, Decimal(2), "SKU-2", 1
    )
    assert (x2.reward, x2.value, x2.priority, x2.group) == ("bonus_multiplier", Decimal(2), 0, None)
    assert [(s.from_turnover, s.rebate_pct) for s in book.rebate_scale] == [
        (0, Decimal(0)), (100_000_000, Decimal(1)), (500_000_000, Decimal("2.5"))
    ]
    assert book.tiers[0].is_base and book.tiers[1].min_single_document == 50_000_000
    card = book.stamp_card
    assert (card.columns, card.cells_per_column, card.min_document, card.reward_points) == (3, 4, 1_000_000, 100_000)
    assert book.coupon_rules[0].valid_days == 14 and book.coupon_rules[0].min_document == 500_000
    assert book.quests[0].categories == ("Кабель",) and book.quests[0].reward_points is None
    assert [(c.field, c.header) for c in book.columns] == [("client_id", "Код клиента"), ("unit_price", "Цена без НДС")]


def test_minor_units_setting_applies_to_money(book_path):
    sheets = minimal_sheets()
    sheets["Settings"] = [["key", "value"], ["minor_units", 0], ["currency", "jpy"]]
    sheets["Tariffs"][2][1] = "9 990"
    book, _ = read_ok(book_path(sheets))
    assert book.settings.currency == "JPY"
    assert book.tariffs["PRO"].monthly_fee == 9990


def test_problems_in_row_order_though_columns_are_read_whole(book_path):
    sheets = minimal_sheets()
    sheets["Clients"] = [
        ["client_id", "tariff", "joined", "email"],
        ["C1", "PRO", "31.02.2026", "a@b.ru"],  # no such day
        ["C2", "PRO", "01.03.2026", "nobody"],  # not an address
        ["C1", "", "", ""],  # the same id again
        ["", "PRO", 45000, ""],  # a date serial is fine; the id is blank
    ]
    _, problems = read_tariffs(book_path(sheets), TODAY)
    assert [(p.cell, p.code) for p in problems] == [
        ("C2", "type.date"), ("D3", "client.email"), ("A4", "key.duplicate"), ("A5", "value.blank")
    ]


def test_a_table_with_a_header_and_no_rows_yet(tmp_path, capfd):
    sheets = minimal_sheets()
    sheets["Products"] = [["sku", "marker", "category"]]
    path = write_book(tmp_path / "t.xlsx", sheets)
    wb = openpyxl.load_workbook(path)
    wb["Products"].add_table(Table(displayName="tblProducts", ref="A1:C1"))  # Insert > Table on a header row
    wb.save(path)
    book, _ = read_ok(path)
    assert book.products == {}
    assert capfd.readouterr().err == ""  # nothing from a library on stderr


def test_each_sheet_is_described_once_by_its_record():
    from dataclasses import fields

    from erp_plugin.tariffs.schema import SHEETS

    for spec in SHEETS:
        if spec.record is None:  # Settings and StampCard: key/value rows, their keys on the record
            continue
        names = {f.name for f in fields(spec.record)}
        assert all(col.field in names for col in spec.columns), spec.name
    promotion = next(s for s in SHEETS if s.name == "Promotions")
    assert promotion.column("sku").field == "skus"  # a header other than the field's name
