"""Regenerate the committed sample workbooks in workbooks/ (deterministic: same bytes every run).

    python scripts/make_workbooks.py            # writes the workbooks and the .py files beside them
    python scripts/make_workbooks.py --check    # exit 1 if the committed copies differ from the generator

The files are what `erp-plugin init` writes, with two additions for the analytics reports:
sales_history.xlsx (two years of sales of 40 clients, erp_plugin/output/sample_history.py) and, on the
Clients sheet of tariffs.xlsx, the 34 clients of that history who are not among the template's 6.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from erp_plugin.i18n import use
from erp_plugin.jobs import (
    EXPORT_NAME,
    TARIFFS_NAME,
    TARIFFS_PY,
    YEAR_END_NAME,
    YEAR_END_PY,
    init,
)
from erp_plugin.output.sample_history import HISTORY_CLIENTS, write_history_export
from erp_plugin.output.template import CLIENTS, write_template

WORKBOOKS = Path(__file__).resolve().parent.parent / "workbooks"
HISTORY_NAME = "sales_history.xlsx"
NAMES = (TARIFFS_NAME, EXPORT_NAME, HISTORY_NAME, YEAR_END_NAME, YEAR_END_PY, TARIFFS_PY)


def write(folder: Path) -> list[Path]:
    with use("ru"):  # the samples' Settings descriptions in Russian, whatever the machine's locale
        written = init(folder, force=True)
        write_template(folder / TARIFFS_NAME, (*CLIENTS, *HISTORY_CLIENTS))
        write_history_export(folder / HISTORY_NAME)
    return [*written, folder / HISTORY_NAME]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    if not args.check:
        for path in write(WORKBOOKS):
            print(f"wrote {path}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp))
        stale = [name for name in NAMES if not (WORKBOOKS / name).exists()
                 or (Path(tmp) / name).read_bytes() != (WORKBOOKS / name).read_bytes()]
    for name in stale:
        print(f"workbooks/{name} is out of date: run python scripts/make_workbooks.py")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
