"""Allocator tuning happens in the ``erp-plugin`` command's own process and never in a library call.

Each case runs in a fresh Python process (the settings are process-wide and are never undone), prices the
sample export, then looks at the allocator from inside: whether a 64 MB array gets a mapping of its own
(glibc's default) or comes from the heap (tuned), and which pool Arrow allocates from.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from erp_plugin.memory import _glibc

ROOT = Path(__file__).resolve().parents[1]
EXPORT, TARIFFS = ROOT / "workbooks" / "sales_export.xlsx", ROOT / "workbooks" / "tariffs.xlsx"

LOOK = """
import ctypes, json
import numpy as np, pyarrow as pa
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
before = libc.mallinfo2().hblkhd
array = np.ones((64 << 20) // 8)  # far above glibc's default mmap threshold
print(json.dumps({"own_mapping": libc.mallinfo2().hblkhd - before >= 64 << 20,
                  "arrow_pool": pa.default_memory_pool().backend_name}))
"""

LIBRARY_CALL = """
import sys
import erp_plugin
erp_plugin.price(sys.argv[1], sys.argv[2], out=sys.argv[3])
""" + LOOK

COMMAND_LINE = """
import sys
from erp_plugin.cli import main
main(["price", sys.argv[1], "--tariffs", sys.argv[2], "--out", sys.argv[3]], standalone_mode=False)
""" + LOOK

needs_glibc = pytest.mark.skipif(_glibc() is None or not hasattr(_glibc(), "mallinfo2"), reason="glibc >= 2.33 only")


def allocator_after(job: str, out: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "ARROW_DEFAULT_MEMORY_POOL"))}
    done = subprocess.run([sys.executable, "-c", job, str(EXPORT), str(TARIFFS), str(out)], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert out is None or out.exists()  # the job ran to the end
    return json.loads(done.stdout.strip().splitlines()[-1])


def untouched_process() -> dict:
    """A process that ran nothing of ours."""
    return allocator_after(LOOK)


@needs_glibc
def test_a_library_call_leaves_the_allocator_as_it_was(tmp_path):
    assert allocator_after(LIBRARY_CALL, tmp_path / "priced.xlsx") == {"own_mapping": True,
                                                                         "arrow_pool": untouched_process()["arrow_pool"]}


@needs_glibc
def test_the_command_line_keeps_freed_memory_for_reuse(tmp_path):
    assert untouched_process()["arrow_pool"] != "system"  # else the test below could not fail
    assert allocator_after(COMMAND_LINE, tmp_path / "priced.xlsx") == {"own_mapping": False, "arrow_pool": "system"}


@needs_glibc
def test_a_pool_the_user_chose_is_kept(tmp_path):
    env_job = "import os; os.environ['ARROW_DEFAULT_MEMORY_POOL'] = 'mimalloc'\n" + COMMAND_LINE
    assert allocator_after(env_job, tmp_path / "priced.xlsx")["arrow_pool"] == "mimalloc"
