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
    assert udfs.xw is not None  # the dev extra installs xlwings: its real import on Linux
    assert callable(udfs.ERP_KIT_PCT)
    assert udfs.ERP_NET(100) == "#EXCEL? worksheet functions run inside Excel (xlwings add-in)"


def test_only_the_excel_layer_imports_xlwings_and_the_rest_runs_without_it(tmp_path):
    import re
    import subprocess
    import sys
    from pathlib import Path

    package = Path(udfs.__file__).parent.parent
    importers = sorted(str(p.relative_to(package)) for p in package.rglob("*.py")
                       if re.search(r"^\s*(import xlwings|from xlwings)", p.read_text(encoding="utf-8"), re.M))
    assert importers == ["excel/udfs.py", "excel/xlwings_book.py"]
    job = ("import sys; sys.modules['xlwings'] = None\n"  # as if xlwings were not installed
           "from erp_plugin import jobs\n"
           "from erp_plugin.excel import udfs, year_end, preview\n"
           f"jobs.init({str(tmp_path)!r})\n"
           f"assert year_end.run_file({str(tmp_path / 'year_end.xlsx')!r}).ok\n"
           "assert udfs.ERP_NET(100).startswith('#EXCEL?')\n")
    done = subprocess.run([sys.executable, "-c", job], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
