"""Row-wise column arithmetic in blocks of rows, on every core.

A plugin's arithmetic over ten million lines (a dozen numpy operations, each
making an 80 MB temporary) is dominated by memory, not by sums: every
temporary is fresh memory to fill, and one core does all of it. The same
arithmetic over blocks of a few thousand rows keeps its temporaries small
(reused from block to block, still in cache) and runs on a thread per core,
since numpy lets go of the GIL inside each operation. Only work where each row
depends on its own values alone may be split this way.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from .threads import workers

BLOCK_ROWS = 1 << 18  # 512 KB per int64 temporary: a block's arrays stay in the cores' caches


def by_blocks(rows: int, compute: Callable[[slice], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """``compute(block)`` over consecutive blocks of ``rows``, its columns joined into whole ones.

    ``compute`` takes a slice of rows and returns named arrays of that block's
    length; it must depend only on the rows of its block. The first block runs
    alone and decides each column's dtype.
    """
    first = compute(slice(0, min(rows, BLOCK_ROWS)))
    columns = {name: np.empty(rows, dtype=np.asarray(values).dtype) for name, values in first.items()}

    def fill(start: int, part: dict[str, np.ndarray]) -> None:
        for name, values in part.items():
            columns[name][start:start + BLOCK_ROWS] = values

    fill(0, first)
    starts = range(BLOCK_ROWS, rows, BLOCK_ROWS)
    if len(starts):
        with ThreadPoolExecutor(max_workers=workers(len(starts))) as pool:
            for _ in pool.map(lambda start: fill(start, compute(slice(start, min(rows, start + BLOCK_ROWS)))), starts):
                pass
    return columns
