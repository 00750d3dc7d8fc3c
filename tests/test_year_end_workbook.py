"""The one-click year end through the file adapter: the same job Excel's Run main runs, on a real workbook."""

import re
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from erp_plugin.cli import main
from erp_plugin.jobs import init

from .conftest import write_book
from .test_price import book, write_export

SCALE = [["from_turnover", "rebate_pct"], [0, 0], [1_000_000, 1], [3_000_000, 2]]


def folder_with(tmp_path: Path, setup: dict | None = None) -> Path:
    """A year-end workbook from init, the hand-made tariff workbook and export beside it, Setup values changed."""
    init(tmp_path, force=True)
    write_book(tmp_path / "tariffs.xlsx", book(RebateScale=SCALE))
    write_export(tmp_path / "export.csv", [
        dict(date="2026-03-02", doc_id="D1", client_id="C2", sku="S", qty=1, unit_price="2000000"),
        dict(date="2026-09-01", doc_id="D2", client_id="C2", sku="S", qty=1, unit_price="1500000"),
    ])
    wb = openpyxl.load_workbook(tmp_path / "year_end.xlsx")
    values = {"export": "export.csv", **(setup or {})}
    for row in wb["Setup"].iter_rows(min_row=5):
        if row[0].value in values:
            row[1].value = values[row[0].value]
    wb.save(tmp_path / "year_end.xlsx")
    return tmp_path / "year_end.xlsx"


def sheet_rows(path: Path, sheet: str) -> list[tuple]:
    return [tuple(r) for r in openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True)]


def test_the_year_end_fills_the_workbook_with_exact_figures(tmp_path):
    workbook = folder_with(tmp_path)
    done = CliRunner().invoke(main, ["year-end", str(workbook)])
    assert done.exit_code == 0, done.output
    # C2 (white, prepaid: net = gross): 3 500 000.00 reaches 2 % retroactively: 70 000.00, split 2 000 000 : 1 500 000
    assert re.search(r"\nRebate +70 000\.00\n", done.output)
    wb = openpyxl.load_workbook(workbook)
    # the command's language (English here) names the result sheets and their columns
    assert wb.sheetnames[0] == "Setup" and {"Rebates", "Credit notes", "Summary", "Turnover steps", "Rebate by tier",
                                            "Warnings"} <= set(wb.sheetnames)
    assert sheet_rows(workbook, "Rebates")[:2] == [
        ("Client", "Turnover", "Rebate %", "Rebate", "Documents", "Tier", "Stamps", "Completed columns"),
        ("C2", 3_500_000, 2, 70_000, 2, "gold", 0, 0),  # no StampCard sheet: no stamps
    ]
    assert wb["Rebates"]["B2"].number_format == "#,##0.00" and wb["Rebates"]["C2"].number_format == '0.00" %"'  # every result percentage with two decimals
    assert sheet_rows(workbook, "Summary")[1][:2] == (2026, __import__("datetime").datetime(2026, 1, 1))
    assert sheet_rows(workbook, "Warnings") == [("Severity", "Where", "Row", "Field", "Code", "Message", "Count")]
    assert wb.active.title == "Summary"
    assert len(wb["Turnover steps"]._charts) == 1 and len(wb["Rebate by tier"]._charts) == 1
    with zipfile.ZipFile(workbook) as package:  # money is stored as the exact decimal, not a float artefact
        rebates_xml = package.read(_part(package, "Rebates")).decode()
    assert re.search(r'<c r="D2"[^>]*><v>70000(\.00?)?</v>', rebates_xml)


def _part(package: zipfile.ZipFile, title: str) -> str:
    workbook = package.read("xl/workbook.xml").decode()
    rels = package.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{title}"[^>]*r:id="(rId\d+)"', workbook).group(1)
    target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*/>', rels).group(0)
    return "xl/" + re.search(r'Target="/?(?:xl/)?([^"]+)"', target).group(1)


def test_run_main_again_replaces_the_results_and_the_charts(tmp_path):
    workbook = folder_with(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["year-end", str(workbook)]).exit_code == 0
    first = openpyxl.load_workbook(workbook).sheetnames
    assert runner.invoke(main, ["year-end", str(workbook)]).exit_code == 0
    wb = openpyxl.load_workbook(workbook)
    assert wb.sheetnames == first and len(wb["Turnover steps"]._charts) == 1
    assert sheet_rows(workbook, "Rebates")[1][3] == 70_000


def test_setup_mistakes_each_named_on_the_warnings_sheet_and_nothing_computed(tmp_path):
    workbook = folder_with(tmp_path, {"export": None, "year": "двадцать шестой", "skip_bad_lines": "maybe"})
    done = CliRunner().invoke(main, ["year-end", str(workbook)])
    assert done.exit_code == 2
    warnings = sheet_rows(workbook, "Warnings")
    assert [(w[0], w[1], w[4]) for w in warnings[1:]] == [
        ("error", "Setup!B6", "setup.blank"), ("error", "Setup!B7", "setup.year"), ("error", "Setup!B9", "setup.flag"),
    ]
    assert "e.g. sales_export.xlsx" in warnings[1][5]
    wb = openpyxl.load_workbook(workbook)
    assert "Rebates" not in wb.sheetnames and wb.active.title == "Warnings"


def test_a_missing_export_and_a_year_without_lines_are_answers_not_tracebacks(tmp_path):
    workbook = folder_with(tmp_path, {"export": "no_such.csv"})
    done = CliRunner().invoke(main, ["year-end", str(workbook)])
    assert done.exit_code == 2 and "Traceback" not in done.output
    (row,) = sheet_rows(workbook, "Warnings")[1:]
    assert row[1].endswith("no_such.csv") and row[4] == "file.missing"
    workbook = folder_with(tmp_path, {"year": 2024})
    assert CliRunner().invoke(main, ["year-end", str(workbook)]).exit_code == 2
    assert sheet_rows(workbook, "Warnings")[1][4] == "rebates.empty_year"


def test_a_ledger_named_in_setup_adds_the_liability_by_month(tmp_path):
    from erp_plugin import jobs

    workbook = folder_with(tmp_path, {"ledger": "ledger.sqlite"})
    tariffs, export = tmp_path / "tariffs.xlsx", tmp_path / "export.csv"
    write_export(export, [dict(date="2026-03-02", doc_id="D1", client_id="C1", sku="S", qty=1, unit_price="1000",
                               marker="red")])
    jobs.price(export, tariffs, ledger=tmp_path / "ledger.sqlite")
    assert CliRunner().invoke(main, ["year-end", str(workbook)]).exit_code == 0
    liability = sheet_rows(workbook, "Liability")
    assert liability[0] == ("Period", "Opening", "Deferred", "Recognised", "Closing")
    assert [r[0] for r in liability[1:]][:2] == ["2026-03", "2026-04"]  # from the first month with points
    assert liability[-1][0] == "2026-12"  # up to the fiscal year's end
    assert len(openpyxl.load_workbook(workbook)["Liability"]._charts) == 1


def test_python_year_end_py_beside_the_sample_workbook(tmp_path):
    """As a new user on Linux would: the sample year_end.xlsx filled by its own script through the adapter."""
    folder = tmp_path / "workbooks"
    shutil.copytree(Path(__file__).parent.parent / "workbooks", folder)
    done = subprocess.run([sys.executable, "year_end.py"], cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "fiscal year 2026: 01.01.2026 to 31.12.2026" in done.stdout
    wb = openpyxl.load_workbook(folder / "year_end.xlsx")
    assert {"Rebates", "Credit notes", "Summary", "Warnings"} <= set(wb.sheetnames)
    assert date(2026, 1, 1) <= wb["Summary"]["B2"].value.date()


def test_the_setup_sheet_is_written_in_the_language_of_init_and_reads_in_either(tmp_path):
    for language, title, about in (
            ("ru", "Годовые ретро-бонусы", "Финансовый год (начинается с fiscal_year_start тарифной книги)"),
            ("en", "Year-end rebates", "The fiscal year (it starts on fiscal_year_start of the tariff workbook)")):
        done = CliRunner().invoke(main, ["init", str(tmp_path / language), "--lang", language])
        assert done.exit_code == 0, done.output
        rows = sheet_rows(tmp_path / language / "year_end.xlsx", "Setup")
        assert rows[0][0] == title and "/" not in rows[1][0]  # one language, not both
        assert rows[6][:3] == ("year", 2026, about)  # the key stays canonical: the reader matches it
        done = CliRunner().invoke(main, ["year-end", str(tmp_path / language / "year_end.xlsx"), "--lang", "en"])
        assert done.exit_code == 0, done.output  # the sample's own files, read back from either language's Setup


def test_a_russian_year_end_names_its_warnings_sheet_in_russian(tmp_path):
    assert CliRunner().invoke(main, ["init", str(tmp_path), "--lang", "ru"]).exit_code == 0
    done = CliRunner().invoke(main, ["year-end", str(tmp_path / "year_end.xlsx"), "--lang", "ru"])
    assert done.exit_code == 0, done.output
    names = openpyxl.load_workbook(tmp_path / "year_end.xlsx", read_only=True).sheetnames
    assert "Предупреждения" in names and "Warnings" not in names and "Итоги" in names
