"""A posting run for the ledger fault tests, in its own process.

    python ledger_job.py LEDGER LINES [--stall] [--barrier DIR NAME]

Posts LINES synthetic priced lines (one accrual of 1.00 each) and prints ``added unchanged``.
``--stall``: once the entries are inserted, inside the open transaction, print ``inserted`` and
wait forever (the test kills the process there: a known point). ``--barrier DIR NAME``: both runs
wait for each other before posting, and the one that gets into its transaction first waits there
until the other has started its own, so the two runs surely overlap.
"""

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import event

from erp_plugin.ledger.store import open_ledger, post
from erp_plugin.tariffs.model import TariffBook

FIGURES = ("gross", "kit_discount", "kit_bonus", "kit_price_discount", "promo_discount", "price_discount", "net",
           "reservation_cost", "vat", "bonus_redeemed")


def frame(count: int) -> pd.DataFrame:
    lines = pd.DataFrame({
        "doc_id": pd.Categorical(np.char.add("D", (np.arange(count) // 4).astype(str))),
        "line_no": np.arange(count) % 4 + 1,
        "sku": pd.Categorical(["S"] * count),
        "client_id": pd.Categorical(np.char.add("C", (np.arange(count) % 1000).astype(str))),
        "date": np.full(count, np.datetime64("2026-03-02", "s")),
        "qty": np.full(count, 1000, dtype=np.int64),
        "bonus_accrued": np.full(count, 100, dtype=np.int64),
        "source_row": np.arange(2, count + 2),
    })
    for name in FIGURES:
        lines[name] = np.zeros(count, dtype=np.int64)
    return lines


def wait_for(path: Path, seconds: float) -> bool:
    ends = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > ends:
            return False
        time.sleep(0.02)
    return True


def main() -> None:
    engine = open_ledger(sys.argv[1])
    lines = frame(int(sys.argv[2]))
    if "--stall" in sys.argv:
        @event.listens_for(engine, "after_cursor_execute")
        def _stall(conn, cursor, statement, *args):
            if statement.startswith("INSERT INTO entries"):
                print("inserted", flush=True)
                time.sleep(3600)
    if "--barrier" in sys.argv:
        folder = Path(sys.argv[sys.argv.index("--barrier") + 1])
        me = sys.argv[sys.argv.index("--barrier") + 2]
        other = "b" if me == "a" else "a"
        (folder / f"ready-{me}").touch()
        wait_for(folder / f"ready-{other}", 30)

        @event.listens_for(engine, "after_cursor_execute")
        def _inside(conn, cursor, statement, *args):
            if statement.startswith("CREATE TEMPORARY TABLE debtors") and not (folder / f"in-{me}").exists():
                (folder / f"in-{me}").touch()
                # the other run has been started: with the lock it waits at BEGIN; give it time to try
                time.sleep(1.0)
    book = TariffBook.defaults()
    result = post(engine, lines, "synthetic", book)
    print(result.added, result.unchanged, flush=True)


if __name__ == "__main__":
    main()
