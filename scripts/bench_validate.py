"""Benchmark: `erp-plugin validate` of a 100 000-client tariff workbook, beside pandas + calamine reading it.

    python scripts/bench_validate.py               # the workbook under ./big/1000000 (made there if missing)
    python scripts/bench_validate.py --repeat 5

The workbook is the one ``bench_price.py`` prices with (``make_big_export.py``:
``init``'s template with 100 000 clients, every promotion kind); it is made once
and reused.

The product's job is the command a user types, ``erp-plugin validate FILE``, run
through the installed console entry in its own process and timed from start to
exit: the wait a user has, with Python starting, the imports, reading every
sheet, the checks and the report. pandas' job is
``pd.read_excel(FILE, sheet_name=None, engine="calamine")`` in its own process,
timed around that call only (pandas imported before the clock starts), as the
target is stated. The jobs take turns ``--repeat`` times; the medians are
compared (target: validate <= 2.5 x pandas), and so are the two jobs of each turn,
which ran back to back. Also shown, for where the time goes: ``read_tariffs``
alone in a fresh process, after its imports.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from benchjobs import alternating, seconds

CLI_JOB = """
import json, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
took = time.perf_counter() - started
if done.returncode not in (0, 2):
    raise SystemExit(done.stderr)
print(json.dumps({"seconds": took, "exit": done.returncode, "first_line": done.stdout.splitlines()[0]}))
"""

READ_JOB = """
import json, sys, time
started = time.perf_counter()
from erp_plugin.tariffs import read_tariffs
imported = time.perf_counter()
book, problems = read_tariffs(sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - imported, "imports": imported - started,
                  "clients": len(book.clients) if book else None}))
"""

PANDAS_JOB = """
import json, sys, time
import pandas as pd
started = time.perf_counter()
sheets = pd.read_excel(sys.argv[1], sheet_name=None, engine="calamine")
print(json.dumps({"seconds": time.perf_counter() - started, "rows": sum(len(f) for f in sheets.values())}))
"""


def workbook(folder: Path) -> Path:
    """The 100 000-client tariff workbook of ``make_big_export.py`` in ``folder``, made if missing."""
    path = folder / "tariffs.xlsx"
    if not path.exists():
        from make_big_export import tariff_workbooks

        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        tariff_workbooks(folder, 2026)
        print(f"wrote {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


def cli_command(path: Path) -> list[str]:
    """``erp-plugin validate FILE`` through the console entry installed beside this Python."""
    entry = Path(sys.executable).with_name("erp-plugin")
    if not entry.exists():
        entry = Path(shutil.which("erp-plugin") or "")
    return [str(entry), "validate", str(path)] if entry.name else [sys.executable, "-m", "erp_plugin", "validate", str(path)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("big") / "1000000", help="folder of the workbook")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each job, taking turns; the median is shown")
    args = parser.parse_args()
    path = workbook(args.data)
    cli, read, pandas = alternating([
        (CLI_JOB, *cli_command(path)),
        (READ_JOB, path),
        (PANDAS_JOB, path),
    ], args.repeat)
    print(json.dumps({"validate": cli["first_line"], "exit": cli["exit"]}, ensure_ascii=False))
    print(f"{'job':<58} {'seconds':>22}")
    print(f"{'erp-plugin validate FILE (the whole command)':<58} {seconds(cli):>22}")
    print(f"{'read_tariffs alone, after its imports (' + format(read['imports'], '.1f') + ' s)':<58} {seconds(read):>22}")
    print(f"{'pandas read_excel(sheet_name=None, engine=calamine)':<58} {seconds(pandas):>22}")
    # each turn's jobs ran back to back, so the load of a shared machine hits the pair alike
    ratios = sorted(c / p for c, p in zip(cli["runs"], pandas["runs"]))
    print(f"validate / pandas = {cli['seconds'] / pandas['seconds']:.2f} (medians; target <= 2.5), "
          f"turn by turn {ratios[len(ratios) // 2]:.2f} (median of {' '.join(f'{r:.2f}' for r in ratios)}); "
          f"read_tariffs / pandas = {read['seconds'] / pandas['seconds']:.2f}")


if __name__ == "__main__":
    main()
