"""The tariff workbook's Preview sheet: a basket under every tariff × bonus mode × payment, figures by hand."""

import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from erp_plugin import jobs
from erp_plugin.cli import main
from erp_plugin.output.preview_sheet import RESULTS_LABEL

from .conftest import write_book
from .test_price import book

LABELS = ("Results", "Результаты", "Результаты / Results")  # en, ru, and the bilingual one of older workbooks
HEADER = ["sku", "category", "marker", "qty", "unit_price", "reservation_days", "moneyback_days"]


def workbook_with_basket(tmp_path: Path, *lines: list) -> Path:
    """The pricing tests' workbook (BASE red 5 %, PRO red 8 %; prepaid 0 / deferral 1.5; 7 reservation days 1;
    carrying rate 25 %) with a Preview sheet holding ``lines`` from row 6."""
    sheets = book()
    sheets["Preview"] = [["Preview"], [], ["date", date(2026, 3, 2)], [], HEADER, *lines, [], [RESULTS_LABEL]]
    return write_book(tmp_path / "tariffs.xlsx", sheets)


def results(path: Path) -> list[tuple]:
    rows = [tuple(r) for r in openpyxl.load_workbook(path)["Preview"].iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r[0] in LABELS) + 1
    return rows[start:]


def test_one_basket_under_every_tariff_mode_and_payment(tmp_path):
    path = workbook_with_basket(tmp_path, ["S", None, "red", 2, 500, 7, 0])  # gross 1 000.00, 7 reservation days
    done = CliRunner().invoke(main, ["preview", str(path)])
    assert done.exit_code == 0, done.output
    rows = results(path)
    assert rows[0][:10] == ("Tariff", "Bonus mode", "Payment", "Gross", "Price discount", "Net", "Bonus accrued",
                            "Reservation cost", "Concession %", "Monthly fee")  # the command's language: English
    assert [r[:3] for r in rows[1:]] == [(t, m, p) for t in ("BASE", "PRO") for m in ("bonus", "half", "discount")
                                         for p in ("prepaid", "deferral")]
    by = {r[:3]: r[3:10] for r in rows[1:]}
    # kit % = marker % − (payment weight + 1 for 7 reservation days); reservation cost = net × 25 % × 7 / 365
    # BASE, bonus, prepaid: 5 − 1 = 4 % → 40.00 all as points; net 1 000.00; 1000 × .25 × 7 / 365 = 4.7945 → 4.79;
    # concession (0 + 40 + 4.79) / 1000 = 4.479 %
    assert by[("BASE", "bonus", "prepaid")] == (1000, 0, 1000, 40, 4.79, 4.479, 0)
    # BASE, half, prepaid: 40.00 → 20.00 off, 20.00 points; net 980.00; 980 × .25 × 7 / 365 = 4.6986 → 4.70; 4.47 %
    assert by[("BASE", "half", "prepaid")] == (1000, 20, 980, 20, 4.7, 4.47, 0)
    # BASE, bonus, deferral: 5 − 2.5 = 2.5 % → 25.00 points; 2.979 %
    assert by[("BASE", "bonus", "deferral")] == (1000, 0, 1000, 25, 4.79, 2.979, 0)
    # PRO, discount, prepaid: 8 − 1 = 7 % → 70.00 off; net 930.00; 930 × .25 × 7 / 365 = 4.4589 → 4.46; 7.446 %
    assert by[("PRO", "discount", "prepaid")] == (1000, 70, 930, 0, 4.46, 7.446, 1000)
    # PRO, half, deferral: 8 − 2.5 = 5.5 % → 55.00: 27.50 off, 27.50 points; net 972.50 → 4.6627 → 4.66; 5.966 %
    assert by[("PRO", "half", "deferral")] == (1000, 27.5, 972.5, 27.5, 4.66, 5.966, 1000)
    assert jobs.validate(path).ok  # the tariff workbook stays a valid one after the job wrote into it


def test_the_best_option_of_each_tariff_is_marked_and_highlighted_and_the_columns_show_the_basket(tmp_path):
    path = workbook_with_basket(tmp_path, ["КАБ-ВВГ-5х10-ОЧЕНЬ-ДЛИННЫЙ", "Кабель", "red", 2, 500, 7, 0])
    assert CliRunner().invoke(main, ["preview", str(path)]).exit_code == 0
    rows = results(path)
    assert rows[0][10] == "Best"  # the command's language (English here) labels the column
    # the client's gain is price discount + points: BASE prepaid 5 − 1 = 4 % → 40.00 in every mode (they tie),
    # deferral 2.5 % → 25.00; PRO prepaid 7 % → 70.00, deferral 5.5 % → 55.00
    assert [r[:3] for r in rows[1:] if r[10] == "★"] == [(t, m, "prepaid") for t in ("BASE", "PRO")
                                                         for m in ("bonus", "half", "discount")]
    ws = openpyxl.load_workbook(path)["Preview"]
    first = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == "Tariff") + 1
    fills = [ws.cell(row=r, column=1).fill.fgColor.rgb for r in range(first, first + 12)]
    assert fills == ["FFE2EFDA" if r[10] == "★" else "00000000" for r in rows[1:]]
    assert ws.column_dimensions["A"].width >= len("КАБ-ВВГ-5х10-ОЧЕНЬ-ДЛИННЫЙ")  # the results do not narrow the sku
    assert ws.column_dimensions["F"].width >= len("reservation_days")
    assert ws.cell(row=first, column=9).number_format == '0.00" %"'  # every concession with two decimals


def test_the_worksheet_functions_agree_with_the_preview(tmp_path):
    from erp_plugin.excel import functions

    path = workbook_with_basket(tmp_path, ["S", None, "red", 1, 1000, 7, 0])
    CliRunner().invoke(main, ["preview", str(path)])
    by = {r[:3]: r for r in results(path)[1:]}
    tariff_book = jobs.load_tariffs(path)
    for (tariff, mode, payment), row in by.items():
        assert functions.net(tariff_book, 1000, tariff, "red", 7, 0, payment, mode) == Decimal(str(row[5]))
        assert functions.bonus(tariff_book, 1000, tariff, "red", 7, 0, payment, mode) == Decimal(str(row[6]))


def test_basket_mistakes_are_named_by_cell_where_the_results_go(tmp_path):
    path = workbook_with_basket(tmp_path, ["S", None, "red", "two", 500, 0, 0], ["T", None, "red", 1, None, 0, 0])
    done = CliRunner().invoke(main, ["preview", str(path)])
    assert done.exit_code == 2 and "Traceback" not in done.output
    rows = results(path)
    assert [(r[1], r[4]) for r in rows[1:]] == [("Preview!D6", "preview.number"), ("Preview!E7", "preview.blank")]


def test_pricing_problems_point_at_the_basket_line_once(tmp_path):
    # an unknown marker and 40 reservation days (the largest bracket is 14): each once, not once per combination
    path = workbook_with_basket(tmp_path, ["S", None, "purple", 1, 500, 0, 0], ["T", None, "red", 1, 500, 40, 0])
    assert CliRunner().invoke(main, ["preview", str(path)]).exit_code == 2
    assert sorted((r[1], r[4]) for r in results(path)[1:]) == [
        ("Preview!C6", "price.marker"), ("Preview!F7", "price.option_days")]


def test_init_writes_a_preview_and_its_script_fills_it(tmp_path):
    folder = tmp_path / "workbooks"
    shutil.copytree(Path(__file__).parent.parent / "workbooks", folder)
    assert (folder / "tariffs.py").exists()
    done = subprocess.run([sys.executable, "tariffs.py"], cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "wrote 72 rows into the Preview sheet" in done.stdout  # 6 tariffs × 3 modes × 4 payments
    rows = results(folder / "tariffs.xlsx")
    assert len(rows) == 73 and rows[1][:3] == ("BASE", "bonus", "prepaid")
    assert jobs.validate(folder / "tariffs.xlsx").ok


def test_every_mistake_of_every_basket_line_in_one_run(tmp_path):
    """Line 6 has two bad cells, line 7 two things pricing refuses, the date is not a date: all five at once
    (the lines with bad cells are left out of pricing, the others priced to find theirs)."""
    sheets = book()
    sheets["Preview"] = [["Preview"], [], ["date", "вчера"], [], HEADER,
                         ["S", None, "red", "two", -5, 0, 0], ["T", None, "purple", 1, 500, 40, 0], [], [RESULTS_LABEL]]
    path = write_book(tmp_path / "tariffs.xlsx", sheets)
    done = CliRunner().invoke(main, ["preview", str(path)])
    assert done.exit_code == 2 and "Traceback" not in done.output
    assert sorted((r[1], r[4]) for r in results(path)[1:]) == [
        ("Preview!B3", "preview.date"), ("Preview!C7", "price.marker"), ("Preview!D6", "preview.number"),
        ("Preview!E6", "preview.number"), ("Preview!F7", "price.option_days")]


def test_basket_and_tariff_workbook_mistakes_together(tmp_path):
    """A wrong basket cell does not hide the tariff workbook's own errors, nor they the basket's."""
    sheets = book()
    sheets["Tariffs"][1][4] = 7  # BASE yellow 7 %, outside the yellow range 3–6
    sheets["Preview"] = [["Preview"], [], ["date", date(2026, 3, 2)], [], HEADER,
                         ["S", None, "red", 1, None, 0, 0], [], [RESULTS_LABEL]]
    path = write_book(tmp_path / "tariffs.xlsx", sheets)
    assert CliRunner().invoke(main, ["preview", str(path)]).exit_code == 2
    assert sorted((r[1], r[4]) for r in results(path)[1:]) == [
        ("Preview!E6", "preview.blank"), ("Tariffs!E2", "tariff.discount_range")]


def test_the_results_label_is_found_in_either_language_and_the_old_bilingual_one(tmp_path):
    """init writes the label in its language; a workbook in the other one, or made before (bilingual), reads too."""
    for label in ("Результаты", "Results", "Результаты / Results", " RESULTS "):
        folder = tmp_path / label.strip().replace(" / ", "-")
        folder.mkdir()
        path = workbook_with_basket(folder, ["S", None, "red", 2, 500, 7, 0])
        wb = openpyxl.load_workbook(path)
        wb["Preview"].cell(row=8, column=1).value = label  # the label's row (rows: title, -, date, -, header, S, -)
        wb.save(path)
        assert CliRunner().invoke(main, ["preview", str(path)]).exit_code == 0
        rows = [tuple(r) for r in openpyxl.load_workbook(path)["Preview"].iter_rows(values_only=True)]
        assert rows[7][0] == label and rows[8][:3] == ("Tariff", "Bonus mode", "Payment"), label  # right under it


def test_init_writes_the_preview_headings_in_its_language(tmp_path):
    for language, title, label, blank in (
            ("ru", "Предпросмотр: корзина на всех тарифах × режимах бонуса × вариантах оплаты", "Результаты",
             "пусто — сегодня"),
            ("en", "Preview: a basket under every tariff × bonus mode × payment", "Results", "blank: today")):
        done = CliRunner().invoke(main, ["init", str(tmp_path / language), "--lang", language])
        assert done.exit_code == 0, done.output
        sheet = openpyxl.load_workbook(tmp_path / language / "tariffs.xlsx")["Preview"]
        column = [row[0] for row in sheet.iter_rows(values_only=True)]
        assert column[0] == title and sheet["C3"].value == blank
        assert label in column and "Результаты / Results" not in column
        done = CliRunner().invoke(main, ["preview", str(tmp_path / language / "tariffs.xlsx"), "--lang", language])
        assert done.exit_code == 0, done.output
        column = [row[0] for row in openpyxl.load_workbook(tmp_path / language / "tariffs.xlsx")["Preview"]
                  .iter_rows(values_only=True)]
        assert column[column.index(label) + 1] == {"ru": "Тариф", "en": "Tariff"}[language]


def test_the_russian_results_header_is_tall_enough_and_figures_are_not_text_aligned(tmp_path):
    """The header's height and the cells' alignment go by the labels written and the columns' kinds, in any
    language: «Сумма без скидок» wraps to two lines in its column; money is a figure (no text indent)."""
    assert CliRunner().invoke(main, ["init", str(tmp_path), "--lang", "ru"]).exit_code == 0
    assert CliRunner().invoke(main, ["preview", str(tmp_path / "tariffs.xlsx"), "--lang", "ru"]).exit_code == 0
    sheet = openpyxl.load_workbook(tmp_path / "tariffs.xlsx")["Preview"]
    row = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "Тариф")
    header = [c.value for c in sheet[row]]
    gross = header.index("Сумма без скидок") + 1
    assert sheet.column_dimensions[openpyxl.utils.get_column_letter(gross)].width < len("Сумма без скидок")
    assert sheet.row_dimensions[row].height >= 2 * 15  # two lines of 15 points
    assert sheet.cell(row + 1, gross).alignment.horizontal is None and sheet.cell(row + 1, gross).alignment.indent == 0
    assert sheet.cell(row + 1, 1).alignment.horizontal == "left"  # the tariff: text, indented off the edge
