"""Work on every core: threads per core, row-wise arithmetic in blocks of rows, clients in parts.

A plugin's arithmetic over ten million lines (a dozen numpy operations, each
making an 80 MB temporary) is dominated by memory, not by sums: every
temporary is fresh memory to fill, and one core does all of it. The same
arithmetic over blocks of a few thousand rows keeps its temporaries small
(reused from block to block, still in cache) and runs on a thread per core,
since numpy lets go of the GIL inside each operation. Only work where each row
depends on its own values alone may be split this way.

Work that needs whole clients (the year end) is split into parts of clients
instead (``client_parts``), and independent whole-column jobs (a parquet
batch's columns) run side by side (``side_by_side``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, TypeVar

import numpy as np

BLOCK_ROWS = 1 << 16  # 512 KB per int64 temporary: a block's arrays stay in the cores' caches
PART_LINES = 2_000_000  # lines per part of the clients; parts run side by side
T = TypeVar("T")
A = TypeVar("A")


def by_blocks(rows: int, compute: Callable[[slice], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """``compute(block)`` over consecutive blocks of ``rows``, its columns joined into whole ones.

    ``compute`` takes a slice of rows and returns named arrays of that block's
    length; it must depend only on the rows of its block. The first block runs
    alone and decides each column's dtype.
    """
    first = compute(slice(0, min(rows, BLOCK_ROWS)))
    columns = {name: np.empty(rows, dtype=np.asarray(values).dtype) for name, values in first.items()}

    def fill(block: slice) -> None:
        for name, values in (first if block.start == 0 else compute(block)).items():
            columns[name][block] = values

    each_block(rows, fill)
    return columns


def each_block(rows: int, compute: Callable[[slice], T]) -> list[T]:
    """``compute(block)`` for consecutive blocks of ``rows`` on a thread per core; the results in block order."""
    blocks = [slice(start, min(rows, start + BLOCK_ROWS)) for start in range(0, rows, BLOCK_ROWS)]
    return side_by_side(compute, blocks)


def side_by_side(compute: Callable[[A], T], jobs: list[A]) -> list[T]:
    """``compute(job)`` for each of ``jobs`` on a thread pool of at most a thread per core; the results in
    job order. Fewer than two jobs run in the calling thread.

    Threads pay only for work that lets go of the GIL: numpy and Arrow over whole
    arrays.
    """
    if len(jobs) < 2:
        return [compute(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=workers(len(jobs))) as pool:
        return list(pool.map(compute, jobs))


def ahead(produce: Callable[[int], T], count: int) -> Iterator[T]:
    """``produce(0)``, ..., ``produce(count - 1)`` in order, each next one made on a helper thread while the
    caller works on the one it has: two stages of a pipeline (converting a slice, writing the one before)
    overlap. At most two results exist at once."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        coming = pool.submit(produce, 0) if count else None
        for k in range(count):
            current = coming.result()
            coming = pool.submit(produce, k + 1) if k + 1 < count else None
            yield current


def client_parts(clients: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """The positions where ``rows`` (a mask) is true, split by client code into parts of about PART_LINES
    lines (at least one part), each client's rows in one part, in row order within a part."""
    parts = max(1, round(int(rows.sum()) / PART_LINES))
    if parts == 1:
        return [np.flatnonzero(rows)]
    bucket = clients % parts
    return [np.flatnonzero(rows & (bucket == k)) for k in range(parts)]


def workers(tasks: int) -> int:
    """Threads for ``tasks`` independent jobs: no more than the cores this process may run on.

    ``os.cpu_count()`` counts the machine's cores, which in a container or under
    ``taskset`` can be far more than the process gets; each running job holds its
    column's temporaries, so too many at once only costs memory.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(tasks, cores))
