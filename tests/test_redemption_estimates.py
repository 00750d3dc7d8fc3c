"""The RedemptionEstimates sheet: the expected redemption in force on a date (SPEC §8), read, checked, looked up."""

from datetime import date, datetime
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd

from erp_plugin.money import PCT_SCALE
from erp_plugin.tariffs import read_tariffs

from .conftest import TODAY, minimal_sheets, write_book

HEADER = ["from_date", "expected_redemption_pct"]


def estimates_book(tmp_path, rows, settings=(("expected_redemption_pct", 85),)):
    sheets = minimal_sheets()
    sheets["Settings"] = [["key", "value"], *map(list, settings)]
    sheets["RedemptionEstimates"] = [HEADER, *rows]
    return write_book(tmp_path / "tariffs.xlsx", sheets)


def read_ok(path):
    book, problems = read_tariffs(path, TODAY)
    assert list(problems) == [], [str(p) for p in problems]
    return book


def test_rows_are_read_sorted_by_date_with_their_cells(tmp_path):
    # out of order on the sheet; a date cell, dd.mm.yyyy text and ISO text; a percent as text with a comma
    path = estimates_book(tmp_path, [[date(2026, 7, 1), 95], ["01.01.2026", 90], ["2026-04-01", "92,5"]])
    book = read_ok(path)
    assert [(e.from_date, e.expected_redemption_pct) for e in book.redemption_estimates] == [
        (date(2026, 1, 1), Decimal(90)), (date(2026, 4, 1), Decimal("92.5")), (date(2026, 7, 1), Decimal(95))
    ]
    first = book.redemption_estimates[0]
    assert first.src.at("from_date") == "RedemptionEstimates!A3"
    assert first.src.at("expected_redemption_pct") == "RedemptionEstimates!B3"


def test_russian_sheet_and_headers_and_a_percent_formatted_cell(tmp_path):
    sheets = minimal_sheets()
    sheets["Ожидаемое погашение"] = [["С даты", "Ожидаемое погашение, %"], ["01.01.2026", 0.97]]
    path = write_book(tmp_path / "t.xlsx", sheets)
    wb = openpyxl.load_workbook(path)
    wb["Ожидаемое погашение"]["B2"].number_format = "0%"  # a manager typed 97% in a percent cell: it holds 0.97
    wb.save(path)
    book = read_ok(path)
    assert [(e.from_date, e.expected_redemption_pct) for e in book.redemption_estimates] == [(date(2026, 1, 1), Decimal(97))]


def test_the_estimate_in_force_on_a_date(tmp_path):
    # Setting 85; from 01.01.2026 90, from 01.04.2026 92.5, from 01.07.2026 95
    path = estimates_book(tmp_path, [["01.07.2026", 95], ["01.01.2026", 90], ["01.04.2026", 92.5]])
    book = read_ok(path)
    cases = [
        (date(2025, 12, 31), Decimal(85)),  # before the first row: the Setting
        (date(2026, 1, 1), Decimal(90)),  # on a from_date: that row
        (date(2026, 2, 15), Decimal(90)),  # between rows: the last one started
        (date(2026, 3, 31), Decimal(90)),
        (date(2026, 4, 1), Decimal("92.5")),
        (date(2026, 6, 30), Decimal("92.5")),
        (date(2026, 7, 1), Decimal(95)),
        (date(2030, 1, 1), Decimal(95)),  # after the last row: the last row
    ]
    assert [book.expected_redemption_on(day) for day, _ in cases] == [pct for _, pct in cases]
    assert book.expected_redemption_on(datetime(2026, 3, 31, 23, 59)) == Decimal(90)  # a datetime counts by its day

    days = np.array([day for day, _ in cases], dtype="datetime64[D]")
    scaled = book.expected_redemption_scaled(days)
    assert scaled.dtype == np.int64
    assert scaled.tolist() == [850_000, 900_000, 900_000, 900_000, 925_000, 925_000, 950_000, 950_000]
    assert scaled.tolist() == [int(pct * PCT_SCALE) for _, pct in cases]
    # the lines frame's dates (datetime64 at midnight, seconds) answer the same
    lines_dates = pd.Series(pd.to_datetime([day for day, _ in cases])).to_numpy(dtype="datetime64[s]")
    assert book.expected_redemption_scaled(lines_dates).tolist() == scaled.tolist()
    assert book.expected_redemption_scaled(np.array([], dtype="datetime64[D]")).tolist() == []


def test_without_the_sheet_the_setting_applies_on_every_date(tmp_path):
    book = read_ok(write_book(tmp_path / "t.xlsx", minimal_sheets()))  # an older workbook: no such sheet
    assert book.redemption_estimates == ()
    assert book.expected_redemption_on(date(2026, 5, 1)) == Decimal(80)  # the Setting's default
    days = np.array(["2020-01-01", "2026-05-01"], dtype="datetime64[D]")
    assert book.expected_redemption_scaled(days).tolist() == [800_000, 800_000]
    # a sheet with its header only (as init writes it) is the same
    book = read_ok(estimates_book(tmp_path, [], settings=(("expected_redemption_pct", "92,5"),)))
    assert book.redemption_estimates == ()
    assert book.expected_redemption_on(date(2026, 5, 1)) == Decimal("92.5")
    assert book.expected_redemption_scaled(days).tolist() == [925_000, 925_000]


def test_every_mistake_with_its_cell(tmp_path):
    path = estimates_book(tmp_path, [
        [None, 90],  # A2 blank date
        ["soon", 90],  # A3 not a date
        ["01.02.2026", 120],  # B4 above 100
        ["01.03.2026", -5],  # B5 negative
        ["01.04.2026", "много"],  # B6 not a number
        [date(2026, 1, 1), 90],  # A7 fine
        ["01.01.2026", 91],  # A8 the same date as A7
        ["01.05.2026", None],  # B9 blank percentage
    ])
    book, problems = read_tariffs(path, TODAY)
    assert book is None
    assert sorted(str(p) for p in problems.errors) == sorted([
        "RedemptionEstimates!A2: from_date is blank; expected a date, e.g. 31.12.2026",
        "RedemptionEstimates!A3: from_date 'soon' is not a date, e.g. 31.12.2026",
        "RedemptionEstimates!B4: expected_redemption_pct 120 is above 100; expected at most 100",
        "RedemptionEstimates!B5: expected_redemption_pct -5 is negative; expected 0 or more",
        "RedemptionEstimates!B6: expected_redemption_pct 'много' is not a percentage, e.g. 2.5",
        "RedemptionEstimates!A8: from_date 01.01.2026 is already in RedemptionEstimates!A7; each must appear once",
        "RedemptionEstimates!B9: expected_redemption_pct is blank; expected a percentage, e.g. 2.5",
    ])
    assert problems.warnings == []


def test_missing_required_column(tmp_path):
    sheets = minimal_sheets()
    sheets["RedemptionEstimates"] = [["from_date", "pct"], ["01.01.2026", 90]]
    book, problems = read_tariffs(write_book(tmp_path / "t.xlsx", sheets), TODAY)
    assert book is None
    assert [str(p) for p in problems.errors] == [
        "RedemptionEstimates!C1: missing required column expected_redemption_pct; add a header "
        "'expected_redemption_pct' (or 'ожидаемое_погашение_%') in row 1"
    ]
