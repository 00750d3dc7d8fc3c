"""Running a benchmark job in its own process, so that its wall time and peak memory are its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ERP_PLUGIN = str(Path(sys.executable).with_name("erp-plugin"))  # the command a user runs, from this environment

# a command run as a user runs it: its whole wall time (interpreter start and imports included) and its
# peak memory (the one child's), measured from a small process of its own
COMMAND = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - started
if done.returncode:
    raise SystemExit(done.stdout + done.stderr)
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "stdout": done.stdout}))
"""


def command(*argv) -> tuple:
    """A job for ``run``/``alternating`` that runs ``argv`` (``erp-plugin price ...``) as a user does."""
    return (COMMAND, *argv)


def run(job: str, *args) -> dict:
    """Run Python source ``job`` with ``args`` as sys.argv[1:]; its last output line is a JSON result."""
    done = subprocess.run([sys.executable, "-c", job, *map(str, args)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def alternating(jobs: list[tuple], repeat: int) -> list[dict]:
    """Run each ``(job, *args)`` ``repeat`` times, taking turns (so that a slow spell of the machine hits
    every job alike); per job, the run with the median time, with every run's seconds under ``runs``."""
    results = [[] for _ in jobs]
    for _ in range(repeat):
        for done, (job, *args) in zip(results, jobs):
            done.append(run(job, *args))
    medians = []
    for done in results:
        ordered = sorted(done, key=lambda r: r["seconds"])
        medians.append({**ordered[len(ordered) // 2], "runs": [r["seconds"] for r in done]})
    return medians


def seconds(result: dict) -> str:
    """``7.2`` for one run, ``7.2 (7.0 7.2 7.9)`` for several: the median and every run."""
    runs = result.get("runs", [result["seconds"]])
    return f"{result['seconds']:.1f}" + (f" ({' '.join(f'{s:.1f}' for s in runs)})" if len(runs) > 1 else "")
