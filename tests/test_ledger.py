"""The bonus ledger on a real SQLite file (SPEC §8), every figure worked out by hand.

The tariff workbook is the pricing tests' (tests/test_price.py ``book``): client C1 is
PRO in bonus mode (every kit discount becomes points), red gives 8 %, and 30
money-back days weigh 0.5 %: red 1 250.00 earns 100.00 points, red 1 000.00 with 30
money-back days 75.00 points (7.5 %), pending for 30 days. Points expire after 12
months (the default bonus_expiry_months).
"""

import csv
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from erp_plugin import i18n, jobs
from erp_plugin.ledger.store import balances, open_ledger
from erp_plugin.problems import InputError

from .conftest import write_book
from .test_price import book

HEADERS = ["date", "doc_id", "line_no", "client_id", "sku", "qty", "unit_price", "marker", "payment", "moneyback_days",
           "bonus_paid", "base_doc", "coupon", "category"]

EARN_100 = dict(date="2026-03-02", doc_id="D1", client_id="C1", sku="A", qty=1, unit_price="1250", marker="red")
EARN_75 = dict(date="2026-03-02", doc_id="D2", client_id="C1", sku="B", qty=1, unit_price="1000", marker="red",
               moneyback_days=30)  # pending until 01.04.2026


def spend(day: str, doc: str, points: str, **extra) -> dict:
    """A white line of 1 000.00 (no points) paid partly with bonus points."""
    return {**dict(date=day, doc_id=doc, client_id="C1", sku="W", qty=1, unit_price="1000", bonus_paid=points), **extra}


def export(path: Path, lines: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, HEADERS)
        writer.writeheader()
        for line in lines:
            writer.writerow({"marker": "white", "payment": "prepaid", **line})
    return path


@pytest.fixture
def tariffs(tmp_path):
    return write_book(tmp_path / "tariffs.xlsx", book())


def run(tmp_path, tariffs, lines, name="export", **options):
    return jobs.price(export(tmp_path / f"{name}.csv", lines), tariffs, ledger=tmp_path / "ledger.sqlite", **options)


def balance(tmp_path, day: str) -> list:
    table = balances(open_ledger(tmp_path / "ledger.sqlite"), date.fromisoformat(day))
    return table[["client_id", "available", "pending"]].values.tolist()


def count(tmp_path, table: str) -> int:
    with sqlite3.connect(tmp_path / "ledger.sqlite") as db:
        return db.execute(f"select count(*) from {table}").fetchone()[0]


# --- line identity --------------------------------------------------------------------------------------------

def test_posting_twice_adds_nothing_and_balances_follow_the_money_back_window(tmp_path, tariffs):
    lines = [EARN_100, EARN_75, spend("2026-03-05", "D3", "40")]
    first = run(tmp_path, tariffs, lines)
    assert (first.posted.added, first.posted.unchanged, first.posted.entries) == (3, 0, 3)  # 2 lots, 1 redemption
    again = run(tmp_path, tariffs, lines)
    assert (again.posted.added, again.posted.unchanged, again.posted.entries) == (0, 3, 0)
    assert again.lines["bonus_redeemed"].tolist() == [0, 0, 4_000]  # its own redemption is not counted twice
    with sqlite3.connect(tmp_path / "ledger.sqlite") as db:
        assert db.execute("select version_num from alembic_version").fetchone() == ("0003",)
    # 05.03: 100.00 − 40.00 available, 75.00 pending; from 01.04 all 135.00 available
    assert balance(tmp_path, "2026-03-05") == [["C1", 6_000, 7_500]]
    assert balance(tmp_path, "2026-03-31") == [["C1", 6_000, 7_500]]
    assert balance(tmp_path, "2026-04-01") == [["C1", 13_500, 0]]
    assert balance(tmp_path, "2026-03-01") == []  # nothing booked yet


def test_a_line_posted_with_other_figures_is_a_conflict_in_roubles_and_nothing_is_posted(tmp_path, tariffs):
    run(tmp_path, tariffs, [EARN_100])
    changed = [dict(EARN_100, unit_price="2500"), dict(EARN_75, doc_id="D9")]
    with pytest.raises(InputError) as raised:
        run(tmp_path, tariffs, changed, out=tmp_path / "out.csv")
    assert [str(p) for p in raised.value.problems] == [
        "export row 2, field doc_id: this line was posted before with other figures (client C1, A × 1 on 02.03.2026, "
        "gross 1,250.00, net 1,250.00, bonus 100.00, paid with bonus 0.00); now client C1, A × 1 on 02.03.2026, "
        "gross 2,500.00, net 2,500.00, bonus 200.00, paid with bonus 0.00; the ledger keeps what was posted: correct "
        "the export, or post corrections as new lines"
    ]
    assert (count(tmp_path, "lines"), count(tmp_path, "entries"), count(tmp_path, "runs")) == (1, 1, 1)  # D9 neither
    assert not (tmp_path / "out.csv").exists()


def test_a_new_years_document_numbers_start_again_and_are_other_documents(tmp_path, tariffs):
    # 1C numbers documents afresh each year: 0001 line 1 of 2025 and 0001 line 1 of 2026 are two lines
    run(tmp_path, tariffs, [dict(EARN_100, date="2025-12-30", doc_id="0001", line_no=1)], "2025")
    second = run(tmp_path, tariffs, [dict(EARN_100, date="2026-01-05", doc_id="0001", line_no=1, client_id="C3",
                                          unit_price="500")], "2026")
    assert (second.posted.added, second.posted.unchanged) == (1, 0)
    assert count(tmp_path, "lines") == 2


def test_the_same_line_twice_in_one_export_is_an_input_error_naming_both_rows(tmp_path, tariffs):
    lines = [dict(EARN_100, line_no=1), EARN_75, dict(EARN_100, line_no=1, unit_price="10")]
    with pytest.raises(InputError) as raised:
        run(tmp_path, tariffs, lines, out=tmp_path / "out.csv")
    assert [str(p) for p in raised.value.problems] == [
        "export row 4, field doc_id: document D1 of 2026, line 1 is also on export row 2: each line of a document "
        "must appear once (give line_no, or remove the repeated line)"
    ]
    assert not (tmp_path / "ledger.sqlite").exists() and not (tmp_path / "out.csv").exists()  # a new ledger: none made


# --- lots: money-back windows, FIFO, expiry -----------------------------------------------------------------------

def test_expired_points_cannot_be_spent_inside_one_export_nor_split_over_two(tmp_path, tariffs):
    earned = dict(EARN_100, date="2025-01-10")  # 100.00 points, expiring on 10.01.2026
    late = spend("2026-03-01", "X1", "75")
    with pytest.raises(InputError) as raised:
        jobs.price(export(tmp_path / "one.csv", [earned, late]), tariffs)
    assert "available 0.00" in str(raised.value.problems[0])
    run(tmp_path, tariffs, [earned], "2025")
    with pytest.raises(InputError) as raised:
        run(tmp_path, tariffs, [late], "2026")
    assert "available 0.00" in str(raised.value.problems[0])
    assert balance(tmp_path, "2026-03-01") == [["C1", 0, 0]]
    # the day before expiry they can be spent
    assert run(tmp_path, tariffs, [spend("2026-01-09", "X0", "75")], "jan").lines["bonus_redeemed"].tolist() == [7_500]


def test_spending_takes_the_oldest_lot_first_and_the_rest_expires(tmp_path, tariffs):
    lines = [
        dict(EARN_100, date="2025-01-10"),  # lot 1: 100.00, expires 10.01.2026
        spend("2025-03-01", "X1", "30"),  # from lot 1: 70.00 left in it
        dict(EARN_100, date="2025-06-01", doc_id="D5"),  # lot 2: 100.00, expires 01.06.2026
        spend("2026-02-01", "X2", "100"),  # lot 1 expired on 10.01 (70.00): lot 2 pays
    ]
    run(tmp_path, tariffs, lines)
    assert balance(tmp_path, "2026-01-09") == [["C1", 17_000, 0]]
    assert balance(tmp_path, "2026-01-10") == [["C1", 10_000, 0]]  # 200 − 30 − 70 expired
    assert balance(tmp_path, "2026-06-01") == [["C1", 0, 0]]  # lot 2 was spent: nothing more expires
    history = jobs.ledger_history(tmp_path / "ledger.sqlite", "C1", as_of=date(2026, 12, 31)).tables["history"].frame
    assert [(str(d), k, a) for d, k, a in history[["booked_on", "kind", "amount"]].values.tolist()] == [
        ("2025-01-10", "accrual", 10_000), ("2025-03-01", "redemption", -3_000), ("2025-06-01", "accrual", 10_000),
        ("2026-01-10", "expiry", -7_000), ("2026-02-01", "redemption", -10_000),
    ]


# --- returns --------------------------------------------------------------------------------------------------------

def test_a_return_inside_its_sales_window_takes_its_pending_points_not_the_available_ones(tmp_path, tariffs):
    lines = [EARN_100, EARN_75, dict(EARN_75, date="2026-03-05", doc_id="R2", qty=-1, moneyback_days="")]
    priced = run(tmp_path, tariffs, lines)
    assert priced.lines["bonus_accrued"].tolist() == [10_000, 7_500, -7_500]
    assert priced.lines["matched_sale"].tolist()[2] == "D2 02.03.2026, row 3"
    assert balance(tmp_path, "2026-03-05") == [["C1", 10_000, 0]]
    # price's check agrees: all 100.00 can be spent the next day
    later = run(tmp_path, tariffs, [spend("2026-03-06", "X1", "100")], "later")
    assert later.lines["bonus_redeemed"].tolist() == [10_000]


def test_a_return_of_an_available_sale_leaves_the_other_sales_points_pending(tmp_path, tariffs):
    run(tmp_path, tariffs, [EARN_100, EARN_75, dict(EARN_100, date="2026-03-05", doc_id="R1", qty=-1)])
    assert balance(tmp_path, "2026-03-05") == [["C1", 0, 7_500]]  # D2's window runs to 01.04
    assert balance(tmp_path, "2026-04-01") == [["C1", 7_500, 0]]


def test_a_return_of_points_already_spent_takes_the_balance_below_zero_with_a_warning(tmp_path, tariffs):
    lines = [EARN_100, spend("2026-03-03", "X1", "80"), dict(EARN_100, date="2026-03-05", doc_id="R1", qty=-1)]
    priced = run(tmp_path, tariffs, lines)
    [warning] = [p for p in priced.problems.warnings if p.code == "price.return_spent"]
    assert warning.row == 4 and "takes back 100.00 points, 80.00 of which" in warning.message
    assert balance(tmp_path, "2026-03-05") == [["C1", -8_000, 0]]
    with pytest.raises(InputError):  # nothing can be spent until new points cover the debt
        run(tmp_path, tariffs, [spend("2026-03-06", "X2", "1")], "later")


def test_a_return_after_a_tariff_change_reverses_exactly_what_its_sale_earned(tmp_path):
    sheets = book(TariffChanges=[["client_id", "from_date", "tariff", "bonus_mode"], ["C1", "01.04.2026", "BASE", ""]])
    tariffs = write_book(tmp_path / "tariffs.xlsx", sheets)
    returned = dict(EARN_100, date="2026-04-10", doc_id="R1", qty=-1)  # on BASE, red would give 5 %: 62.50
    priced = run(tmp_path, tariffs, [EARN_100, returned])
    assert priced.lines[["gross", "bonus_accrued"]].values.tolist() == [[125_000, 10_000], [-125_000, -10_000]]
    assert balance(tmp_path, "2026-04-10") == [["C1", 0, 0]]


def test_partial_returns_reverse_pro_rata_and_the_last_takes_what_is_left(tmp_path, tariffs):
    sale = dict(date="2026-03-02", doc_id="S1", client_id="C1", sku="P", qty=3, unit_price="333.33", marker="red")
    lines = [sale, dict(sale, date="2026-03-03", doc_id="R1", qty=-1), dict(sale, date="2026-03-04", doc_id="R2", qty=-2)]
    priced = run(tmp_path, tariffs, lines)
    # gross 999.99; points round(999.99 × 8 %) = 80.00; VAT round(999.99 × 22/122) = 180.33
    # R1: −round(99 999 / 3) = −33 333, −round(8 000 / 3) = −2 667, −round(18 033 / 3) = −6 011
    # R2 completes the line: what is left, −66 666, −5 333, −12 022
    assert priced.lines[["gross", "net", "bonus_accrued", "vat"]].values.tolist() == [
        [99_999, 99_999, 8_000, 18_033], [-33_333, -33_333, -2_667, -6_011], [-66_666, -66_666, -5_333, -12_022],
    ]
    assert balance(tmp_path, "2026-03-04") == [["C1", 0, 0]]


def test_base_doc_picks_the_sale_a_return_names_and_only_a_line_that_covers_it(tmp_path, tariffs):
    older = dict(EARN_100, doc_id="S1", qty=2, unit_price="625")  # 2 × 625.00 = 1 250.00: 100.00 points
    newer = dict(EARN_100, date="2026-03-03", doc_id="S2", unit_price="2500")  # 200.00 points
    back = dict(EARN_100, date="2026-03-05", doc_id="R1", qty=-1, unit_price="625", base_doc="S1")
    too_many = dict(back, doc_id="R2", qty=-2, base_doc="S1")  # S1 has only 1 left: unmatched
    priced = run(tmp_path, tariffs, [older, newer, back, too_many])
    assert priced.lines["bonus_accrued"].tolist()[:3] == [10_000, 20_000, -5_000]
    assert priced.lines["matched_sale"].tolist()[2] == "S1 02.03.2026, row 2"
    assert priced.lines["matched_sale"].isna().tolist()[3]
    assert [p.code for p in priced.problems.warnings if p.row == 5] == ["price.return_unmatched"]


def test_a_return_credited_at_another_price_is_warned_and_reverses_the_sale(tmp_path, tariffs):
    priced = run(tmp_path, tariffs, [EARN_100, dict(EARN_100, date="2026-03-05", doc_id="R1", qty=-1, unit_price="1200")])
    assert priced.lines["gross"].tolist() == [125_000, -125_000]
    [warning] = [p for p in priced.problems.warnings if p.code == "price.return_amount"]
    assert warning.row == 3 and "1,200.00" in warning.message and "1,250.00" in warning.message  # English: Babel's en
    assert "сумма возврата 1\u00a0200,00" in i18n.translate(warning.message, "ru")  # Babel's ru: a no-break space


def test_a_later_exports_return_is_matched_to_a_sale_the_ledger_holds(tmp_path, tariffs):
    run(tmp_path, tariffs, [EARN_100], "march")
    april = run(tmp_path, tariffs, [dict(EARN_100, date="2026-04-02", doc_id="R1", qty=-1)], "april")
    assert april.lines["bonus_accrued"].tolist() == [-10_000]
    assert april.lines["matched_sale"].tolist() == ["D1 02.03.2026, line A#0 (ledger)"]
    assert balance(tmp_path, "2026-04-02") == [["C1", 0, 0]]
    # a second return of the same line finds nothing left to return
    may = run(tmp_path, tariffs, [dict(EARN_100, date="2026-05-02", doc_id="R2", qty=-1)], "may")
    assert may.lines["matched_sale"].isna().all()


def test_a_later_export_spends_points_the_ledger_holds(tmp_path, tariffs):
    with pytest.raises(InputError):  # on its own the April export has no points to spend
        jobs.price(export(tmp_path / "alone.csv", [spend("2026-04-02", "A1", "60")]), tariffs)
    run(tmp_path, tariffs, [EARN_100], "march")
    april = run(tmp_path, tariffs, [spend("2026-04-02", "A1", "60")], "april")
    assert april.lines["bonus_redeemed"].tolist() == [6_000] and april.lines["cash_due"].tolist() == [94_000]
    assert balance(tmp_path, "2026-04-30") == [["C1", 4_000, 0]]


def test_a_failed_write_posts_nothing(tmp_path, tariffs):
    from erp_plugin.xlsx import TargetLocked

    (tmp_path / "~$out.xlsx").write_bytes(b"")  # the output is open in Excel: the write is refused
    open_ledger(tmp_path / "ledger.sqlite")  # a ledger there already
    with pytest.raises(TargetLocked):
        run(tmp_path, tariffs, [EARN_100], out=tmp_path / "out.xlsx")
    assert count(tmp_path, "lines") == 0 and count(tmp_path, "entries") == 0


# --- coupons ------------------------------------------------------------------------------------------------

def test_coupons_and_their_counts_persist_across_exports(tmp_path):
    """Every 2nd document of 100.00 or more issues CP-<client>-<n>, 10 % off, valid to the month's end."""
    sheets = book(CouponRules=[["rule_id", "every_n_documents", "discount_pct", "valid", "min_document"],
                               ["CP", 2, 10, "end_of_month", 100]])
    tariffs = write_book(tmp_path / "tariffs.xlsx", sheets)
    doc = lambda day, name, **extra: {**dict(date=day, doc_id=name, client_id="C2", sku="S", qty=1,  # noqa: E731
                                             unit_price="200"), **extra}
    monday = run(tmp_path, tariffs, [doc("2026-03-02", "D1")], "monday")  # the 1st: no coupon yet
    assert monday.tables["coupons"].frame.empty
    tuesday = run(tmp_path, tariffs, [doc("2026-03-03", "D2")], "tuesday")  # the 2nd: CP-C2-1, continuing the count
    assert tuesday.tables["coupons"].frame["code"].tolist() == ["CP-C2-1"]
    again = run(tmp_path, tariffs, [doc("2026-03-03", "D2")], "tuesday")  # a re-run counts D2 once
    assert again.tables["coupons"].frame["code"].tolist() == ["CP-C2-1"]
    wednesday = run(tmp_path, tariffs, [doc("2026-03-04", "D3", unit_price="100", coupon="CP-C2-1")], "wednesday")
    assert wednesday.lines["promo_discount"].tolist() == [1_000]  # redeemed a coupon Tuesday's export issued
    thursday = run(tmp_path, tariffs, [doc("2026-03-05", "D4", unit_price="100", coupon="CP-C2-1")], "thursday")
    assert thursday.lines["promo_discount"].tolist() == [0]
    assert [p.message for p in thursday.problems.warnings if p.code == "price.coupon_refused"] == [
        "coupon CP-C2-1 was already used on D3: no discount"]
    # D3 (100.00) was the 3rd qualifying document, D4 the 4th: CP-C2-2
    assert thursday.tables["coupons"].frame["code"].tolist() == ["CP-C2-2"]
    assert count(tmp_path, "coupons") == 2 and count(tmp_path, "coupon_documents") == 4


# --- rewards ------------------------------------------------------------------------------------------------

def test_stamp_card_and_quest_rewards_become_points_once(tmp_path):
    sheets = book(StampCard=[["key", "value"], ["columns", 2], ["cells_per_column", 2], ["min_document", 1000],
                             ["reward", 50]],
                  Quests=[["quest_id", "categories", "active_from", "active_to", "reward"],
                          ["Q1", "Кабель, Щиты", "01.03.2026", "31.03.2026", 30]],
                  RebateScale=[["from_turnover", "rebate_pct"], [0, 0]])
    tariffs = write_book(tmp_path / "tariffs.xlsx", sheets)
    doc = lambda day, name, **extra: {**dict(date=day, doc_id=name, client_id="C2", sku="S", qty=1,  # noqa: E731
                                             unit_price="1000"), **extra}
    lines = [doc("2026-03-02", "D1", category="Кабель"), doc("2026-03-05", "D2", category="Щиты"),  # Q1 done 05.03
             doc("2026-03-09", "D3", unit_price="10"),  # below 1 000.00: no stamp
             doc("2026-04-01", "D4"), doc("2026-05-01", "D5"), doc("2026-06-01", "D6")]
    path = export(tmp_path / "year.csv", lines)
    ledger = tmp_path / "ledger.sqlite"
    year = jobs.rebates(path, tariffs, 2026, ledger=ledger)
    # stamps: D1, D2 (column 1 on 05.03), D4, D5 (column 2 on 01.05); D6 is past the card's 2 columns
    assert year.rewards_posted == 3
    again = jobs.rebates(path, tariffs, 2026, ledger=ledger)
    assert again.rewards_posted == 0 and again.posted.unchanged == 6
    history = jobs.ledger_history(ledger, "C2", as_of=date(2026, 12, 31)).tables["history"].frame
    assert [(str(d), k, a, line) for d, k, a, line in history[["booked_on", "kind", "amount", "line"]].values.tolist()] == [
        ("2026-03-05", "reward", 5_000, "stamp/2026/C2/1"), ("2026-03-05", "reward", 3_000, "quest/Q1/2026/C2"),
        ("2026-05-01", "reward", 5_000, "stamp/2026/C2/2"),
    ]
    assert balance(tmp_path, "2026-05-01") == [["C2", 13_000, 0]]


# --- reports ------------------------------------------------------------------------------------------------------

def test_a_clients_statement(tmp_path, tariffs):
    lines = [dict(EARN_100, date="2025-12-01", doc_id="D0"), EARN_100, EARN_75, spend("2026-03-05", "X1", "40"),
             dict(EARN_75, date="2026-03-06", doc_id="R1", qty=-1, moneyback_days="")]
    run(tmp_path, tariffs, lines)
    result, tables = jobs.ledger_statement(tmp_path / "ledger.sqlite", "C1", date(2026, 3, 1), date(2026, 3, 31),
                                          out=tmp_path / "statement.xlsx")
    assert (result.opening, result.closing) == (10_000, 16_000)  # 100 + 100 + 75 − 40 − 75 = 160.00
    assert [tuple(r) for r in result.movements.values.tolist()] == [
        (date(2026, 3, 2), "accrual", "D1, line A#0", 10_000, 20_000),
        (date(2026, 3, 2), "accrual", "D2, line B#0", 7_500, 27_500),
        (date(2026, 3, 5), "redemption", "X1, line W#0", -4_000, 23_500),
        (date(2026, 3, 6), "reversal", "R1, line B#0", -7_500, 16_000),
    ]
    # D0's 100.00, less the 40.00 spent from it first (FIFO), expire on 01.12.2026: beyond 90 days of 31.03
    assert result.expiring.empty
    later, _ = jobs.ledger_statement(tmp_path / "ledger.sqlite", "C1", date(2026, 9, 1), date(2026, 9, 30))
    assert later.expiring.values.tolist() == [[date(2026, 12, 1), 6_000]]
    import openpyxl

    assert openpyxl.load_workbook(tmp_path / "statement.xlsx").sheetnames == ["Statement", "Movements", "Expiring"]


def test_the_liability_reproduces_ifrs_15_example_52_and_never_restates_a_closed_period(tmp_path):
    """IFRS 15 IE Example 52, in whole currency units (minor_units 0): sales 100 000 earn 10 000 points,
    9 500 expected → 8 676 deferred; year 1 redeems 4 500 → 4 110 recognised, liability 4 566; year 2 redeems
    4 000 more with 9 700 now expected (a RedemptionEstimates row from its first day) → 3 493, liability 1 073."""
    sheets = book(RedemptionEstimates=[["from_date", "expected_redemption_pct"], ["01.01.2027", 97]],
                  Tariffs=[["tariff", "monthly_fee", "white", "green", "yellow", "red"], ["BASE", 0, 0, 1, 3, 5],
                           ["PRO", 1000, 0, 2, 5, 10]])  # red 10 %: 100 000 earns 10 000 points
    sheets["Settings"] += [["minor_units", 0], ["expected_redemption_pct", 95], ["bonus_expiry_months", 0]]
    tariffs = write_book(tmp_path / "tariffs.xlsx", sheets)
    sale = dict(date="2026-02-01", doc_id="S1", client_id="C1", sku="A", qty=1, unit_price="100000", marker="red")
    ledger = tmp_path / "ledger.sqlite"
    jobs.price(export(tmp_path / "y1.csv", [sale, spend("2026-06-01", "X1", "4500", unit_price="5000")]), tariffs,
              ledger=ledger)
    first = jobs.ledger_liability(ledger, date(2026, 12, 31), by="year", tariffs=tariffs).tables["liability"].frame
    jobs.price(export(tmp_path / "y2.csv", [spend("2027-06-01", "X2", "4000", unit_price="5000")]), tariffs, ledger=ledger)
    both = jobs.ledger_liability(ledger, date(2027, 12, 31), by="year", tariffs=tariffs).tables["liability"].frame
    assert first.values.tolist() == [["2026", 0, 8_676, 4_110, 4_566]]
    assert both.values.tolist() == [["2026", 0, 8_676, 4_110, 4_566], ["2027", 4_566, 0, 3_493, 1_073]]


def test_the_ledger_from_the_command_line(tmp_path):
    from click.testing import CliRunner

    from erp_plugin.cli import main

    runner = CliRunner()
    ledger = str(tmp_path / "ledger.sqlite")
    price_it = ["price", "workbooks/sales_export.xlsx", "--tariffs", "workbooks/tariffs.xlsx", "--ledger", ledger]
    done = runner.invoke(main, [*price_it, "--out", str(tmp_path / "a.csv")])
    assert done.exit_code == 0, done.output
    assert "ledger: 209 new lines posted (" in done.output and "; 0 already posted and unchanged; no conflicts" in done.output
    first = runner.invoke(main, ["ledger", "balance", "--ledger", ledger, "--as-of", "2026-12-31",
                                 "--out", str(tmp_path / "b1.csv")])
    again = runner.invoke(main, [*price_it, "--out", str(tmp_path / "b.csv")])  # the same export again
    assert "ledger: 0 new lines posted (0 point entries); 209 already posted and unchanged; no conflicts" in again.output
    second = runner.invoke(main, ["ledger", "balance", "--ledger", ledger, "--as-of", "2026-12-31",
                                  "--out", str(tmp_path / "b2.csv")])
    assert first.output.splitlines()[0] == second.output.splitlines()[0]
    assert (tmp_path / "b1.csv").read_bytes() == (tmp_path / "b2.csv").read_bytes()
    done = runner.invoke(main, ["ledger", "liability", "--ledger", ledger, "--as-of", "2026-12-31", "--by", "year",
                                "--tariffs", "workbooks/tariffs.xlsx", "--out", str(tmp_path / "liability.xlsx")])
    assert done.exit_code == 0 and "2026" in done.output
    done = runner.invoke(main, ["ledger", "history", "--ledger", ledger, "--client", "00-000101"])
    assert done.exit_code == 0 and "accrual" in done.output and "redemption" in done.output
    done = runner.invoke(main, ["ledger", "statement", "--ledger", ledger, "--client", "00-000101",
                                "--as-of", "2026-12-31", "--out", str(tmp_path / "statement.csv")])
    assert done.exit_code == 0 and "opening balance" in done.output and "closing balance" in done.output
    done = runner.invoke(main, ["ledger", "statement", "--ledger", ledger, "--client", "nobody"])
    assert done.exit_code == 2 and "client nobody has no entries" in done.stderr


def test_ledger_tables_write_to_every_format(tmp_path, tariffs):
    run(tmp_path, tariffs, [EARN_100, EARN_75])
    ledger = tmp_path / "ledger.sqlite"
    for suffix in (".csv", ".xlsx", ".parquet"):
        jobs.ledger_history(ledger, "C1", tmp_path / f"history{suffix}", as_of=date(2026, 12, 31))
        jobs.ledger_balance(ledger, date(2026, 12, 31), tmp_path / f"balances{suffix}")
    assert (tmp_path / "history.csv").read_text(encoding="utf-8-sig").splitlines()[1].startswith("2026-03-02,accrual,100.00")
    assert (tmp_path / "balances.csv").read_text(encoding="utf-8-sig").splitlines()[1] == "C1,175.00,0.00,175.00"


# --- schema versions and faults ------------------------------------------------------------------------------

def test_an_older_ledger_is_upgraded_in_place_keeping_its_points(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from erp_plugin.ledger.connect import MIGRATIONS

    ledger = tmp_path / "old.sqlite"
    engine = create_engine(f"sqlite:///{ledger}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:  # a ledger as the second version made it
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.exec_driver_sql("insert into runs (source, posted_at, entries) values ('old.csv', '2026-01-01', 2)")
        connection.exec_driver_sql(
            "insert into entries (line_key, kind, client_id, booked_on, available_on, amount, deferred, run_id) values "
            "('D1\x1f1', 'accrual', 'C1', '2026-01-05', '2026-01-05', 12345, 1000, 1), "
            "('D2\x1f1', 'redemption', 'C1', '2026-01-06', '2026-01-06', -345, 0, 1)")
    engine.dispose()
    open_ledger(ledger)
    with sqlite3.connect(ledger) as db:
        assert db.execute("select version_num from alembic_version").fetchone() == ("0003",)
        assert db.execute("select doc_id, doc_year, line, bonus_accrued, bonus_redeemed, deferred from lines "
                          "order by id").fetchall() == [("D1", 2026, "1", 12345, 0, 1000), ("D2", 2026, "1", 0, 345, 0)]
    assert balances(open_ledger(ledger), date(2026, 1, 31)).values.tolist() == [["C1", 12_000, 0, 12_000]]
    with engine.begin() as connection:  # and back: one entry per line and kind, as 0002 kept them
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    with sqlite3.connect(ledger) as db:
        assert db.execute("select line_key, kind, amount, deferred from entries order by id").fetchall() == [
            ("D1\x1f1", "accrual", 12345, 1000), ("D2\x1f1", "redemption", -345, 0)]


JOB = str(Path(__file__).with_name("ledger_job.py"))


def _start(ledger, count, *flags):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, JOB, str(ledger), str(count), *map(str, flags)], stdout=subprocess.PIPE,
                            text=True)


def test_a_posting_run_killed_inside_its_transaction_leaves_the_ledger_unchanged(tmp_path):
    import signal

    ledger = tmp_path / "ledger.sqlite"
    open_ledger(ledger)
    job = _start(ledger, 2_000, "--stall")
    assert job.stdout.readline().strip() == "inserted"  # the entries are in, the transaction not committed
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert (count(tmp_path, "lines"), count(tmp_path, "entries"), count(tmp_path, "runs")) == (0, 0, 0)
    rerun = _start(ledger, 2_000)
    assert rerun.communicate()[0].split() == ["2000", "0"] and count(tmp_path, "entries") == 2_000


def test_a_failure_after_some_rows_inside_the_posting_transaction_posts_nothing(tmp_path, tariffs):
    ledger = tmp_path / "ledger.sqlite"
    open_ledger(ledger)
    with sqlite3.connect(ledger) as db:  # the second entry inserted fails: the first is already in
        db.execute("create trigger injected after insert on entries when new.id = 2 "
                   "begin select raise(abort, 'injected fault'); end")
    with pytest.raises(Exception, match="injected fault"):
        run(tmp_path, tariffs, [EARN_100, EARN_75], out=tmp_path / "out.csv")
    assert (count(tmp_path, "lines"), count(tmp_path, "entries"), count(tmp_path, "runs")) == (0, 0, 0)
    assert not (tmp_path / "out.csv").exists()


def test_two_runs_at_once_take_turns(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    open_ledger(ledger)
    first, second = _start(ledger, 2_000, "--barrier", tmp_path, "a"), _start(ledger, 2_000, "--barrier", tmp_path, "b")
    results = sorted(tuple(p.communicate()[0].split()[-2:]) for p in (first, second))
    assert [first.returncode, second.returncode] == [0, 0]  # no "database is locked", no duplicate key
    assert results == [("0", "2000"), ("2000", "0")]  # one posted everything, the other found it all posted
    assert count(tmp_path, "entries") == 2_000
