"""Where results cannot be written: answered in one line naming the target, exit 2, nothing half-written and no
temp file left — checked before the work where it can be (SPEC §6, issue 16)."""

import os
import resource
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ERP_PLUGIN = [sys.executable, "-m", "erp_plugin"]


@pytest.fixture(scope="module")
def programme(tmp_path_factory):
    folder = tmp_path_factory.mktemp("programme")
    subprocess.run([*ERP_PLUGIN, "init", str(folder)], check=True, capture_output=True)
    return folder


def price(programme, out, **popen):
    return subprocess.run([*ERP_PLUGIN, "price", str(programme / "sales_export.xlsx"), "--tariffs",
                           str(programme / "tariffs.xlsx"), "--out", str(out)], capture_output=True, text=True, **popen)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_an_out_that_is_a_folder_is_refused_before_pricing(programme, tmp_path):
    (tmp_path / "result.xlsx").mkdir()
    done = price(programme, tmp_path / "result.xlsx")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "result.xlsx: is a folder; give a file in it" in " ".join(done.stderr.split())
    assert "lines" not in done.stdout  # refused before the export was priced: no summary


def test_a_file_size_limit_stops_the_write_with_its_target_named_and_nothing_left(programme, tmp_path):
    """EFBIG (as a full disk's ENOSPC): the write fails part-way; the temp file goes, no output appears."""
    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    out = tmp_path / "priced.xlsx"
    done = price(programme, out, preexec_fn=limited)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert ("priced.xlsx: cannot be written, so nothing was written; check that its folder exists, that the disk has "
            "room and that you may write there (detail: File too large)") in " ".join(done.stderr.split())
    assert not out.exists() and leftovers(tmp_path) == []


def test_a_run_killed_while_writing_leaves_no_temp_file(tmp_path):
    """SIGTERM in the middle of a write: the command line's handler exits through Python and the temp file is
    removed (without the handler the process dies with the half-written temp file beside the target)."""
    target = tmp_path / "priced.csv"
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from erp_plugin.cli import _exit_cleanly_on_signals
        from erp_plugin.xlsx import atomic_write

        _exit_cleanly_on_signals()

        def write(temp):
            temp.write_text("half of the lines")
            os.kill(os.getpid(), signal.SIGTERM)

        atomic_write(Path({str(target)!r}), write)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert not target.exists() and leftovers(tmp_path) == []


def test_temp_files_a_killed_run_left_are_removed_by_the_next(programme, tmp_path):
    out = tmp_path / "priced.xlsx"
    stale = tmp_path / ".priced.xlsx.999999999.tmp"  # no such process
    stale.write_bytes(b"PK half a workbook")
    running = tmp_path / f".priced.xlsx.{os.getpid()}.tmp"  # a live process's: not touched
    running.write_bytes(b"being written")
    done = price(programme, out)
    assert done.returncode == 0, done.stderr
    assert out.exists() and not stale.exists() and running.exists()
