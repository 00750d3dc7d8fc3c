"""The same ledger on a real PostgreSQL server (started on loopback for the session, or skipped with a reason)."""

from datetime import date

import pytest
from sqlalchemy import text

from erp_plugin import jobs
from erp_plugin.ledger.store import balances, open_ledger
from erp_plugin.problems import InputError

from .conftest import write_book
from .test_ledger import EARN_75, EARN_100, _start, export, spend
from .test_price import book


def test_posting_returns_conflicts_balances_and_liability_on_postgresql(tmp_path, postgres_ledger):
    tariffs = write_book(tmp_path / "tariffs.xlsx", book())
    lines = [EARN_100, EARN_75, spend("2026-03-05", "D3", "40"),
             dict(EARN_75, date="2026-03-06", doc_id="R2", qty=-1, moneyback_days="")]
    first = jobs.price(export(tmp_path / "e.csv", lines), tariffs, ledger=postgres_ledger)
    assert (first.posted.added, first.posted.entries) == (4, 4)  # 2 lots, a redemption, a reversal
    again = jobs.price(export(tmp_path / "e.csv", lines), tariffs, ledger=postgres_ledger)
    assert (again.posted.added, again.posted.unchanged) == (0, 4)  # idempotent
    engine = open_ledger(postgres_ledger)
    with engine.connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).scalar() == "0003"
    # 06.03: 100.00 − 40.00 available; D2's 75.00 returned inside its window: nothing pending
    assert balances(engine, date(2026, 3, 6)).to_dict("list") == {
        "client_id": ["C1"], "available": [6_000], "pending": [0], "balance": [6_000],
    }
    later = jobs.price(export(tmp_path / "l.csv", [dict(EARN_100, date="2026-04-02", doc_id="R1", qty=-1)]), tariffs,
                      ledger=postgres_ledger)
    assert later.lines["matched_sale"].tolist() == ["D1 02.03.2026, line A#0 (ledger)"]
    with pytest.raises(InputError):
        jobs.price(export(tmp_path / "c.csv", [dict(EARN_100, unit_price="2500")]), tariffs, ledger=postgres_ledger)
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from entries")).scalar() == 5
    report = jobs.ledger_liability(postgres_ledger, date(2026, 4, 30), tariffs=tariffs).tables["liability"].frame
    assert report["period"].tolist() == ["2026-03", "2026-04"]


def test_two_runs_at_once_take_turns_on_postgresql(tmp_path, postgres_ledger):
    open_ledger(postgres_ledger)
    first = _start(postgres_ledger, 2_000, "--barrier", tmp_path, "a")
    second = _start(postgres_ledger, 2_000, "--barrier", tmp_path, "b")
    results = sorted(tuple(p.communicate()[0].split()[-2:]) for p in (first, second))
    assert [first.returncode, second.returncode] == [0, 0]
    assert results == [("0", "2000"), ("2000", "0")]
