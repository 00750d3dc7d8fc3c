"""Running a benchmark job in its own process, so that its wall time and peak memory are its own."""

from __future__ import annotations

import json
import subprocess
import sys


def run(job: str, *args) -> dict:
    """Run Python source ``job`` with ``args`` as sys.argv[1:]; its last output line is a JSON result."""
    done = subprocess.run([sys.executable, "-c", job, *map(str, args)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])
