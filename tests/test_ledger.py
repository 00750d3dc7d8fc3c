"""The bonus ledger on a real SQLite file: versioned schema, idempotent posting, conflicts, balances."""

import sqlite3
from datetime import date

import pytest

from erp_plugin.ledger.store import balances, open_ledger, post
from erp_plugin.problems import InputError

from .test_price import price

LINES = [
    # C1 PRO bonus, red 8 % of 1 250.00 = 100.00 points, money-back 0 days: available at once
    dict(date="2026-03-02", doc_id="D1", client_id="C1", sku="S", qty=1, unit_price="1250", marker="red"),
    # C1 again, red with 30 money-back days: 7.5 % of 1 000.00 = 75.00 points, pending until 01.04.2026
    dict(date="2026-03-02", doc_id="D2", client_id="C1", sku="S", qty=1, unit_price="1000", marker="red",
         moneyback_days=30),
    # C1 spends 40.00 points on 05.03
    dict(date="2026-03-05", doc_id="D3", client_id="C1", sku="S", qty=1, unit_price="500", bonus_paid="40"),
]


def test_posting_twice_adds_nothing_and_balances_follow_the_money_back_window(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    engine = open_ledger(ledger)
    priced = price(tmp_path, LINES)
    assert post(engine, priced.lines, "export.csv").added == 3  # two accruals, one redemption
    again = post(engine, priced.lines, "export.csv")
    assert (again.added, again.unchanged) == (0, 3)
    with sqlite3.connect(ledger) as db:
        assert db.execute("select count(*) from entries").fetchone() == (3,)
        assert db.execute("select version_num from alembic_version").fetchone() == ("0002",)
    # 05.03: available 100.00 − 40.00 = 60.00, pending 75.00; from 01.04 all 135.00 available
    assert balances(engine, date(2026, 3, 5)).to_dict("list") == {
        "client_id": ["C1"], "available": [6_000], "pending": [7_500], "balance": [13_500],
    }
    assert balances(engine, date(2026, 4, 1))[["available", "pending"]].values.tolist() == [[13_500, 0]]
    assert balances(engine, date(2026, 3, 1)).empty  # nothing booked yet


def test_a_line_posted_with_other_figures_is_a_conflict_and_nothing_is_posted(tmp_path):
    engine = open_ledger(tmp_path / "ledger.sqlite")
    post(engine, price(tmp_path, LINES).lines, "first.csv")
    changed = [dict(LINES[0], unit_price="2500"), *LINES[1:], dict(date="2026-03-06", doc_id="D4", client_id="C1",
                                                                   sku="S", qty=1, unit_price="10", marker="red")]
    with pytest.raises(InputError) as raised:
        post(engine, price(tmp_path, changed).lines, "second.csv")
    assert [str(p) for p in raised.value.problems] == [
        "export row 2: this line was posted before with other figures (accrual 10000 for C1, now 20000 for C1); "
        "the ledger keeps what was posted: correct the export, or post corrections as new lines"
    ]
    with sqlite3.connect(tmp_path / "ledger.sqlite") as db:  # the new line D4 was not posted either
        assert db.execute("select count(*) from entries").fetchone() == (3,)
        assert db.execute("select count(*) from runs").fetchone() == (1,)


def test_a_later_export_spends_points_the_ledger_holds(tmp_path):
    from erp_plugin import api

    from .conftest import write_book
    from .test_price import book, write_export

    tariffs = write_book(tmp_path / "tariffs.xlsx", book())
    ledger = tmp_path / "ledger.sqlite"
    march = write_export(tmp_path / "march.csv", [LINES[0]])  # C1 earns 100.00 points on 02.03
    april = write_export(tmp_path / "april.csv", [dict(date="2026-04-02", doc_id="A1", client_id="C1", sku="S", qty=1,
                                                       unit_price="500", bonus_paid="60")])
    with pytest.raises(InputError):  # on its own the April export has no points to spend
        api.price(april, tariffs)
    api.price(march, tariffs, ledger=ledger)
    priced = api.price(april, tariffs, ledger=ledger, out=tmp_path / "april.out.csv")
    assert priced.lines["bonus_redeemed"].tolist() == [6_000] and priced.lines["cash_due"].tolist() == [44_000]
    again = api.price(april, tariffs, ledger=ledger)  # a re-run does not count its own redemption against itself
    assert again.lines["bonus_redeemed"].tolist() == [6_000]
    engine = open_ledger(ledger)
    assert balances(engine, date(2026, 4, 30))[["available", "pending"]].values.tolist() == [[4_000, 0]]


def test_a_failed_write_posts_nothing(tmp_path):
    from erp_plugin import api

    from .conftest import write_book
    from .test_price import book, write_export

    tariffs = write_book(tmp_path / "tariffs.xlsx", book())
    ledger = tmp_path / "ledger.sqlite"
    (tmp_path / "~$out.xlsx").write_bytes(b"")  # the output is open in Excel: the write is refused
    from erp_plugin.xlsx import TargetLocked

    with pytest.raises(TargetLocked):
        api.price(write_export(tmp_path / "march.csv", [LINES[0]]), tariffs, ledger=ledger, out=tmp_path / "out.xlsx")
    with sqlite3.connect(ledger) as db:
        assert db.execute("select count(*) from entries").fetchone() == (0,)


JOB = str(__import__("pathlib").Path(__file__).with_name("ledger_job.py"))


def _start(ledger, count):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, JOB, str(ledger), str(count)], stdout=subprocess.PIPE, text=True)


def _entries(ledger) -> int:
    with sqlite3.connect(ledger) as db:
        return db.execute("select count(*) from entries").fetchone()[0]


def test_a_posting_run_killed_midway_leaves_the_ledger_unchanged(tmp_path):
    import signal
    import time

    ledger = tmp_path / "ledger.sqlite"
    open_ledger(ledger)
    run = _start(ledger, 500_000)
    assert run.stdout.readline().strip() == "posting"
    time.sleep(2.0)  # well inside the ~10 s the insert takes
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert _entries(ledger) == 0  # not one entry of the killed run
    rerun = _start(ledger, 500_000)
    out, _ = rerun.communicate()
    assert out.split()[-2:] == ["500000", "0"] and _entries(ledger) == 500_000


def test_two_runs_at_once_take_turns(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    open_ledger(ledger)
    first, second = _start(ledger, 20_000), _start(ledger, 20_000)
    results = sorted(tuple(p.communicate()[0].split()[-2:]) for p in (first, second))
    assert [first.returncode, second.returncode] == [0, 0]  # no "database is locked", no duplicate key
    assert results == [("0", "20000"), ("20000", "0")]  # one posted everything, the other found it all posted
    assert _entries(ledger) == 20_000


def test_an_older_ledger_is_upgraded_in_place_keeping_its_entries(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from erp_plugin.ledger.store import MIGRATIONS

    ledger = tmp_path / "old.sqlite"
    engine = create_engine(f"sqlite:///{ledger}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:  # a ledger as the first version made it
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.exec_driver_sql("insert into runs (source, posted_at, entries) values ('old.csv', '2026-01-01', 1)")
        connection.exec_driver_sql(
            "insert into entries (line_key, kind, client_id, booked_on, available_on, amount, run_id) "
            "values ('D1#1', 'accrual', 'C1', '2026-01-05', '2026-01-05', 12345, 1)")
    open_ledger(ledger)
    with sqlite3.connect(ledger) as db:
        assert db.execute("select version_num from alembic_version").fetchone() == ("0002",)
        assert db.execute("select amount, deferred from entries").fetchall() == [(12345, 0)]


def test_the_liability_report_from_the_ledger(tmp_path):
    import numpy as np
    import pandas as pd

    from erp_plugin.ledger.store import liability

    engine = open_ledger(tmp_path / "ledger.sqlite")
    lines = pd.DataFrame({
        "doc_id": pd.Categorical(["D1", "D2", "D3"]), "line_no": [1, 1, 1], "sku": pd.Categorical(["S"] * 3),
        "client_id": pd.Categorical(["C1"] * 3),
        "date": np.array(["2026-01-10", "2026-01-20", "2026-02-15"], dtype="datetime64[s]"),
        "net": [10_000_000, 500_000, 400_000], "bonus_accrued": [1_000_000, 0, 0],
        "bonus_redeemed": [0, 450_000, 400_000], "source_row": [2, 3, 4],
    })
    post(engine, lines, "example.csv", expected_redemption_pct=95)
    # deferred: 10 000 000 × 950 000 / 10 950 000 = 867 579.9 → 867 580 (kopecks)
    # January: 4 500.00 of 9 500.00 expected → 867 580 × 450 000 / 950 000 = 410 958.9 → 410 959
    # February: 8 500.00 in all → 776 255.8 → 776 256, less 410 959 = 365 297
    report = liability(engine, date(2026, 2, 28), 95)
    assert report.values.tolist() == [
        ["2026-01", 0, 867_580, 410_959, 456_621],
        ["2026-02", 456_621, 0, 365_297, 91_324],
    ]
    assert liability(engine, date(2026, 12, 31), 95, by="year").values.tolist() == [["2026", 0, 867_580, 776_256, 91_324]]


def test_the_ledger_from_the_command_line(tmp_path):
    from click.testing import CliRunner

    from erp_plugin.cli import main

    runner = CliRunner()
    ledger = str(tmp_path / "ledger.sqlite")
    price_it = ["price", "workbooks/sales_export.xlsx", "--tariffs", "workbooks/tariffs.xlsx", "--ledger", ledger]
    assert runner.invoke(main, [*price_it, "--out", str(tmp_path / "a.csv")]).exit_code == 0
    first = runner.invoke(main, ["ledger", "balance", "--ledger", ledger, "--as-of", "2026-12-31",
                                 "--out", str(tmp_path / "b1.csv")])
    assert runner.invoke(main, [*price_it, "--out", str(tmp_path / "b.csv")]).exit_code == 0  # the same export again
    second = runner.invoke(main, ["ledger", "balance", "--ledger", ledger, "--as-of", "2026-12-31",
                                  "--out", str(tmp_path / "b2.csv")])
    # the sample accrues 143 587.54 points and spends 500.00 of them
    assert first.output.splitlines()[0] == second.output.splitlines()[0] == \
        "4 clients: available 143 087.54, pending 0.00"
    assert (tmp_path / "b1.csv").read_bytes() == (tmp_path / "b2.csv").read_bytes()
    done = runner.invoke(main, ["ledger", "liability", "--ledger", ledger, "--as-of", "2026-12-31", "--by", "year",
                                "--tariffs", "workbooks/tariffs.xlsx", "--out", str(tmp_path / "liability.xlsx")])
    assert done.exit_code == 0 and "2026" in done.output
    import openpyxl

    sheet = openpyxl.load_workbook(tmp_path / "liability.xlsx")["Liability"]
    assert [c.value for c in sheet[1]] == ["period", "opening", "deferred", "recognised", "closing"]
    done = runner.invoke(main, ["ledger", "history", "--ledger", ledger, "--client", "00-000101"])
    assert done.exit_code == 0 and "accrual" in done.output and "redemption" in done.output


def test_points_expire_first_in_first_out_after_the_expiry_months(tmp_path):
    import numpy as np
    import pandas as pd

    from erp_plugin.ledger.store import expired

    engine = open_ledger(tmp_path / "ledger.sqlite")
    lines = pd.DataFrame({
        "doc_id": pd.Categorical(["A", "B", "C", "D"]), "line_no": [1, 1, 1, 1], "sku": pd.Categorical(["S"] * 4),
        "client_id": pd.Categorical(["C1"] * 4),
        "date": np.array(["2025-01-10", "2025-06-01", "2025-03-01", "2026-02-01"], dtype="datetime64[s]"),
        "bonus_accrued": [10_000, 10_000, 0, 0],  # 100.00 on 10.01.2025, 100.00 on 01.06.2025
        "bonus_redeemed": [0, 0, 3_000, 15_000],  # 30.00 spent on 01.03.2025 (from the oldest points), 150.00 later
        "source_row": [2, 3, 4, 5],
    })
    post(engine, lines, "two years")
    # by 10.01.2026 the first 100.00 expire, less the 30.00 already spent from them: 70.00
    assert expired(engine, date(2026, 1, 10), 12).values.tolist() == [["C1", 7_000]]
    assert expired(engine, date(2026, 1, 9), 12).empty  # the day before, nothing has expired
    # 01.02.2026: 150.00 spent, but only the second 100.00 were left: that exhausts them.
    # 01.06.2026: the second lot's expiry finds it spent: still 70.00 expired in all
    assert expired(engine, date(2026, 6, 1), 12).values.tolist() == [["C1", 7_000]]
    # balance on 10.01.2026: 200.00 earned − 30.00 spent − 70.00 expired = 100.00
    assert balances(engine, date(2026, 1, 10), 12)[["available", "pending"]].values.tolist() == [[10_000, 0]]
    assert balances(engine, date(2026, 1, 10), 0)[["available"]].values.tolist() == [[17_000]]  # 0 = never expire


def test_expired_points_cannot_be_spent(tmp_path):
    from erp_plugin import api

    from .conftest import write_book
    from .test_price import book, write_export

    tariffs = write_book(tmp_path / "tariffs.xlsx", book())  # bonus_expiry_months: the default 12
    ledger = tmp_path / "ledger.sqlite"
    earned = write_export(tmp_path / "2025.csv", [dict(LINES[0], date="2025-01-10")])  # 100.00 points
    api.price(earned, tariffs, ledger=ledger)
    spend = [dict(date="2025-12-20", doc_id="X1", client_id="C1", sku="S", qty=1, unit_price="500", bonus_paid="60")]
    late = [dict(spend[0], date="2026-02-01", doc_id="X2")]
    assert api.price(write_export(tmp_path / "dec.csv", spend), tariffs, ledger=ledger).lines["bonus_redeemed"].tolist() == [6_000]
    with pytest.raises(InputError) as raised:  # by 10.01.2026 the other 40.00 have expired
        api.price(write_export(tmp_path / "feb.csv", late), tariffs, ledger=ledger)
    assert "available 0.00" in str(raised.value.problems[0])


def test_a_return_inside_the_window_cancels_pending_points(tmp_path):
    engine = open_ledger(tmp_path / "ledger.sqlite")
    lines = [
        # 02.03: 75.00 points pending until 01.04 (30 money-back days); returned on 10.03, inside the window
        dict(LINES[1]),
        dict(LINES[1], date="2026-03-10", doc_id="R1", qty=-1),
        dict(LINES[0]),  # and 100.00 points available at once
    ]
    post(engine, price(tmp_path, lines).lines, "export.csv")
    assert balances(engine, date(2026, 3, 15))[["available", "pending"]].values.tolist() == [[10_000, 0]]
    assert balances(engine, date(2026, 4, 5))[["available", "pending"]].values.tolist() == [[10_000, 0]]


def test_expired_points_end_their_share_of_the_liability(tmp_path):
    import numpy as np
    import pandas as pd

    from erp_plugin.ledger.store import liability

    engine = open_ledger(tmp_path / "ledger.sqlite")
    lines = pd.DataFrame({
        "doc_id": pd.Categorical(["A", "B"]), "line_no": [1, 1], "sku": pd.Categorical(["S"] * 2),
        "client_id": pd.Categorical(["C1"] * 2),
        "date": np.array(["2025-01-10", "2025-03-01"], dtype="datetime64[s]"),
        "net": [100_000, 50_000], "bonus_accrued": [10_000, 0], "bonus_redeemed": [0, 3_000], "source_row": [2, 3],
    })
    post(engine, lines, "two years", expected_redemption_pct=80)
    # deferred 100 000 × 8 000 / 108 000 = 7 407.4 → 7 407; 30.00 of 80.00 expected redeemed → 2 777.6 → 2 778;
    # on 10.01.2026 the other 70.00 expire: nothing more can be redeemed, the rest (4 629) is recognised
    assert liability(engine, date(2026, 12, 31), 80, by="year", expiry_months=12).values.tolist() == [
        ["2025", 0, 7_407, 2_778, 4_629], ["2026", 4_629, 0, 4_629, 0],
    ]
    # without expiry the liability stays
    assert liability(engine, date(2026, 12, 31), 80, by="year").values.tolist()[-1] == ["2026", 4_629, 0, 0, 4_629]


def test_a_clients_history_shows_its_expiries(tmp_path):
    from erp_plugin.ledger.store import history

    engine = open_ledger(tmp_path / "ledger.sqlite")
    earned = price(tmp_path, [dict(LINES[0], date="2025-01-10"),
                              dict(LINES[2], date="2025-03-05")]).lines  # 100.00 earned, 40.00 spent
    post(engine, earned, "2025.csv")
    rows = history(engine, "C1", 12, date(2026, 6, 30))[["booked_on", "kind", "amount"]].values.tolist()
    assert [(str(d), k, a) for d, k, a in rows] == [
        ("2025-01-10", "accrual", 10_000), ("2025-03-05", "redemption", -4_000), ("2026-01-10", "expiry", -6_000),
    ]


def test_ledger_tables_write_to_every_format(tmp_path):
    from erp_plugin import api

    ledger = tmp_path / "ledger.sqlite"
    post(open_ledger(ledger), price(tmp_path, LINES).lines, "export.csv")
    for suffix in (".csv", ".xlsx", ".parquet"):
        api.ledger_history(ledger, "C1", tmp_path / f"history{suffix}", as_of=date(2026, 12, 31))
        api.ledger_balance(ledger, date(2026, 12, 31), tmp_path / f"balances{suffix}")
    assert (tmp_path / "history.csv").read_text(encoding="utf-8-sig").splitlines()[1].startswith("2026-03-02,accrual,100.00")
    assert (tmp_path / "balances.csv").read_text(encoding="utf-8-sig").splitlines()[1] == "C1,135.00,0.00,135.00"


def test_a_ledger_that_cannot_be_opened_is_one_line_not_a_traceback(tmp_path):
    from click.testing import CliRunner

    from erp_plugin.cli import main

    for url, says in (("nosuchdb://x/y", "unknown kind of database 'nosuchdb'"),
                      ("postgresql+psycopg://nobody@127.0.0.1:1/none",
                       "cannot reach the ledger server at 127.0.0.1:1: connection refused"),
                      (str(tmp_path / "no" / "such" / "l.sqlite"), f"the folder {tmp_path / 'no' / 'such'} does not exist")):
        done = CliRunner().invoke(main, ["ledger", "balance", "--ledger", url])
        assert done.exit_code == 2, (url, done.output)
        assert done.stderr.startswith(f"{url}: {says}") and done.stderr.count("\n") == 1, done.stderr
        assert "Traceback" not in done.output
