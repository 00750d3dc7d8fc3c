"""Worksheet functions give the figures `price` gives for the same line; bad arguments get #messages."""

from datetime import date
from decimal import Decimal

from erp_plugin.excel import functions, udfs

from .conftest import write_book
from .test_price import book, price


def test_worksheet_functions_agree_with_price(tmp_path):
    path = write_book(tmp_path / "t.xlsx", book())
    tariffs = functions.book_at(path)
    # C3 is PRO / half with no segments: the line the worksheet functions price
    line = dict(date=date.today().isoformat(), doc_id="D1", client_id="C3", sku="S", qty=1, unit_price="1234.56",
                marker="red", payment="deferral", reservation_days=7, moneyback_days=30)
    priced = price(tmp_path, [line]).lines.iloc[0]
    args = ("1234.56", "pro", "red", 7, 30, "deferral", "half")
    assert functions.kit_pct(tariffs, "PRO", "red", 7, 30, "deferral") == Decimal(int(priced["kit_pct"])).scaleb(-4) == Decimal("5")
    assert functions.net(tariffs, *args) == Decimal(int(priced["net"])).scaleb(-2)
    assert functions.bonus(tariffs, *args) == Decimal(int(priced["bonus_accrued"])).scaleb(-2)
    assert functions.concession(tariffs, *args) == Decimal(int(priced["concession_pct"])).scaleb(-4)
    # by hand: 5 % of 1 234.56 = 61.728 → 61.73; half of it, 30.865 → 30.87 bonus, 30.86 off: net 1 203.70
    assert (functions.net(tariffs, *args), functions.bonus(tariffs, *args)) == (Decimal("1203.70"), Decimal("30.87"))


def test_bad_arguments_answer_with_a_message(tmp_path):
    tariffs = functions.book_at(write_book(tmp_path / "t.xlsx", book()))
    assert functions.kit_pct(tariffs, "GOLD", "red") == "#TARIFF? 'GOLD' is not in Tariffs (BASE, PRO)"
    assert functions.net(tariffs, "much") == "#AMOUNT? 'much' is not an amount"
    assert functions.bonus(tariffs, 100, "PRO", "red", 0, 0, None, "triple").startswith("#MODE? 'triple'")
    assert functions.kit_pct(tariffs, "PRO", "purple").startswith("#MARKER? marker 'purple' is not in Markers")
    assert functions.kit_pct(tariffs, "PRO", "red", 30).startswith("#RESERVATION_DAYS? reservation_days 30 is more")
    assert functions.book_at(tmp_path / "none.xlsx").startswith("#FILE?")


def test_the_tariff_book_is_cached_and_reloaded_when_the_file_changes(tmp_path):
    import os

    path = write_book(tmp_path / "t.xlsx", book())
    first = functions.book_at(path)
    assert functions.book_at(path) is first  # unchanged file: the same book
    sheets = book()
    sheets["Tariffs"][2][5] = 9  # PRO red 8 → 9 %
    write_book(path, sheets)
    os.utime(path, (os.path.getatime(path), os.path.getmtime(path) + 5))
    assert functions.kit_pct(functions.book_at(path), "PRO", "red") == Decimal("9")


def test_udfs_import_without_excel_and_say_where_they_run():
    assert callable(udfs.ERP_KIT_PCT)
    if udfs.xw is None:
        assert udfs.ERP_NET(100) == "#EXCEL? worksheet functions run inside Excel (xlwings add-in)"
