"""Freed memory kept for reuse during a job, and the process put back as it was after it."""

import ctypes

import numpy as np
import pyarrow as pa
import pytest

from erp_plugin.memory import _glibc, reusing_memory

BIG = 64 << 20  # far above glibc's default mmap threshold: an array this big gets a mapping of its own


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def mapped_bytes() -> int:
    """Bytes glibc holds in mappings of their own (``hblkhd``): what is unmapped as soon as it is freed."""
    libc = _glibc()
    libc.mallinfo2.restype = MallInfo2
    return libc.mallinfo2().hblkhd


needs_glibc = pytest.mark.skipif(_glibc() is None or not hasattr(_glibc(), "mallinfo2"), reason="glibc >= 2.33 only")


@needs_glibc
def test_within_a_job_big_arrays_come_from_the_heap_and_arrow_allocates_through_glibc():
    before_pool = pa.default_memory_pool().backend_name
    outside = mapped_bytes()
    array = np.ones(BIG // 8)
    assert mapped_bytes() - outside >= BIG  # the default: a mapping of its own, given back when freed
    del array
    with reusing_memory():
        with reusing_memory():  # a nested job (rebates prices first) changes nothing more
            pass
        assert pa.default_memory_pool().backend_name == "system"
        inside = mapped_bytes()
        array = np.ones(BIG // 8)
        assert mapped_bytes() == inside  # from the heap, which keeps it when freed
        del array
    assert pa.default_memory_pool().backend_name == before_pool
    array = np.ones(BIG // 8)
    assert mapped_bytes() - outside >= BIG  # afterwards, as before
    del array
