"""A posting run for the ledger fault tests, in its own process: ``python ledger_job.py LEDGER LINES``.

Builds a priced-lines frame of LINES synthetic lines (one accrual each), prints ``posting``
and posts it; prints the result as ``added unchanged``.
"""

import sys

import numpy as np
import pandas as pd

from erp_plugin.ledger.store import open_ledger, post


def frame(count: int) -> pd.DataFrame:
    return pd.DataFrame({
        "doc_id": pd.Categorical(np.char.add("D", (np.arange(count) // 4).astype(str))),
        "line_no": np.arange(count) % 4 + 1,
        "sku": pd.Categorical(["S"] * count),
        "client_id": pd.Categorical(np.char.add("C", (np.arange(count) % 1000).astype(str))),
        "date": np.full(count, np.datetime64("2026-03-02", "s")),
        "bonus_accrued": np.full(count, 100, dtype=np.int64),
        "bonus_redeemed": np.zeros(count, dtype=np.int64),
        "source_row": np.arange(2, count + 2),
    })


if __name__ == "__main__":
    engine = open_ledger(sys.argv[1])
    lines = frame(int(sys.argv[2]))
    print("posting", flush=True)
    result = post(engine, lines, "synthetic")
    print(result.added, result.unchanged, flush=True)
