"""Freed memory kept in the process while a big job runs, to be used again.

Pricing ten million lines makes and drops column-sized arrays (80 MB) hundreds
of times. By default glibc gives every array that big its own mapping from the
kernel and unmaps it when it is freed, threads beyond the first take memory from
arenas of their own, and pyarrow's allocator hands its pages back as well: so
nearly every new column is fresh memory the kernel must fault in and zero. On the
benchmark's virtual machine that was a third of the run (14 s of system time in a
29 s run at 10M lines), since memory the guest has never touched is slow to touch.

``reusing_memory()`` keeps what a job frees for its next arrays: glibc serves
big blocks from its heap (``M_MMAP_MAX`` 0) and keeps freed memory there
(``M_TRIM_THRESHOLD``), every thread allocates from that one heap
(``M_ARENA_MAX`` 1), and Arrow allocates through glibc too (its system pool).
When the outermost job ends, the mapping and trimming settings are put back and
the heap is trimmed, so a long-lived process (Excel, a batch script) keeps no more
than before. The arena limit cannot be lifted once glibc has used it: threads
made afterwards in the same process share the one heap, which costs some
contention on ``malloc`` and nothing else. Elsewhere than glibc (macOS, musl)
this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import threading
from contextlib import contextmanager

M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -4, -8
DEFAULT_TRIM_THRESHOLD, DEFAULT_MMAP_MAX = 128 * 1024, 65536  # glibc's own defaults
KEEP_FREED = 2**31 - 1  # the largest M_TRIM_THRESHOLD mallopt takes (an int): the heap keeps up to 2 GB freed at its top

_lock = threading.Lock()
_state = {"depth": 0, "pool": None}


@functools.cache
def _glibc():
    """glibc's malloc tuning calls, or None where the C library is another."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - glibc has it; musl and macOS do not
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):
        return None


@contextmanager
def reusing_memory():
    """Within: freed memory stays in the process for the job's next arrays (nested jobs share one setting)."""
    libc = _glibc()
    if libc is None:
        yield
        return
    import pyarrow as pa

    with _lock:
        _state["depth"] += 1
        if _state["depth"] == 1:
            libc.mallopt(M_ARENA_MAX, 1)
            libc.mallopt(M_MMAP_MAX, 0)
            libc.mallopt(M_TRIM_THRESHOLD, KEEP_FREED)
            _state["pool"] = pa.default_memory_pool()
            pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                pa.set_memory_pool(_state["pool"])
                libc.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
                libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM_THRESHOLD)
                libc.malloc_trim(0)
