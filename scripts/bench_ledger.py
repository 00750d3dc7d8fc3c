"""Benchmark: posting 1M accruals into an SQLite ledger, then the balance of 100 000 clients.

    python scripts/bench_ledger.py            # targets: posting <= 30 s, balances <= 5 s
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from erp_plugin.ledger.store import balances, open_ledger, post


def priced_lines(count: int, clients: int, seed: int = 6) -> pd.DataFrame:
    """Priced lines with one accrual each: what `price` hands the ledger."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "doc_id": pd.Categorical(np.char.add("D", (np.arange(count) // 4).astype(str))),
        "line_no": np.arange(count) % 4 + 1,
        "sku": pd.Categorical(["S"] * count),
        "client_id": pd.Categorical(np.char.add("C", rng.integers(0, clients, size=count).astype(str))),
        "date": np.datetime64("2026-01-01", "s") + rng.integers(0, 365, size=count).astype("timedelta64[D]"),
        "moneyback_days": rng.choice(np.array([0, 14, 30]), size=count),
        "net": rng.integers(1_000, 10_000_000, size=count),
        "bonus_accrued": rng.integers(1, 100_000, size=count),
        "bonus_redeemed": np.zeros(count, dtype=np.int64),
        "source_row": np.arange(2, count + 2),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=100_000)
    args = parser.parse_args()
    lines = priced_lines(args.lines, args.clients)
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_ledger(Path(tmp) / "ledger.sqlite")
        started = time.perf_counter()
        posted = post(engine, lines, "bench")
        posting = time.perf_counter() - started
        started = time.perf_counter()
        table = balances(engine, date(2026, 12, 31), expiry_months=12)
        balance = time.perf_counter() - started
    print(f"posted {posted.added:,} accruals in {posting:.1f} s (target <= 30 s)")
    print(f"balances of {len(table):,} clients in {balance:.1f} s (target <= 5 s)")


if __name__ == "__main__":
    main()
