"""The thread count of whole-column work."""

import os
import subprocess
import sys
import threading

import pytest

from erp_plugin.parallel import ahead, workers


def test_threads_are_bounded_by_the_jobs():
    assert workers(1) == 1 and workers(0) == 1


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is a Linux call")
def test_threads_follow_the_cores_the_process_may_use_not_the_machines():
    """Pinned to one core (as taskset or a container's cpuset does), a process runs one thread, however
    many cores the machine has."""
    code = "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); " \
           "from erp_plugin.parallel import workers; print(workers(64))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1"


def test_ahead_makes_the_next_result_while_the_caller_has_the_current_one():
    """The next slice is asked for before the caller is handed the current one; order kept, an error raised
    where the caller would have made that result itself."""
    asked, started = [], threading.Event()

    def produce(k):
        asked.append(k)
        if k == 1:
            started.set()
        if k == 3:
            raise ValueError("slice 3 is bad")
        return k * 10

    results = ahead(produce, 3)
    assert next(results) == 0
    assert started.wait(10)  # slice 1 is made while the caller holds slice 0, without asking again
    assert list(results) == [10, 20] and asked == [0, 1, 2]
    assert list(ahead(produce, 0)) == []
    with pytest.raises(ValueError, match="slice 3 is bad"):
        list(ahead(produce, 5))
