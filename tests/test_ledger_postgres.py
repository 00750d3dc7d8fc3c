"""The same ledger on a real PostgreSQL server (started on loopback for the session, or skipped with a reason)."""

from datetime import date

import pytest
from sqlalchemy import text

from erp_plugin.ledger.store import balances, liability, open_ledger, post
from erp_plugin.problems import InputError

from .test_ledger import LINES, _start
from .test_price import price


def test_posting_conflicts_balances_and_liability_on_postgresql(tmp_path, postgres_ledger):
    engine = open_ledger(postgres_ledger)
    priced = price(tmp_path, LINES)
    assert post(engine, priced.lines, "export.csv").added == 3
    assert post(engine, priced.lines, "export.csv").added == 0  # idempotent
    with engine.connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).scalar() == "0002"
    assert balances(engine, date(2026, 3, 5)).to_dict("list") == {
        "client_id": ["C1"], "available": [6_000], "pending": [7_500], "balance": [13_500],
    }
    changed = [dict(LINES[0], unit_price="2500"), *LINES[1:]]
    with pytest.raises(InputError):
        post(engine, price(tmp_path, changed).lines, "second.csv")
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from entries")).scalar() == 3
    assert len(liability(engine, date(2026, 3, 31), 80)) == 1


def test_two_runs_at_once_take_turns_on_postgresql(postgres_ledger):
    open_ledger(postgres_ledger)
    first, second = _start(postgres_ledger, 20_000), _start(postgres_ledger, 20_000)
    results = sorted(tuple(p.communicate()[0].split()[-2:]) for p in (first, second))
    assert [first.returncode, second.returncode] == [0, 0]
    assert results == [("0", "20000"), ("20000", "0")]
