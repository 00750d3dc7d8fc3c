"""The charted overview tables (figures by hand) and the native charts drawn beside them in .xlsx outputs."""

import shutil
import subprocess
import zipfile

import numpy as np
import openpyxl
import pytest

from erp_plugin import jobs
from erp_plugin.excel.year_end import run_file as year_end_run_file
from erp_plugin.output.charts import charts_of

from .conftest import write_book
from .test_price import book, price, write_export

SCALE = [["from_turnover", "rebate_pct"], [0, 0], [1_000_000, 1], [3_000_000, 2], [10_000_000, 3], [50_000_000, 5]]


def rows(table):
    return [tuple(r) for r in table.frame.itertuples(index=False)]


def test_discount_by_marker_in_the_markers_order_with_its_share_of_gross(tmp_path):
    # C2 is on BASE in discount mode (red 5 %, green 1 %); C3 is on PRO in half mode: red 8 %, half off the price,
    # half as points. Prepaid, no reservation: no option weight and no reservation cost.
    result = price(tmp_path, [
        dict(doc_id="D1", client_id="C2", sku="A", qty=1, unit_price="1000", marker="red"),    # discount 50.00
        dict(doc_id="D1", client_id="C2", sku="B", qty=1, unit_price="100", marker="red"),     # discount 5.00
        dict(doc_id="D1", client_id="C2", sku="C", qty=1, unit_price="300", marker="green"),   # discount 3.00
        dict(doc_id="D1", client_id="C2", sku="D", qty=1, unit_price="200", marker="white"),
        dict(doc_id="D2", client_id="C3", sku="A", qty=1, unit_price="1000", marker="red"),    # 40.00 off, 40.00 bonus
    ])
    table = result.tables["markers"]
    assert list(table.frame.columns) == ["marker", "lines", "gross", "price_discount", "bonus_accrued",
                                         "reservation_cost", "concession_pct"]
    assert rows(table) == [
        ("white", 1, 20_000, 0, 0, 0, 0),
        ("green", 1, 30_000, 300, 0, 0, 1_0000),           # 3.00 / 300.00 = 1 %
        ("red", 3, 210_000, 9_500, 4_000, 0, 6_4286),      # 135.00 / 2 100.00 = 6.428571… % → 6.4286 %
    ]
    assert [c.title for c in charts_of(table)] == ["Discount by marker"]  # a msgid: the writers translate it


def year_end(tmp_path, out=None, export=None):
    tariffs = write_book(tmp_path / "tariffs.xlsx", book(RebateScale=SCALE))
    lines = [dict(date="2026-03-02", doc_id="D1", client_id="C2", sku="S", qty=1, unit_price="3500000"),
             dict(date="2026-04-02", doc_id="D2", client_id="C1", sku="S", qty=1, unit_price="500000")]
    export = export or write_export(tmp_path / "export.csv", lines)
    return jobs.rebates(export, tariffs, 2026, out=out)


def test_the_biggest_clients_against_the_steps_up_to_the_next_one_reachable(tmp_path):
    result = year_end(tmp_path)
    table = result.tables["turnover_steps"]
    # C2: 3 500 000.00 reaches 2 % (70 000.00); C1 (white, prepaid: net = gross) 500 000.00 reaches nothing.
    # Steps: 1 %, 2 % and 3 % (the next one above the biggest turnover); 5 % from 50 000 000 is left out.
    assert list(table.frame.columns) == ["client_id", "turnover", "rebate_pct", "rebate", "1 % from", "2 % from",
                                         "3 % from"]
    assert rows(table) == [
        ("C2", 350_000_000, 2_0000, 7_000_000, 100_000_000, 300_000_000, 1_000_000_000),
        ("C1", 50_000_000, 0, 0, 100_000_000, 300_000_000, 1_000_000_000),
    ]
    chart = charts_of(table)[0]
    assert (chart.categories, chart.bars, chart.lines) == ("client_id", ("turnover",), ("1 % from", "2 % from", "3 % from"))
    # tiers by turnover: gold from 1 000 000.00, so C1 stays on base
    assert rows(result.tables["rebate_by_tier"]) == [("base", 1, 50_000_000, 0), ("gold", 1, 350_000_000, 7_000_000)]


def chart_refs(chart):
    """(title cell, values) of each series, bars first, then the lines drawn over them."""
    series = list(chart.series) + [s for over in getattr(chart, "_charts", [])[1:] for s in over.series]
    return [(s.tx.strRef.f, s.val.numRef.f) for s in series], chart.series[0].cat.numRef or chart.series[0].cat.strRef


def test_the_charts_are_native_and_read_their_own_table_and_a_rerun_replaces_them(tmp_path):
    out = tmp_path / "year.xlsx"
    year_end(tmp_path, out)
    wb = openpyxl.load_workbook(out)
    (steps,) = wb["TurnoverSteps"]._charts
    series, categories = chart_refs(steps)
    assert series[0] == ("'TurnoverSteps'!B1", "'TurnoverSteps'!$B$2:$B$3")
    assert categories.f == "'TurnoverSteps'!$A$2:$A$3"
    (tiers,) = wb["RebateByTier"]._charts
    assert chart_refs(tiers)[0] == [("'RebateByTier'!D1", "'RebateByTier'!$D$2:$D$3")]
    with zipfile.ZipFile(out) as package:
        xml = package.read("xl/charts/chart_erp" + _sheet_number(package, "TurnoverSteps") + "_1.xml").decode()
    # the three step columns E:G drawn as lines over the turnover bars
    assert "<lineChart>" in xml and all(f"'TurnoverSteps'!${c}$2:${c}$3" in xml for c in "EFG")
    again = tmp_path / "again.xlsx"  # the output priced again: its result sheets and charts are replaced, not doubled
    source = tmp_path / "year_source.xlsx"
    shutil.copy(out, source)
    year_end(tmp_path, again, export=source)
    with zipfile.ZipFile(again) as package:
        charts = [n for n in package.namelist() if n.startswith("xl/charts/")]
    assert len(charts) == 2 and openpyxl.load_workbook(again).sheetnames.count("TurnoverSteps") == 1


def _sheet_number(package, title):
    workbook = package.read("xl/workbook.xml").decode()
    rels = package.read("xl/_rels/workbook.xml.rels").decode()
    import re

    rid = re.search(rf'<sheet name="{title}" sheetId="\d+" \w+:id="(rId\d+)"', workbook).group(1)
    return re.search(rf'Id="{rid}"[^>]*Target="worksheets/sheet(\d+).xml"', rels).group(1)


def test_the_liability_by_month_is_charted(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    tariffs = write_book(tmp_path / "tariffs.xlsx", book())
    export = write_export(tmp_path / "export.csv", [
        dict(date="2026-03-02", doc_id="D1", client_id="C1", sku="S", qty=1, unit_price="1000", marker="red")])
    jobs.price(export, tariffs, ledger=ledger)
    out = tmp_path / "liability.xlsx"
    jobs.ledger_liability(ledger, as_of=__import__("datetime").date(2026, 5, 31), out=out, tariffs=tariffs)
    (chart,) = openpyxl.load_workbook(out)["Liability"]._charts
    series, categories = chart_refs(chart)
    assert [s[0] for s in series] == ["'Liability'!C1", "'Liability'!D1", "'Liability'!E1"]  # deferred, recognised, closing
    assert categories.f.startswith("'Liability'!$A$2:$A$")
    assert chart.series[0].cat.strRef is not None  # the periods are text: Excel would number them 1, 2, 3… otherwise
    assert chart.y_axis.scaling.min == 0  # deferred, recognised and closing all ≥ 0: the axis starts at 0


def coloured_pixels(ppm: bytes) -> int:
    """Pixels of a rendered page whose colour is far from grey: chart series, not text or grid lines."""
    parts = ppm.split(maxsplit=4)
    width, height = int(parts[1]), int(parts[2])
    rgb = np.frombuffer(parts[4], dtype=np.uint8)[: width * height * 3].reshape(-1, 3).astype(int)
    return int(((rgb.max(axis=1) - rgb.min(axis=1)) > 80).sum())


@pytest.mark.parametrize("face", ["rebates --out", "year-end workbook"])
def test_libreoffice_draws_the_charts(tmp_path, face):
    """Both chart writers: the streaming one (a command's .xlsx output) and openpyxl (the year-end workbook)."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None or shutil.which("pdftoppm") is None:
        pytest.skip("LibreOffice or poppler is not installed (apt-get install libreoffice-calc poppler-utils); "
                    ".ci/run installs them")
    if face == "rebates --out":
        out = tmp_path / "year.xlsx"
        year_end(tmp_path, out)
    else:
        from .test_year_end_workbook import folder_with

        out = folder_with(tmp_path)
        assert year_end_run_file(out).ok
    done = subprocess.run([office, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    pdf = tmp_path / "pdf" / out.with_suffix(".pdf").name
    pages = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.split("\f")
    chart_page = next(i for i, text in enumerate(pages, 1) if "Turnover by client against the rebate steps" in text)
    summary_page = next(i for i, text in enumerate(pages, 1) if "clients_with_rebate" in text)

    def render(page: int) -> bytes:
        return subprocess.run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", "40", str(pdf)],
                              capture_output=True, check=True).stdout

    assert coloured_pixels(render(chart_page)) > 300  # the bars and step lines are drawn
    assert coloured_pixels(render(summary_page)) == 0  # a page of figures alone has none
