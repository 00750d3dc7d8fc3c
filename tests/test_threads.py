"""The thread count of whole-column work."""

import os
import subprocess
import sys

import pytest

from erp_plugin.parallel import workers


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
