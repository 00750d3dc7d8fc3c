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
        assert db.execute("select version_num from alembic_version").fetchone() == ("0001",)
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
