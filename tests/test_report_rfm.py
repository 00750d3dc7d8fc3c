"""erp-plugin report rfm: recency, frequency, monetary scored with ties, the segment grid, --save-segments."""

import csv
import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal

import numpy as np
import openpyxl
import pytest

import erp_plugin
from erp_plugin import reports
from erp_plugin.analytics.rfm import months_before, score_down, score_up

from .conftest import write_book
from .test_charts import coloured_pixels
from .test_price import book, write_export

CLIENTS = [["client_id", "tariff", "bonus_mode", "name", "segments"],
           ["A", "", "", "ООО «Альфа»", "regular"],
           ["B", "", "", "ООО «Бета»", ""],
           ["C", "", "", "ООО «Гамма»", "key_account, hibernating"],  # hibernating: an earlier run's RFM segment
           ["D", "", "", "", ""],
           ["E", "", "", "ИП Ежов", ""],
           ["F", "", "", "ООО «Фита»", "champions"]]

# BASE tariff, white marker, prepaid: nothing off, so every line's net is its gross.
LINES = [
    dict(date="2026-06-30", doc_id="D1", client_id="A", sku="S", qty=1, unit_price="1000"),
    dict(date="2026-05-01", doc_id="D2", client_id="A", sku="S", qty=1, unit_price="500"),
    dict(date="2026-03-01", doc_id="D3", client_id="A", sku="S", qty=1, unit_price="250"),
    dict(date="2026-06-30", doc_id="D4", client_id="B", sku="S", qty=2, unit_price="1000"),
    dict(date="2026-01-10", doc_id="D5", client_id="C", sku="S", qty=1, unit_price="300"),
    dict(date="2026-02-10", doc_id="D6", client_id="C", sku="S", qty=1, unit_price="300"),
    dict(date="2026-04-10", doc_id="D7", client_id="C", sku="S", qty=1, unit_price="300"),
    dict(date="2025-06-30", doc_id="D0", client_id="D", sku="S", qty=1, unit_price="5000"),  # the window's open end
    dict(date="2025-07-01", doc_id="D8", client_id="D", sku="S", qty=1, unit_price="100"),
    dict(date="2026-06-01", doc_id="D9", client_id="E", sku="S", qty=4, unit_price="100"),
    dict(date="2026-06-15", doc_id="D10", client_id="E", sku="S", qty=-1, unit_price="100"),  # a return: no sale
    dict(date="2026-05-05", doc_id="D11", client_id="F", sku="T", qty=-1, unit_price="200"),  # F's only document
]


def files(tmp_path, lines=LINES, clients=CLIENTS):
    tariffs = write_book(tmp_path / "tariffs.xlsx", book(Clients=clients))
    return write_export(tmp_path / "export.csv", lines), tariffs


def rows(table):
    return [tuple(r) for r in table.frame.itertuples(index=False)]


def test_scores_ties_and_segments_worked_by_hand(tmp_path):
    export, tariffs = files(tmp_path)
    result = reports.rfm(export, tariffs, as_of=date(2026, 6, 30))
    # Window (30.06.2025, 30.06.2026]: D0 on 30.06.2025 is outside, D8 on 01.07.2025 inside. n = 5 (F has no sale).
    # recency: A 0, B 0, C 81 (10.04 -> 30.06: 20 + 31 + 30), D 364, E 29 (E's return on 15.06 is no sale)
    #   R = 1 + 5 × (clients with strictly more days) / 5: A, B 1 + 3 = 4 (tied), E 1 + 2 = 3, C 2, D 1
    # frequency: A 3, B 1, C 3, D 1, E 1 -> F = 1 + (strictly lower): A, C 1 + 3 = 4; B, D, E 1
    # monetary: A 1 750.00, B 2 000.00, C 900.00, D 100.00, E 400.00 - 100.00 = 300.00 (returns included)
    #   M: B 5, A 4, C 3, E 2, D 1
    # segments: A R4 F4 loyal, B R4 F1 promising, C R2 F4 at_risk, D R1 F1 hibernating, E R3 F1 about_to_sleep
    assert rows(result.tables["rfm"]) == [
        ("B", "ООО «Бета»", 0, 1, 200_000, 4, 1, 5, "promising"),
        ("A", "ООО «Альфа»", 0, 3, 175_000, 4, 4, 4, "loyal"),
        ("C", "ООО «Гамма»", 81, 3, 90_000, 2, 4, 3, "at_risk"),
        ("E", "ИП Ежов", 29, 1, 30_000, 3, 1, 2, "about_to_sleep"),
        ("D", None, 364, 1, 10_000, 1, 1, 1, "hibernating"),
    ]
    assert rows(result.tables["rfm_segments"]) == [
        ("champions", 0, 0), ("loyal", 1, 175_000), ("potential_loyalist", 0, 0), ("new", 0, 0),
        ("promising", 1, 200_000), ("need_attention", 0, 0), ("about_to_sleep", 1, 30_000), ("cant_lose", 0, 0),
        ("at_risk", 1, 90_000), ("hibernating", 1, 10_000),
    ]
    # F, whose only document is a return, is left out and named at its export row (row 13: header + 11 lines);
    # pricing's own warning about that return (no sale of sku T to match it to) is reported beside it
    assert sorted(w.code for w in result.warnings) == ["price.return_unmatched", "report.no_sale"]
    (warning,) = [w for w in result.warnings if w.code == "report.no_sale"]
    assert (warning.code, warning.row, warning.severity) == ("report.no_sale", 13, "warning")
    assert "client F has no sale document" in warning.message


def test_scores_by_the_formula_with_ties():
    # F/M: 1 + ⌊5 × lower / n⌋ with n = 4: values 10, 10, 20, 30 -> lower 0, 0, 2, 3 -> 1, 1, 3, 4
    assert score_up(np.array([10, 10, 20, 30])).tolist() == [1, 1, 3, 4]
    # R: 1 + ⌊5 × more / n⌋: days 5, 5, 40, 0 -> more 1, 1, 0, 3 -> 2, 2, 1, 4
    assert score_down(np.array([5, 5, 40, 0])).tolist() == [2, 2, 1, 4]
    # a single client scores 1: nobody is strictly below it
    assert score_up(np.array([7])).tolist() == [1]
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)  # calendar months, clamped to the month's end
    assert months_before(date(2026, 6, 30), 12) == date(2025, 6, 30)


def test_outputs_csv_beside_and_xlsx_with_the_chart(tmp_path):
    export, tariffs = files(tmp_path)
    out = tmp_path / "rfm.csv"
    written = reports.rfm(export, tariffs, out, as_of=date(2026, 6, 30)).written
    assert [p.name for p in written] == ["rfm.csv", "rfm.rfm_segments.csv", "rfm.warnings.csv"]
    with out.open(encoding="utf-8-sig") as handle:
        first = next(csv.DictReader(handle))
    assert (first["client_id"], first["monetary"], first["segment"]) == ("B", "2000.00", "promising")
    xlsx = tmp_path / "rfm.xlsx"
    reports.rfm(export, tariffs, xlsx, as_of=date(2026, 6, 30))
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["Rfm", "RfmSegments", "Warnings"]
    assert [c.value for c in wb["Rfm"][1]][:4] == ["client_id", "name", "inn", "recency_days"]  # the INN beside the name
    assert wb["Rfm"]["F2"].value == 2000 and wb["Rfm"]["F2"].number_format == "#,##0.00"
    (chart,) = wb["RfmSegments"]._charts
    assert chart.series[0].val.numRef.f == "'RfmSegments'!$C$2:$C$11"  # monetary as bars


def test_save_segments_replaces_the_rfm_one_and_keeps_the_others(tmp_path):
    export, tariffs = files(tmp_path)
    saved = tmp_path / "tariffs_saved.xlsx"
    shutil.copy(tariffs, saved)
    result = reports.rfm(export, tariffs, as_of=date(2026, 6, 30), save_segments=saved)
    assert result.segments_saved == 6  # A, B, C, D, E get theirs; F loses its stale champions
    clients = erp_plugin.load_tariffs(saved).clients
    assert clients["A"].segments == ("regular", "loyal")
    assert clients["C"].segments == ("key_account", "at_risk")
    assert clients["F"].segments == ()
    again = tmp_path / "again.xlsx"
    shutil.copy(saved, again)
    reports.rfm(export, tariffs, as_of=date(2026, 6, 30), save_segments=again)  # a second run changes nothing
    assert erp_plugin.load_tariffs(again).clients["C"].segments == ("key_account", "at_risk")


def test_the_api_gives_exact_decimals_from_a_dataframe(tmp_path):
    import pandas as pd

    _, tariffs = files(tmp_path)
    frame = pd.DataFrame([{k: v for k, v in line.items()} for line in LINES])
    result = erp_plugin.report_rfm(frame, tariffs, as_of="2026-06-30")
    money = result.tables["rfm"]["monetary"]
    assert money.tolist()[:2] == [Decimal("2000.00"), Decimal("1750.00")] and money.sum() == Decimal("5050.00")


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "erp_plugin", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


@pytest.mark.parametrize("case", ["as_of_before_every_line", "window_without_sales"])
def test_bad_input_stops_with_its_place_and_writes_nothing(tmp_path, case):
    if case == "as_of_before_every_line":
        export, tariffs = files(tmp_path)
        extra, expected = ["--as-of", "2025-01-01"], "--as-of 01.01.2025 is before every line"
    else:  # the last 3 months to the return on 20.06 hold no sale: the sale was on 10.01
        export, tariffs = files(tmp_path, [
            dict(date="2026-01-10", doc_id="S1", client_id="A", sku="S", qty=1, unit_price="100"),
            dict(date="2026-06-20", doc_id="R1", client_id="A", sku="S", qty=-1, unit_price="100")])
        extra, expected = ["--months", "3"], "no sale document (net above 0) in 21.03.2026–20.06.2026"
    out = tmp_path / "rfm.xlsx"
    done = run("report", "rfm", export, "--tariffs", tariffs, "--out", out, *extra, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_libreoffice_draws_the_rfm_chart(tmp_path):
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None or shutil.which("pdftoppm") is None:
        pytest.skip("LibreOffice or poppler is not installed (apt-get install libreoffice-calc poppler-utils)")
    export, tariffs = files(tmp_path)
    out = tmp_path / "rfm.xlsx"
    done = run("report", "rfm", export, "--tariffs", tariffs, "--out", out, "--as-of", "2026-06-30", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    converted = subprocess.run([office, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(out)],
                               capture_output=True, text=True, timeout=300)
    assert converted.returncode == 0, converted.stderr
    pdf = tmp_path / "pdf" / "rfm.pdf"
    pages = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.split("\f")
    chart_page = next(i for i, text in enumerate(pages, 1) if "Clients and monetary by RFM segment" in text)
    first_page = next(i for i, text in enumerate(pages, 1) if "Recency days" in text)
    assert "ООО «Альфа»" in pages[first_page - 1]  # the table reads: names, figures

    def render(page: int) -> bytes:
        return subprocess.run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", "40", str(pdf)],
                              capture_output=True, check=True).stdout

    assert coloured_pixels(render(chart_page)) > 300  # the bars and the clients line are drawn
