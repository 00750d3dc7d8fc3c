"""The ``erp-plugin`` command's allocator settings: freed memory kept in its process for the next arrays.

Pricing ten million lines makes and drops column-sized arrays (80 MB) hundreds
of times. By default glibc gives every array that big its own mapping from the
kernel and unmaps it when it is freed, threads beyond the first take memory from
arenas of their own, and pyarrow's allocator hands its pages back as well: so
nearly every new column is fresh memory the kernel must fault in and zero. On the
benchmark's virtual machine that was a third of the run (14 s of system time in a
29 s run at 10M lines), since memory the guest has never touched is slow to touch.

``tune_command_line_process()`` keeps what a job frees for its next arrays:
glibc serves big blocks from its heap (``M_MMAP_MAX`` 0) and keeps freed memory
there (``M_TRIM_THRESHOLD``, up to 2 GB at its top), every thread allocates from
that one heap (``M_ARENA_MAX`` 1), and Arrow allocates through glibc too (its
system pool, through ``ARROW_DEFAULT_MEMORY_POOL`` unless the user set it).

These settings are the process's, and some cannot be undone (glibc fixes its
arena limit once used), so only the command line applies them, once, when it
starts (``cli.main``); the process ends with the command, and nothing is put
back. A library call (``erp_plugin.price`` in a script, Excel's Python) never
changes them. Elsewhere than glibc (macOS, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -4, -8
KEEP_FREED = 2**31 - 1  # the largest M_TRIM_THRESHOLD mallopt takes (an int): the heap keeps up to 2 GB freed at its top
ARROW_POOL = "ARROW_DEFAULT_MEMORY_POOL"  # read by Arrow when it makes its default pool


@functools.cache
def _glibc():
    """glibc's malloc tuning calls, or None where the C library is another."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - glibc has it; musl and macOS do not
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        return libc
    except (OSError, AttributeError):
        return None


def tune_command_line_process() -> None:
    """Keep freed memory in this process for the next arrays: for the command line's own process only.

    Imports nothing heavy: when pyarrow is not loaded yet, Arrow is told through its environment
    variable (which the command's child processes would inherit too)."""
    libc = _glibc()
    if libc is None:
        return
    libc.mallopt(M_ARENA_MAX, 1)
    libc.mallopt(M_MMAP_MAX, 0)
    libc.mallopt(M_TRIM_THRESHOLD, KEEP_FREED)
    if os.environ.setdefault(ARROW_POOL, "system") == "system" and "pyarrow" in sys.modules:
        import pyarrow as pa  # already loaded, its default pool perhaps made: set it

        pa.set_memory_pool(pa.system_memory_pool())
