"""erp-plugin report churn: the BG/NBD model reproduces the paper on CDNOW, recovers simulated parameters,
and is applied to each client's sale days."""

import csv
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from erp_plugin import reports
from erp_plugin.analytics import bgnbd

from .conftest import write_book
from .test_price import book, write_export

CDNOW = Path(__file__).parent / "data" / "cdnow_customers_summary.csv"  # see tests/data/README.md


def test_cdnow_reproduces_the_paper():
    # Fader, Hardie & Lee (2005), the CDNOW sample: 2 357 customers over 39 weeks;
    # the paper's estimates r 0.243, α 4.414, a 0.793, b 2.426 and log-likelihood −9 582.4
    sample = pd.read_csv(CDNOW)
    assert len(sample) == 2357
    model = bgnbd.fit(sample["frequency"], sample["recency"], sample["T"]).model
    assert (round(model.r, 3), round(model.alpha, 3), round(model.a, 3), round(model.b, 3)) == (0.243, 4.414, 0.793,
                                                                                                  2.426)
    assert round(model.log_likelihood, 1) == -9582.4
    # the paper's equation 10 as printed, with scipy's 2F1, against the transformed one the product uses
    from scipy.special import hyp2f1

    r, alpha, a, b = model.parameters
    x, t_x, T, t = 2.0, 30.43, 38.86, 39.0
    printed = ((a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x)
               * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t)))
               / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)))
    assert bgnbd.expected_purchases(model, t, [x], [t_x], [T])[0] == pytest.approx(printed, rel=1e-12)
    assert round(printed, 3) == 1.226


def simulate(r, alpha, a, b, n, rng):
    """x, t_x, T drawn from the model itself: λ ~ gamma(r, 1/α), p ~ beta(a, b); from the first purchase at 0
    each client buys after exponential waits while alive, and drops out after each repeat purchase with
    probability p. All clients move one purchase at a time."""
    rate, drop = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    T = rng.uniform(20, 60, n)
    x, t_x, now = np.zeros(n), np.zeros(n), np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        now[alive] += rng.exponential(1 / rate[alive])
        alive &= now <= T
        x[alive] += 1
        t_x[alive] = now[alive]
        alive &= rng.random(n) >= drop
    return x, t_x, T


def test_known_parameters_are_recovered_from_simulated_histories():
    rng = np.random.default_rng(20260630)
    truth = (0.6, 5.0, 0.8, 2.5)
    x, t_x, T = simulate(*truth, 30_000, rng)
    model = bgnbd.fit(x, t_x, T).model
    for fitted, true in zip(model.parameters, truth):
        assert fitted == pytest.approx(true, rel=0.15)
    # and the likelihood is higher at the fit than at the truth: it is the maximum
    assert model.log_likelihood >= bgnbd.log_likelihood(truth, x, t_x, T).sum()


def client_lines(repeat_buyers: int):
    """K01 has two sale documents on 05.01 (one purchase day), another on 02.02 and a return on 02.03;
    K02..K(n) buy on two to four days; Z buys once, on the last day; R only returns."""
    lines = [
        dict(date="2026-01-05", doc_id="A1", client_id="K01", sku="S", qty=1, unit_price="100"),
        dict(date="2026-01-05", doc_id="A2", client_id="K01", sku="S", qty=1, unit_price="100"),
        dict(date="2026-02-02", doc_id="A3", client_id="K01", sku="S", qty=1, unit_price="100"),
        dict(date="2026-03-02", doc_id="A4", client_id="K01", sku="S", qty=-1, unit_price="100"),
    ]
    start = date(2026, 1, 5)
    for k in range(2, repeat_buyers + 1):
        for j in range(1 + k % 3 + 1):
            day = start + timedelta(days=5 * k + 9 * j * (1 + k % 3))  # all before 29.06
            lines.append(dict(date=day.isoformat(), doc_id=f"B{k}-{j}", client_id=f"K{k:02}", sku="S", qty=1,
                              unit_price="50"))
    lines.append(dict(date="2026-06-29", doc_id="Z1", client_id="Z", sku="S", qty=1, unit_price="70"))
    lines.append(dict(date="2026-03-03", doc_id="R1", client_id="R", sku="Q", qty=-1, unit_price="70"))
    return lines


def test_each_client_history_in_weeks_and_the_tables(tmp_path):
    tariffs = write_book(tmp_path / "tariffs.xlsx", book())
    export = write_export(tmp_path / "export.csv", client_lines(12))
    out = tmp_path / "churn.xlsx"
    result = reports.churn(export, tariffs, out)
    assert result.as_of == date(2026, 6, 29)  # the export's last date
    frame = result.tables["churn"].frame.set_index("client_id")
    # K01: sale days 05.01 and 02.02 (the two documents of 05.01 are one day; the return is no sale):
    # x = 1, t_x = 28 / 7 = 4 weeks, T = 175 / 7 = 25 weeks (05.01 -> 29.06)
    assert (frame.loc["K01", "x"], frame.loc["K01", "t_x"], frame.loc["K01", "T"]) == (1, 4.0, 25.0)
    # Z bought once, on the last day: x 0, t_x 0, T 0, and is alive for sure
    assert (frame.loc["Z", "x"], frame.loc["Z", "T"], frame.loc["Z", "p_alive"], frame.loc["Z", "churn_risk"]) == \
        (0, 0.0, 1.0, 0.0)
    assert "R" not in frame.index and any(w.code == "report.no_sale" and "client R" in w.message
                                          for w in result.warnings)
    numbers = frame[["t_x", "T", "p_alive", "expected_purchases_90d", "churn_risk"]].to_numpy()
    assert np.isfinite(numbers).all() and ((frame["p_alive"] >= 0) & (frame["p_alive"] <= 1)).all()
    assert (frame["p_alive"] + frame["churn_risk"] == 1.0).all()
    model = result.tables["churn_model"].frame.iloc[0]
    assert model["clients"] == 13 and model["log_likelihood"] < 0
    assert result.tables["churn_bands"].frame["clients"].sum() == 13
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Churn", "ChurnModel", "ChurnBands", "ChurnAtRisk", "Warnings"]
    assert isinstance(wb["ChurnModel"]["A2"].value, float) and wb["ChurnModel"]["A2"].number_format == "0.0000"
    assert len(wb["ChurnBands"]._charts) == 1


def test_csv_keeps_the_parameters_at_full_precision(tmp_path):
    tariffs = write_book(tmp_path / "tariffs.xlsx", book())
    export = write_export(tmp_path / "export.csv", client_lines(12))
    result = reports.churn(export, tariffs, tmp_path / "churn.csv")
    with (tmp_path / "churn.churn_model.csv").open(encoding="utf-8-sig") as handle:
        written = next(csv.DictReader(handle))
    model = result.tables["churn_model"].frame.iloc[0]
    assert float(written["r"]) == model["r"] and float(written["log_likelihood"]) == model["log_likelihood"]


def test_too_few_repeat_buyers_stops_and_writes_nothing(tmp_path):
    tariffs = write_book(tmp_path / "tariffs.xlsx", book())
    export = write_export(tmp_path / "export.csv", client_lines(9))  # K01..K09: 9 repeat buyers
    out = tmp_path / "churn.xlsx"
    done = subprocess.run([sys.executable, "-m", "erp_plugin", "report", "churn", str(export), "--tariffs", str(tariffs),
                           "--out", str(out)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert "only 9 clients bought on more than one day" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_too_few_repeat_buyers_is_said_in_russian(tmp_path):
    tariffs = write_book(tmp_path / "tariffs.xlsx", book())
    export = write_export(tmp_path / "export.csv", client_lines(9))
    done = subprocess.run([sys.executable, "-m", "erp_plugin", "report", "churn", str(export), "--tariffs", str(tariffs),
                           "--out", str(tmp_path / "churn.xlsx"), "--lang", "ru"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 2
    assert "клиентов, покупавших больше чем в один день: только 9; модели оттока нужно не меньше" in done.stderr
