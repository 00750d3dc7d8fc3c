"""Result sheets as people see them (issue 19): the one look of output/style.py in every writer, the client's
name and INN beside its id, charts with sensible axes, and the outputs rendered by LibreOffice."""

import csv
import re
import shutil
import subprocess
from datetime import date

import numpy as np
import openpyxl
import pandas as pd
import pytest

from erp_plugin import jobs
from erp_plugin.excel.book import FileBook
from erp_plugin.excel.year_end import run_file as year_end_run_file
from erp_plugin.output import xlsx_write
from erp_plugin.output.charts import axis_floor
from erp_plugin.tables import DATE, TEXT, Table, money

from .conftest import write_book
from .test_charts import SCALE, coloured_pixels
from .test_price import book, write_export

CLIENTS = [["client_id", "tariff", "bonus_mode", "joined", "name", "inn", "segments", "tier"],
           ["C1", "PRO", "bonus", "01.01.2025", "ООО «Ромашка»", "7701234560", "regular", "gold"],
           ["C2", "", "", "01.02.2026", "ИП Иванов Иван Иванович", "770312345678", "", ""],
           ["C3", "PRO", "half", "01.01.2024", "", "", "", ""]]
LINES = [dict(date="2026-03-02", doc_id="D1", client_id="C2", sku="S", qty=1, unit_price="3500000"),
         dict(date="2026-04-02", doc_id="D2", client_id="C1", sku="S", qty=2, unit_price="250000", marker="red"),
         dict(date="2026-05-04", doc_id="D3", client_id="C3", sku="S", qty=1, unit_price="1000")]


def files(tmp_path, **sheets):
    tariffs = write_book(tmp_path / "tariffs.xlsx", book(RebateScale=SCALE, Clients=CLIENTS, **sheets))
    return write_export(tmp_path / "export.csv", LINES), tariffs


def header(ws) -> list:
    return [c.value for c in ws[1]]


def test_every_per_client_sheet_shows_the_name_and_inn_beside_the_client_id(tmp_path):
    export, tariffs = files(tmp_path)
    out = tmp_path / "year.xlsx"
    jobs.rebates(export, tariffs, 2026, out=out)
    wb = openpyxl.load_workbook(out)
    per_client = [ws for ws in wb.worksheets[1:] if "client_id" in header(ws)]
    assert {ws.title for ws in per_client} >= {"Rebates", "CreditNotes", "Tiers", "Stamps", "Quests", "TurnoverSteps"}
    for ws in per_client:
        at = header(ws).index("client_id")
        assert header(ws)[at + 1:at + 3] == ["name", "inn"], ws.title
    rebates = {row[0]: row[1:3] for row in wb["Rebates"].iter_rows(min_row=2, values_only=True)}
    # from the Clients sheet; C3 has neither, and gets blanks
    assert rebates == {"C2": ("ИП Иванов Иван Иванович", "770312345678"), "C1": ("ООО «Ромашка»", "7701234560"),
                       "C3": (None, None)}
    # the csv tables too, with the snake_case names
    jobs.rebates(export, tariffs, 2026, out=tmp_path / "year.csv")
    with (tmp_path / "year.rebates.csv").open(encoding="utf-8-sig") as handle:
        assert next(csv.reader(handle))[:4] == ["client_id", "name", "inn", "turnover"]


def test_a_wrong_inn_check_digit_is_a_warning_on_its_cell(tmp_path):
    clients = [row[:] for row in CLIENTS]
    clients[1][5] = "7701234567"  # the check digit of 770123456 is 0
    sheets = book(Clients=clients)
    result = jobs.validate(write_book(tmp_path / "t.xlsx", sheets))
    (warning,) = [p for p in result.problems if p.code == "client.inn"]
    assert (warning.severity, warning.sheet, warning.cell) == ("warning", "Clients", "F2")
    assert "check digit" in warning.message


@pytest.mark.parametrize("writer", ["streaming", "openpyxl"])
def test_long_text_wraps_in_its_own_column_and_formula_like_text_shows_as_it_is(tmp_path, writer):
    message = "the line gives away 42.5 % of its gross (discount, bonus and reservation cost), above the maximum"
    frame = pd.DataFrame({"where": ["export row 13", "Clients!K3"], "day": pd.to_datetime(["2026-03-16", None]),
                          "message": [message, "short"], "phone": ["+79161234567", "=1+1"],
                          "amount": np.array([123456789, -5], dtype=np.int64)})
    kinds = {"where": TEXT, "day": DATE, "message": TEXT, "phone": TEXT, "amount": money(2)}
    if writer == "streaming":  # a command's result sheets
        xlsx_write.new_workbook(tmp_path / "t.xlsx", [xlsx_write.Sheet("Warnings", frame, kinds)])
    else:  # the one-click jobs' (the year-end workbook's)
        openpyxl.Workbook().save(tmp_path / "t.xlsx")
        book = FileBook(tmp_path / "t.xlsx")
        book.put_table("Warnings", Table("warnings", frame, kinds))
        book.save()
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["Warnings"]
    widths = {c: ws.column_dimensions[c].width for c in "ABCDE"}
    # "export row 13" is 13 characters + 3 of padding; a date 11 + 3; the message is capped at 60 and wraps;
    # 1,234,567.89 is 12 characters with its sign's place 13, + 3
    assert widths == {"A": 16, "B": 14, "C": 60, "D": 15, "E": 16}
    assert ws["C2"].alignment.wrap_text and not ws["A2"].alignment.wrap_text
    assert ws.row_dimensions[2].height == 30  # 99 characters in a 60-wide column: two lines of 15 points
    assert ws["B2"].value.date() == date(2026, 3, 16) and ws["B2"].number_format == "DD.MM.YYYY"
    # text, never a formula, without a visible apostrophe; Excel's quote prefix keeps it text when edited
    assert [(ws[c].value, ws[c].data_type, ws[c].quotePrefix) for c in ("D2", "D3")] == [
        ("+79161234567", "s", True), ("=1+1", "s", True)]
    assert not ws["A2"].quotePrefix
    assert ws["A1"].font.b and ws["A1"].font.name == ws["A2"].font.name  # the header in the workbook's own font


def test_a_value_axis_starts_at_zero_unless_the_figures_really_go_below_it():
    liability = pd.DataFrame({"deferred": [1_762_915, 197_575], "recognised": [48_042, -5],
                              "closing": [10_790_447, 10_988_027]})
    # −0.05 beside 109 880.27: a trace; the axis starts at 0, not a whole step (−20 000) below it
    assert axis_floor(liability, ("deferred", "recognised", "closing")) == 0
    assert axis_floor(pd.DataFrame({"delta": [10_000, -5_000]}), ("delta",)) is None  # a real fall: the app's own scale
    assert axis_floor(pd.DataFrame({"delta": [0, -5]}), ("delta",)) is None
    assert axis_floor(pd.DataFrame({"delta": [0, 0]}), ("delta",)) is None


def render_pages(tmp_path, out) -> tuple[list[str], list[bytes]]:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None or shutil.which("pdftoppm") is None:
        pytest.skip("LibreOffice or poppler is not installed (apt-get install libreoffice-calc poppler-utils)")
    folder = tmp_path / "pdf"
    done = subprocess.run([office, "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    pdf = folder / out.with_suffix(".pdf").name
    texts = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.split("\f")[:-1]
    images = [subprocess.run(["pdftoppm", "-f", str(n), "-l", str(n), "-r", "40", str(pdf)], capture_output=True,
                             check=True).stdout for n in range(1, len(texts) + 1)]
    return texts, images


def dark_pixels(ppm: bytes) -> int:
    parts = ppm.split(maxsplit=4)
    width, height = int(parts[1]), int(parts[2])
    rgb = np.frombuffer(parts[4], dtype=np.uint8)[: width * height * 3].reshape(-1, 3)
    return int((rgb.max(axis=1) < 128).sum())


@pytest.mark.parametrize("face", ["price", "rebates", "year-end workbook", "ledger liability"])
def test_libreoffice_draws_every_result_sheet(tmp_path, face):
    export, tariffs = files(tmp_path)
    if face == "price":
        out = tmp_path / "priced.xlsx"
        jobs.price(export, tariffs, out=out)
    elif face == "rebates":
        out = tmp_path / "year.xlsx"
        jobs.rebates(export, tariffs, 2026, out=out)
    elif face == "year-end workbook":
        from .test_year_end_workbook import folder_with

        out = folder_with(tmp_path)
        assert year_end_run_file(out).ok
    else:
        ledger = tmp_path / "ledger.sqlite"
        jobs.price(export, tariffs, ledger=ledger)
        out = tmp_path / "liability.xlsx"
        jobs.ledger_liability(ledger, as_of=date(2026, 6, 30), out=out, tariffs=tariffs)
    texts, images = render_pages(tmp_path, out)
    assert all(dark_pixels(image) > 30 for image in images)  # every page has its figures drawn
    assert max(coloured_pixels(image) for image in images) > 300  # the chart's series are drawn
    text = "\n".join(texts)
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{4}\b", text)  # no US dates anywhere
    if face in ("price", "rebates"):
        assert "02.03.2026" in text  # the export's dates, as DD.MM.YYYY
    if face == "rebates":
        assert "ИП Иванов Иван Иванович" in text and "КН-2026-0001" in text


def test_pricing_its_own_output_again_adds_no_style_twice(tmp_path):
    import zipfile

    export, tariffs = files(tmp_path)
    first, second, third = (tmp_path / f"{n}.xlsx" for n in ("first", "second", "third"))
    jobs.price(export, tariffs, out=first)
    jobs.price(first, tariffs, out=second)
    jobs.price(second, tariffs, out=third)
    styles = [zipfile.ZipFile(p).read("xl/styles.xml") for p in (second, third)]
    assert styles[0] == styles[1]  # the header's font, fill and border, and the cell formats, found, not added
    assert openpyxl.load_workbook(third).sheetnames == openpyxl.load_workbook(first).sheetnames
