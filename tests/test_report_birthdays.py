"""erp-plugin report birthdays: the window across a year end, 29 February, ages, E.164 phones, greetings, SMS parts."""

import csv
import subprocess
import sys
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest

from erp_plugin import jobs, reports
from erp_plugin.analytics.sms import sms_parts
from erp_plugin.tariffs.model import DEFAULT_GREETING

from .conftest import write_book
from .test_price import book, write_export

HEAD = ["client_id", "tariff", "bonus_mode", "joined", "name", "inn", "segments", "tier", "birthday", "email", "phone"]


def clients(*rows):
    return [HEAD, *[list(r) + [None] * (len(HEAD) - len(r)) for r in rows]]


CLIENTS = clients(
    ("B1", "PRO", "bonus", None, "Анна", None, None, "gold", datetime(1980, 12, 25), None, "8 (916) 123-45-67"),  # row 2
    ("B2", None, None, None, None, None, None, None, "03.01", "b2@example.ru", "12345"),  # no year; a bad phone
    ("B3", None, None, None, "Борис", None, None, None, "09.01.1990", None, "+7 916 000-00-01"),  # a day too late
    ("B4", None, None, None, "Вера", None, None, None, datetime(1975, 12, 24), None, None),  # the day before D
    ("B5", None, None, None, "Dieter", None, None, None, "08.01.2000", "b5@example.de", "+49 30 123456"),  # the end
    ("B6", None, None, None, "Галина", None, None, None, "29.02.1988", None, None),
)


def files(tmp_path, greeting="{name}, с днём рождения! Ваш уровень: {tier}.", rows=CLIENTS, line_day="2026-12-20"):
    sheets = book(Clients=rows, Settings=[["key", "value"], ["birthday_greeting", greeting]])
    tariffs = write_book(tmp_path / "tariffs.xlsx", sheets)
    export = write_export(tmp_path / "export.csv", [dict(date=line_day, doc_id="D1", client_id="B1", sku="S", qty=1,
                                                         unit_price="1000", marker="red")])
    return export, tariffs


def test_the_window_crosses_the_year_end_with_ages_phones_and_greetings(tmp_path):
    export, tariffs = files(tmp_path)
    out = tmp_path / "birthdays.xlsx"
    result = reports.birthdays(export, tariffs, out, as_of=date(2026, 12, 25), days=14)
    # [25.12.2026, 08.01.2027], both ends included: B1 on D itself (born 1980: turns 46), B2 on 03.01.2027 (no
    # year, no age), B5 on 08.01.2027, the last day (born 2000: 27). B3 (09.01) is a day late, B4's (24.12) passed.
    frame = result.tables["birthdays"].frame
    assert frame["client_id"].tolist() == ["B1", "B2", "B5"]
    assert frame["date"].dt.date.tolist() == [date(2026, 12, 25), date(2027, 1, 3), date(2027, 1, 8)]
    assert frame["age"].tolist() == [46, pd.NA, 27]
    # E.164: a Russian number written nationally, one with its own country code; an invalid one as written
    assert frame["phone"].tolist() == ["+79161234567", "12345", "+4930123456"]
    assert frame["email"].tolist() == [None, "b2@example.ru", "b5@example.de"]
    # {name} (the client_id when the Clients sheet has no name), {tier}; Cyrillic fits one UCS-2 message (≤ 70)
    assert frame["greeting"].tolist() == ["Анна, с днём рождения! Ваш уровень: gold.",
                                          "B2, с днём рождения! Ваш уровень: .",
                                          "Dieter, с днём рождения! Ваш уровень: ."]
    assert frame["sms_parts"].tolist() == [1, 1, 1]
    (warning,) = result.warnings
    assert (warning.code, warning.where) == ("birthday.phone", "Clients!K3")
    # the SMS gateway's file: the valid phones only, beside the report, plain UTF-8 with the + as it is
    assert [p.name for p in result.written] == ["birthdays.xlsx", "birthdays.sms.csv"]
    with (tmp_path / "birthdays.sms.csv").open(encoding="utf-8") as handle:
        assert [tuple(r.values()) for r in csv.DictReader(handle)] == [
            ("+79161234567", "Анна, с днём рождения! Ваш уровень: gold."),
            ("+4930123456", "Dieter, с днём рождения! Ваш уровень: .")]
    sheet = openpyxl.load_workbook(out)["Birthdays"]
    assert [c.value for c in sheet[1]][:4] == ["client_id", "name", "inn", "date"]  # the INN beside the name
    assert sheet["D2"].value == datetime(2026, 12, 25) and sheet["D2"].number_format == "DD.MM.YYYY"
    # the phone shows as +7…: text, without the apostrophe the csv escaping would add; Excel's quote prefix keeps
    # it text when the cell is edited
    phone = sheet.cell(row=2, column=[c.value for c in sheet[1]].index("phone") + 1)
    assert (phone.value, phone.data_type, phone.quotePrefix) == ("+79161234567", "s", True)


@pytest.mark.parametrize("as_of, expected, age", [(date(2027, 2, 20), date(2027, 2, 28), 39),
                                                   (date(2028, 2, 20), date(2028, 2, 29), 40)])
def test_29_february_falls_on_28_february_in_other_years(tmp_path, as_of, expected, age):
    export, tariffs = files(tmp_path)
    frame = reports.birthdays(export, tariffs, as_of=as_of, days=14).tables["birthdays"].frame
    row = frame[frame["client_id"] == "B6"].iloc[0]
    assert (row["date"].date(), row["age"]) == (expected, age)


def test_balance_from_the_ledger(tmp_path):
    export, tariffs = files(tmp_path, greeting="{name}: {balance} баллов ждут вас")
    ledger = tmp_path / "ledger.sqlite"
    jobs.price(export, tariffs, ledger=ledger)  # B1 on PRO, bonus mode, red 8 %: 1 000.00 earns 80.00 points
    frame = reports.birthdays(export, tariffs, as_of=date(2026, 12, 25), days=14, ledger=ledger).tables["birthdays"].frame
    assert frame["greeting"].tolist()[:2] == ["Анна: 80.00 баллов ждут вас", "B2: 0.00 баллов ждут вас"]


def test_sms_parts_by_gsm_03_38():
    assert sms_parts("а" * 70) == 1  # Cyrillic: UCS-2, 70 in one message
    assert sms_parts("а" * 71) == 2  # then 67 a part: ⌈71 / 67⌉
    assert sms_parts("а" * 135) == 3  # ⌈135 / 67⌉
    assert sms_parts("a" * 160) == 1  # GSM 7-bit: 160 in one
    assert sms_parts("a" * 161) == 2  # then 153 a part
    assert sms_parts("a" * 158 + "€") == 1  # the euro is an extension character: 158 + 2 = 160
    assert sms_parts("a" * 160 + "€") == 2  # 161 characters, the euro counted twice: 162 septets, ⌈162 / 153⌉
    assert sms_parts("a" * 306) == 2 and sms_parts("a" * 307) == 3
    assert sms_parts("a" * 68 + "😀") == 1  # an emoji sends the text as UCS-2, and is two UTF-16 units: 68 + 2 = 70
    assert sms_parts("a" * 69 + "😀") == 2  # 69 + 2 = 71
    assert sms_parts("Hello " + "Привет") == 1


def test_a_birthday_that_is_not_a_date_is_named_by_its_cell(tmp_path):
    rows = clients(("B1",), ("B2",), ("B3",), ("B4", None, None, None, None, None, None, None, "31.02.1980"))
    export, tariffs = files(tmp_path, rows=rows)
    out = tmp_path / "birthdays.xlsx"
    done = subprocess.run([sys.executable, "-m", "erp_plugin", "report", "birthdays", str(export), "--tariffs",
                           str(tariffs), "--out", str(out)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Clients!I5" in done.stderr and "'31.02.1980' is not a date" in done.stderr
    assert not out.exists() and not (tmp_path / "birthdays.sms.csv").exists()


def test_init_writes_the_greeting_setting_and_explains_it(tmp_path):
    assert "{name}" in DEFAULT_GREETING and len(DEFAULT_GREETING) < 70
    jobs.init(tmp_path)
    wb = openpyxl.load_workbook(tmp_path / "tariffs.xlsx")
    settings = {row[0]: row[1] for row in wb["Settings"].iter_rows(min_row=2, values_only=True)}
    assert settings["birthday_greeting"] == DEFAULT_GREETING
    assert any("birthday_greeting" in str(c) for row in wb["Instructions"].iter_rows(values_only=True) for c in row)
