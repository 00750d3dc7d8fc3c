"""How many threads to run side by side for whole-column work (Arrow and numpy release the GIL)."""

from __future__ import annotations

import os


def workers(tasks: int) -> int:
    """Threads for ``tasks`` independent jobs: no more than the cores this process may run on.

    ``os.cpu_count()`` counts the machine's cores, which in a container or under
    ``taskset`` can be far more than the process gets; each running job holds its
    column's temporaries, so too many at once only costs memory.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(tasks, cores))
