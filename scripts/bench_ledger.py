"""Benchmark: what posting to the ledger costs a pricing run, beside raw SQLite inserting the same rows.

    python scripts/bench_ledger.py                 # 2M lines (generated under ./big-ledger)
    python scripts/bench_ledger.py --lines 500000 --repeat 1

Targets (issue 14): posting overhead = ``price --ledger`` − plain ``price`` ≤ 2 × raw SQLite + 1 s;
``ledger balance`` of 100 000 clients ≤ 1 s.

Each job runs in its own process, as a user runs it (the tariff workbook read included):
1. ``jobs.price(export, tariffs, out=x.parquet)``;
2. the same with ``ledger=`` a new SQLite file: read the ledger, price against it, post, write;
3. raw SQLite (the baseline): the rows that run posted (its ``lines`` and ``entries``, read back
   beforehand) inserted with ``executemany`` in one transaction into empty tables of the same
   columns with the same unique identity key and indexes, and the same page cache — the least any
   ledger must do;
4. ``ledger balance`` as of 31.12.2026 on a ledger of 100 000 clients (1M accruals over 2025–2026, so
   that 2025's points expire), beside raw SQLite summing its entries per client
   (``SELECT client_id, SUM(amount) … GROUP BY client_id``, no lots nor expiry).
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
from pathlib import Path

from benchjobs import alternating, run, seconds

from erp_plugin.ledger.store import SQLITE_CACHE_KB

PRICE_JOB = """
import json, resource, sys, time
started = time.perf_counter()
from erp_plugin import jobs
ledger = sys.argv[4] if len(sys.argv) > 4 else None
result = jobs.price(sys.argv[1], sys.argv[2], out=sys.argv[3], ledger=ledger)
print(json.dumps({"seconds": time.perf_counter() - started, "lines": len(result.lines),
                  "entries": result.posted.entries if result.posted else 0,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

RAW_JOB = """
import json, sqlite3, sys, time
source, target = sys.argv[1], sys.argv[2]
with sqlite3.connect(source) as db:
    tables = {name: (db.execute(f"select sql from sqlite_master where name = '{name}'").fetchone()[0],
                     db.execute(f"select * from {name}").fetchall(),
                     [sql for (sql,) in db.execute(f"select sql from sqlite_master where type = 'index' "
                                                   f"and tbl_name = '{name}' and sql is not null")])
              for name in ("lines", "entries")}
db = sqlite3.connect(target, isolation_level=None)
db.execute(f"PRAGMA cache_size = -{int(sys.argv[3])}")  # the page cache the ledger posts with
for create, rows, indexes in tables.values():
    db.execute(create)
    for index in indexes:
        db.execute(index)
started = time.perf_counter()
db.execute("BEGIN")
for name, (create, rows, indexes) in tables.items():
    db.executemany(f"insert into {name} values ({', '.join('?' * len(rows[0]))})", rows)
db.execute("COMMIT")
print(json.dumps({"seconds": time.perf_counter() - started, "rows": sum(len(t[1]) for t in tables.values())}))
"""

CLIENTS_JOB = """
import json, sys, time
import numpy as np, pandas as pd
from erp_plugin.ledger.store import open_ledger, post
from erp_plugin.tariffs.model import TariffBook
count, clients = int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(6)
lines = pd.DataFrame({
    "doc_id": pd.Categorical(np.char.add("D", (np.arange(count) // 4).astype(str))),
    "line_no": np.arange(count) % 4 + 1, "sku": pd.Categorical(["S"] * count),
    "client_id": pd.Categorical(np.char.add("C", rng.integers(0, clients, size=count).astype(str))),
    "date": np.datetime64("2025-01-01", "s") + rng.integers(0, 730, size=count).astype("timedelta64[D]"),
    "qty": np.full(count, 1000), "moneyback_days": rng.choice(np.array([0, 14, 30]), size=count),
    "bonus_accrued": rng.integers(1, 100_000, size=count), "source_row": np.arange(2, count + 2),
})
for name in ("gross", "kit_discount", "kit_bonus", "kit_price_discount", "promo_discount", "price_discount", "net",
             "reservation_cost", "vat", "bonus_redeemed"):
    lines[name] = np.zeros(count, dtype=np.int64)
post(open_ledger(sys.argv[1]), lines, "synthetic", TariffBook.defaults())
print(json.dumps({"seconds": 0}))
"""

BALANCE_JOB = """
import json, sys, time
from datetime import date
from erp_plugin.ledger.store import balances, open_ledger
engine = open_ledger(sys.argv[1], create=False)
balances(engine, date(2026, 12, 31))  # the file read once, as a ledger in use is
started = time.perf_counter()
table = balances(engine, date(2026, 12, 31))
print(json.dumps({"seconds": time.perf_counter() - started, "clients": len(table)}))
"""

RAW_BALANCE_JOB = """
import json, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("select client_id, sum(amount) from entries group by client_id").fetchall()  # the file read once
started = time.perf_counter()
rows = db.execute("select client_id, sum(amount) from entries where booked_on <= '2026-12-31' group by client_id").fetchall()
print(json.dumps({"seconds": time.perf_counter() - started, "clients": len(rows)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--folder", type=Path, default=Path("big-ledger"))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each job, taking turns (median shown)")
    args = parser.parse_args()
    folder = args.folder / str(args.lines)
    export, tariffs = folder / "export.parquet", folder / "tariffs.xlsx"
    if not export.exists():
        subprocess.run([sys.executable, str(Path(__file__).with_name("make_big_export.py")), "--lines", str(args.lines),
                        "--out", str(folder)], check=True)
    ledgers = [folder / f"ledger-{i}.sqlite" for i in range(args.repeat)]
    for path in ledgers:
        path.unlink(missing_ok=True)
    plain = alternating([(PRICE_JOB, export, tariffs, folder / "out.parquet")], args.repeat)[0]
    posting = [run(PRICE_JOB, export, tariffs, folder / "out.parquet", path) for path in ledgers]
    posting = {**sorted(posting, key=lambda r: r["seconds"])[len(posting) // 2], "runs": [r["seconds"] for r in posting]}
    raw = []
    for i in range(args.repeat):
        target = folder / f"raw-{i}.sqlite"
        target.unlink(missing_ok=True)
        raw.append(run(RAW_JOB, ledgers[0], target, SQLITE_CACHE_KB))
    raw = {**sorted(raw, key=lambda r: r["seconds"])[len(raw) // 2], "runs": [r["seconds"] for r in raw]}
    wide = folder / "clients.sqlite"  # 100 000 clients with points over two years (expiry at work)
    if not wide.exists():
        run(CLIENTS_JOB, wide, 1_000_000, 100_000)
    balance, raw_balance = alternating([(BALANCE_JOB, wide), (RAW_BALANCE_JOB, wide)], args.repeat)
    with sqlite3.connect(ledgers[0]) as db:
        lines, entries = (db.execute(f"select count(*) from {t}").fetchone()[0] for t in ("lines", "entries"))
    overhead = posting["seconds"] - plain["seconds"]
    target = 2 * raw["seconds"] + 1
    print(f"{args.lines:,} export lines; the ledger holds {lines:,} lines and {entries:,} point entries")
    print(f"price, no ledger          {seconds(plain)} s   peak {plain['peak_mb']:,.0f} MB")
    print(f"price --ledger (new file) {seconds(posting)} s   peak {posting['peak_mb']:,.0f} MB")
    print(f"posting overhead          {overhead:.1f} s   (target <= 2 x raw + 1 s = {target:.1f} s: "
          f"{'met' if overhead <= target else 'NOT met'})")
    print(f"raw SQLite, same rows     {seconds(raw)} s   ({raw['rows']:,} rows, executemany, one transaction)")
    print(f"ledger balance            {seconds(balance)} s   ({balance['clients']:,} clients; target <= 1 s: "
          f"{'met' if balance['seconds'] <= 1 else 'NOT met'})")
    print(f"raw SQLite sum per client {seconds(raw_balance)} s   (the same ledger; no lots, windows nor expiry)")


if __name__ == "__main__":
    main()
