"""Accrual during the year, subscription fees and quests (SPEC §7), with hand-worked figures."""

from datetime import date

import pandas as pd
import pytest

from erp_plugin import i18n, jobs
from erp_plugin.problems import InputError

from .conftest import write_book
from .test_price import book, write_export

SCALE = [["from_turnover", "rebate_pct"], [0, 0], [1_000_000, 1], [3_000_000, 2]]


def export(tmp_path, lines):
    return write_export(tmp_path / "export.csv", lines, client_id="C2", sku="S", qty=1)


def test_accrual_projects_the_run_rate_and_names_the_gap_to_the_next_step(tmp_path):
    tariffs = write_book(tmp_path / "t.xlsx", book(RebateScale=SCALE))
    lines = [
        dict(date="2026-03-01", doc_id="D1", unit_price="400000"),
        dict(date="2026-04-10", doc_id="D2", unit_price="200000"),
        dict(date="2026-04-11", doc_id="D3", unit_price="999999"),  # after the as-of day: not counted
    ]
    result = jobs.accrue(export(tmp_path, lines), tariffs, date(2026, 4, 10))
    (row,) = result.tables["accruals"].frame.itertuples(index=False)
    # 600 000.00 in 100 days (31 + 28 + 31 + 10) → × 365 / 100 = 2 190 000.00 a year: the 1 % step;
    # liability to date 1 % of 600 000.00 = 6 000.00; projected rebate 21 900.00; the 2 % step at 3 000 000.00
    # is 810 000.00 away and would bring 2 % × 3 000 000 − 21 900 = 38 100.00 more
    assert (row.turnover_to_date, row.projected_turnover, row.rebate_pct, row.liability, row.projected_rebate) == (
        60_000_000, 219_000_000, 10_000, 600_000, 2_190_000
    )
    assert (row.next_step_from, row.gap_to_next_step, row.extra_rebate) == (300_000_000, 81_000_000, 3_810_000)


def test_accrual_as_of_a_day_before_any_line_is_a_clear_error(tmp_path):
    tariffs = write_book(tmp_path / "t.xlsx", book(RebateScale=SCALE))
    with pytest.raises(InputError) as raised:
        jobs.accrue(export(tmp_path, [dict(date="2026-03-01", doc_id="D1", unit_price="10")]), tariffs, date(2026, 2, 1))
    assert str(raised.value.problems[0]).startswith(
        "no lines dated in fiscal year 2026 (01.01.2026–31.12.2026) up to 01.02.2026; the export's lines run from"
    )


def test_fees_of_a_client_whose_trial_ends_mid_month(tmp_path):
    sheets = book(TariffChanges=[["client_id", "from_date", "tariff", "bonus_mode"], ["C3", "01.05.2026", "BASE", ""]])
    sheets["Clients"][1][3] = "15.01.2026"  # C1 PRO joined 15.01.2026: 3 trial months end on 15.04.2026
    tariffs = write_book(tmp_path / "t.xlsx", sheets)
    april = jobs.fees(tariffs, "2026-04").tables["fees"].frame
    may = jobs.fees(tariffs, "2026-05").tables["fees"].frame
    # April: C1 is still in its trial on 01.04; C3 (PRO since 2024) pays 1 000.00; C2 is on BASE
    assert list(zip(april["client_id"], april["tariff"], april["fee"])) == [("C3", "PRO", 100_000)]
    # May: C1's trial ended on 15.04; C3 moved to BASE on 01.05
    assert list(zip(may["client_id"], may["tariff"], may["fee"])) == [("C1", "PRO", 100_000)]
    with pytest.raises(InputError):
        jobs.fees(tariffs, "May 2026")


@pytest.mark.parametrize("month, settings, expected", [
    # 2025: 20 %; the fee of 1 000.00 includes it: 1 000 × 20/120 = 166.67, ex VAT 833.33
    ("2025-12", [], (200_000, 83_333, 16_667, 100_000)),
    # 2026: 22 %: 1 000 × 22/122 = 180.327… → 180.33, ex VAT 819.67
    ("2026-01", [], (220_000, 81_967, 18_033, 100_000)),
    # prices without VAT: 22 % on top, 220.00, due 1 220.00
    ("2026-01", [("prices_include_vat", "FALSE")], (220_000, 100_000, 22_000, 122_000)),
    # the Settings' own rate, 10 %: 1 000 × 10/110 = 90.909… → 90.91
    ("2026-01", [("vat_rate_pct", 10)], (100_000, 90_909, 9_091, 100_000)),
])
def test_fee_lines_carry_the_vat_of_their_month_and_post_to_the_journal(tmp_path, month, settings, expected):
    sheets = book()
    sheets["Settings"] += [list(s) for s in settings]
    tariffs = write_book(tmp_path / "t.xlsx", sheets)
    result = jobs.fees(tariffs, month)
    fees = result.tables["fees"].frame
    fees = fees[fees["client_id"] == "C3"]  # PRO since 2024: 1 000.00 a month
    assert tuple(fees.iloc[0][["vat_rate", "fee_ex_vat", "vat", "amount"]]) == expected
    journal = result.tables["journal"].frame
    journal = journal[journal["document"] == f"{month} C3"]
    first = pd.Timestamp(month + "-01")
    assert [tuple(r) for r in journal[["date", "document", "debit", "credit", "amount"]].itertuples(index=False)] == [
        (first, f"{month} C3", "62.01", "90.01.1", expected[3]), (first, f"{month} C3", "90.03", "68.02", expected[2])]
    assert journal["description"].tolist() == [f"Subscription fee of C3, tariff PRO, {month}",
                                               f"VAT on the subscription fee of C3, {month}"]
    with i18n.use("ru"):
        journal = jobs.fees(tariffs, month).tables["journal"].frame
    assert journal[journal["document"] == f"{month} C3"]["description"].tolist() == [
        f"Абонентская плата C3, тариф PRO, {month}", f"НДС с абонентской платы C3, {month}"]


def test_a_quest_completes_on_the_day_the_last_category_is_first_bought(tmp_path):
    sheets = book(RebateScale=SCALE,
                  Quests=[["quest_id", "categories", "active_from", "active_to", "reward"],
                          ["Q1", "Кабель, Щиты", "01.03.2026", "31.03.2026", 500]])
    tariffs = write_book(tmp_path / "t.xlsx", sheets)
    lines = [
        dict(date="2026-03-02", doc_id="A1", category="Кабель", unit_price="10"),
        dict(date="2026-03-10", doc_id="A2", category="щиты", unit_price="10"),  # the last category: done on 10.03
        dict(date="2026-03-20", doc_id="A3", category="Кабель", unit_price="10"),
        dict(date="2026-03-05", doc_id="B1", client_id="C1", category="Кабель", unit_price="10"),
        dict(date="2026-03-06", doc_id="B2", client_id="C1", category="Щиты", qty=-1, unit_price="10"),  # a return
        dict(date="2026-04-01", doc_id="B3", client_id="C1", category="Щиты", unit_price="10"),  # after the window
    ]
    result = jobs.rebates(export(tmp_path, lines), tariffs, 2026)
    quests = result.tables["quests"].frame
    assert list(zip(quests["client_id"], quests["quest_id"], quests["completed_on"].dt.strftime("%d.%m.%Y"),
                    quests["reward_points"])) == [("C2", "Q1", "10.03.2026", 50_000)]


def test_cli_rebates_accrue_and_fees_on_the_sample(tmp_path):
    from click.testing import CliRunner

    from erp_plugin.cli import main

    runner = CliRunner()
    done = runner.invoke(main, ["rebates", "workbooks/sales_export.xlsx", "--tariffs", "workbooks/tariffs.xlsx",
                                "--year", "2026", "--out", str(tmp_path / "year.xlsx")])
    assert done.exit_code == 0, done.output
    assert "fiscal year 2026: 01.01.2026 to 31.12.2026" in done.output
    import openpyxl

    assert openpyxl.load_workbook(tmp_path / "year.xlsx").sheetnames == [
        "TDSheet", "Rebates", "Credit notes", "Journal", "Coupons", "Card tiers", "Stamp cards", "Quests",
        "Turnover steps", "Rebate by tier", "Summary", "Warnings",  # the command's language (English here): its labels
    ]
    done = runner.invoke(main, ["accrue", "workbooks/sales_export.xlsx", "--tariffs", "workbooks/tariffs.xlsx",
                                "--as-of", "2026-06-30", "--out", str(tmp_path / "accrual.csv")])
    assert done.exit_code == 0 and (tmp_path / "accrual.accruals.csv").exists()
    done = runner.invoke(main, ["fees", "--tariffs", "workbooks/tariffs.xlsx", "--month", "2026-07",
                                "--out", str(tmp_path / "fees.xlsx")])
    assert done.exit_code == 0 and "2026-07: 4 fee lines, 84 960.00 in all" in done.output
    done = runner.invoke(main, ["rebates", "workbooks/sales_export.xlsx", "--tariffs", "workbooks/tariffs.xlsx",
                                "--year", "2030", "--out", str(tmp_path / "none.xlsx")])
    assert done.exit_code == 2 and not (tmp_path / "none.xlsx").exists()
