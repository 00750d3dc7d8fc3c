"""The three reports as the README runs them, on the shipped sample workbooks/sales_history.xlsx.

What is asserted is what the history was made to hold (erp_plugin/output/sample_history.py) and what
can be read off the export itself, not figures the report code produced: every client with a sale
document is in the churn table, the return-only client is left out with its warning, the model is
fitted away from its bounds, and the five birthdays placed in the 14 days after the last date
(18.12.2026, across the year end) are listed, the invalid phone warned and kept out of the SMS file.
"""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from erp_plugin.analytics.bgnbd import LOG_BOUND

ROOT = Path(__file__).resolve().parent.parent
HISTORY = ROOT / "workbooks" / "sales_history.xlsx"
TARIFFS = ROOT / "workbooks" / "tariffs.xlsx"
LAST_DAY = date(2026, 12, 18)
RETURN_ONLY = "00-000140"


def report(kind: str, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "erp_plugin", "report", kind, "workbooks/sales_history.xlsx",
                           "--tariffs", "workbooks/tariffs.xlsx", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)


def sheets(path: Path) -> dict[str, list[dict]]:
    """The workbook's tables by their canonical names, each row by its columns' canonical names (the
    command line writes the English labels: the tests run in English)."""
    wb = openpyxl.load_workbook(path, read_only=True)
    tables = {}
    names, columns = _canonical("sheet"), _canonical("column")
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        header = [columns.get(title, title) for title in rows[0]]
        tables[names.get(ws.title, ws.title)] = [dict(zip(header, row)) for row in rows[1:]]
    return tables


def _canonical(context: str) -> dict[str, str]:
    """English label -> canonical name, for a label context of the English catalog (``sheet``, ``column``)."""
    from erp_plugin import i18n

    entries = i18n.catalog("en")._catalog  # gettext keeps a msgctxt'd entry as "context\x04msgid"
    return {label: key.split("\x04", 1)[1] for key, label in entries.items()
            if isinstance(key, str) and key.startswith(context + "\x04")}


@pytest.fixture(scope="module")
def export_documents() -> list[tuple[date, str, str]]:
    """(day, client_id, document) of every line of the sample, read from the 1C layout by hand."""
    ws = openpyxl.load_workbook(HISTORY, read_only=True).active
    rows = list(ws.iter_rows(min_row=6, values_only=True))
    assert rows[-1][0] == "Итого"
    documents = []
    for day, doc, _n, client_id, *_rest in rows[:-1]:
        day = day.date() if isinstance(day, datetime) else datetime.strptime(day, "%d.%m.%Y").date()
        documents.append((day, client_id, doc))
    return documents


def sold(documents, after: date | None = None) -> set[str]:
    """Clients with a sale document ('Реализация…': positive quantities, so a net above 0) after ``after``."""
    return {c for day, c, doc in documents if doc.startswith("Реализация") and (after is None or day > after)}


def test_the_sample_is_a_two_year_history_of_40_clients(export_documents):
    days = [day for day, _c, _d in export_documents]
    assert (min(days), max(days)) == (date(2025, 1, 1), LAST_DAY)
    assert len({c for _d, c, _doc in export_documents}) == 40
    assert [doc for _d, c, doc in export_documents if c == RETURN_ONLY][0].startswith("Возврат")
    assert sold(export_documents) == {c for _d, c, _doc in export_documents} - {RETURN_ONLY}


def test_churn_runs_on_the_sample_with_every_buying_client_and_a_fit_inside_its_bounds(tmp_path, export_documents):
    out = tmp_path / "churn.xlsx"
    done = report("churn", out)
    assert done.returncode == 0, done.stdout + done.stderr
    tables = sheets(out)
    churn = {row["client_id"]: row for row in tables["churn"]}
    assert set(churn) == sold(export_documents) and len(churn) == 39
    for name, rows in tables.items():  # no NaN, no infinity, no blank figure anywhere
        for row in rows:
            for column, value in row.items():
                assert not (isinstance(value, float) and not math.isfinite(value)), (name, column, row)
                assert not (isinstance(value, str) and value.casefold() in ("nan", "inf", "-inf")), (name, column, row)
                if name in ("Churn", "ChurnModel", "ChurnBands"):
                    assert value is not None, (name, column, row)
    (model,) = tables["churn_model"]
    for parameter in ("r", "alpha", "a", "b"):  # fitted within e^±LOG_BOUND, not pushed to a limit
        assert abs(math.log(model[parameter])) < LOG_BOUND - 1, (parameter, model[parameter])
    assert model["clients"] == 39
    warnings = tables["warnings"]
    assert not any(w["code"] == "churn.limit" for w in warnings)
    (left_out,) = [w for w in warnings if w["code"] == "report.no_sale"]
    assert RETURN_ONLY in left_out["message"] and left_out["field"] == "client_id"
    # 00-000139 bought once, on 16.06.2025: x 0, t_x 0, T the weeks from then to 18.12.2026
    once = churn["00-000139"]
    assert (once["x"], once["t_x"]) == (0, 0) and once["T"] == pytest.approx((LAST_DAY - date(2025, 6, 16)).days / 7)
    # a spread of p_alive: buyers on the last days are likely alive, one who bought every ~10 days until
    # 30.09.2025 and never since is likely gone, and some clients sit between
    alive = {c: row["p_alive"] for c, row in churn.items()}
    assert alive["00-000114"] > 0.9 and alive["00-000120"] < 0.1
    assert any(0.2 < p < 0.8 for p in alive.values())
    assert "BG/NBD over 39 clients" in done.stdout


def test_rfm_and_birthdays_run_on_the_sample(tmp_path, export_documents):
    out = tmp_path / "rfm.xlsx"
    done = report("rfm", out)
    assert done.returncode == 0, done.stdout + done.stderr
    tables = sheets(out)
    window = sold(export_documents, after=date(2025, 12, 18))  # the 12 months to 18.12.2026
    assert {row["client_id"] for row in tables["rfm"]} == window
    assert sum(row["clients"] for row in tables["rfm_segments"]) == len(window)
    assert sum(row["clients"] > 0 for row in tables["rfm_segments"]) >= 7  # most of the ten segments filled

    out = tmp_path / "birthdays.xlsx"
    done = report("birthdays", out)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = sheets(out)["birthdays"]
    # placed by hand in [18.12.2026, 01.01.2027]: a date on D itself (born 1983), 24.12.1979 as text, 29.12 and
    # 30.12 without a year, 01.01.1990 as text on the window's last day; 17.12 (00-000108) and 02.01
    # (00-000133) are a day outside
    assert [(r["client_id"], r["date"].date(), r["age"]) for r in rows] == [
        ("00-000110", date(2026, 12, 18), 43), ("00-000115", date(2026, 12, 24), 47),
        ("00-000121", date(2026, 12, 29), None), ("00-000131", date(2026, 12, 30), None),
        ("00-000127", date(2027, 1, 1), 37)]
    assert "Clients!K32" in done.stderr and "'+7 485 12-34'" in done.stderr  # warnings go to stderr
    with (tmp_path / "birthdays.sms.csv").open(encoding="utf-8") as handle:  # the invalid number is left out
        phones = [row["phone"] for row in csv.DictReader(handle)]
    assert phones == ["+73434445566", "+74958889900", "+79125056070", "+74951212334"]
