"""The ledger's one invariant (SPEC §8), as a property over generated histories.

Posting an export in one run, or the same lines split into several runs in date
order, gives the same lines, entries, balances, redemptions and liability; and
price's check of a redemption agrees with ``ledger balance`` at the same moment.

A history is a handful of one-line documents of clients C1 (bonus mode) and C3
(half), one per day over June 2025 – September 2026, so that points expire
(12 months) and a year boundary restarts the document numbers (0001, 0002, …
each year): sales with and without money-back windows, returns with and without
``base_doc`` (some matching nothing), redemptions (capped at what is available:
``on_overdraw`` = cap), and a tariff change of C1 part-way.
"""

import sqlite3
from datetime import date, timedelta

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from erp_plugin import jobs
from erp_plugin.ledger.store import balances, open_ledger

from .conftest import write_book
from .test_ledger import export
from .test_price import book

FIRST_DAY = date(2025, 6, 1)
SPAN = 480  # days: to September 2026


@st.composite
def histories(draw):
    days = sorted(draw(st.sets(st.integers(0, SPAN), min_size=2, max_size=12)))
    events = []
    sold: list[dict] = []
    for day in days:
        when = FIRST_DAY + timedelta(days=day)
        client = draw(st.sampled_from(["C1", "C3"]))
        sku = draw(st.sampled_from(["A", "B"]))
        kind = draw(st.sampled_from(["sale", "sale", "return", "spend"]))
        line = dict(date=when.isoformat(), client_id=client, sku=sku, line_no=1)
        if kind == "sale":
            line.update(qty=draw(st.integers(1, 3)), unit_price=draw(st.sampled_from(["500", "1000", "1250"])),
                        marker=draw(st.sampled_from(["red", "red", "white"])),
                        moneyback_days=draw(st.sampled_from(["", "30"])))
            sold.append(line)
        elif kind == "return":
            earlier = [s for s in sold if s["client_id"] == client]
            named = draw(st.booleans()) and earlier
            base = draw(st.sampled_from(earlier)) if named else None
            line.update(qty=-draw(st.integers(1, 2)), unit_price="1000", marker="red",
                        **({"sku": base["sku"], "base_doc": base["doc_id"]} if base else {}))
        else:
            line.update(sku="W", qty=1, unit_price="1000", marker="white",
                        bonus_paid=draw(st.sampled_from(["10", "50", "100"])))
        numbered = sum(1 for e in events if e["date"][:4] == line["date"][:4]) + 1
        line["doc_id"] = f"{numbered:04d}"  # 1C numbers documents afresh each year
        events.append(line)
    cuts = sorted(draw(st.sets(st.sampled_from(days[1:]), max_size=2))) if len(days) > 1 else []
    change = FIRST_DAY + timedelta(days=draw(st.integers(0, SPAN)))
    return events, [(FIRST_DAY + timedelta(days=c)).isoformat() for c in cuts], change


def _tariffs(folder, change: date):
    sheets = book(TariffChanges=[["client_id", "from_date", "tariff", "bonus_mode"],
                                 ["C1", change.strftime("%d.%m.%Y"), "BASE", ""]])
    sheets["Settings"] += [["on_overdraw", "cap"]]
    return write_book(folder / "tariffs.xlsx", sheets)


def _post(folder, tariffs, name: str, parts: list[list[dict]]) -> tuple[str, list[pd.DataFrame]]:
    ledger = folder / f"{name}.sqlite"
    priced = [jobs.price(export(folder / f"{name}-{i}.csv", part), tariffs, ledger=ledger).lines
              for i, part in enumerate(parts) if part]
    return str(ledger), priced


def _contents(ledger: str) -> tuple[list, list]:
    """Lines and entries without the ids and runs a posting order gives them; a debit names its lot's line."""
    with sqlite3.connect(ledger) as db:
        lines = db.execute("select doc_id, doc_year, line, client_id, sku, booked_on, qty, gross, net, bonus_accrued, "
                           "bonus_redeemed, deferred, vat, (select doc_id || '/' || doc_year from lines s "
                           "where s.id = l.sale_id) from lines l order by doc_year, doc_id, line").fetchall()
        entries = db.execute("select e.kind, e.client_id, e.booked_on, e.amount, e.available_on, e.expires_on, "
                             "l.doc_id || '/' || l.doc_year, (select m.doc_id || '/' || m.doc_year from entries o "
                             "join lines m on m.id = o.line_id where o.id = e.lot_id) from entries e "
                             "left join lines l on l.id = e.line_id").fetchall()
    return lines, sorted(entries, key=repr)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories())
def test_one_run_or_several_in_date_order_give_the_same_ledger(tmp_path_factory, history):
    events, cuts, change = history
    folder = tmp_path_factory.mktemp("history")
    tariffs = _tariffs(folder, change)
    whole, [priced] = _post(folder, tariffs, "whole", [events])
    bounds = [e["date"] for e in events]
    parts = [[e for e in events if lo <= e["date"] < hi] for lo, hi in zip(["", *cuts], [*cuts, "9999"])]
    split, split_priced = _post(folder, tariffs, "split", parts)

    assert _contents(whole) == _contents(split)
    redeemed = priced["bonus_redeemed"].tolist()
    assert redeemed == pd.concat(split_priced)["bonus_redeemed"].tolist()
    for day in sorted(set(bounds)) + ["2026-12-31", "2027-06-30"]:
        as_of = date.fromisoformat(day)
        assert balances(open_ledger(whole), as_of).equals(balances(open_ledger(split), as_of))
    liability = [jobs.ledger_liability(ledger, date(2027, 6, 30), tariffs=tariffs).tables["liability"].frame
                 for ledger in (whole, split)]
    assert liability[0].equals(liability[1])

    # price's check = the ledger's balance at the same moment: one line a day, so "just before the line" is
    # the balance as of its day without the line's own redemption
    for i, line in enumerate(events):
        if not line.get("bonus_paid"):
            continue
        table = balances(open_ledger(whole), date.fromisoformat(line["date"]))
        mine = table[table["client_id"] == line["client_id"]]
        before = (int(mine["available"].iat[0]) if len(mine) else 0) + redeemed[i]
        wanted, net = int(line["bonus_paid"]) * 100, int(priced["net"].iat[i])
        assert redeemed[i] == min(wanted, max(0, before), net)
