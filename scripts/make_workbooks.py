"""Regenerate the committed sample workbooks in workbooks/ (deterministic: same bytes every run).

    python scripts/make_workbooks.py            # writes the workbooks and year_end.py that `erp-plugin init` writes
    python scripts/make_workbooks.py --check    # exit 1 if the committed copies differ from the generator
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from erp_plugin.jobs import (
    EXPORT_NAME,
    TARIFFS_NAME,
    TARIFFS_PY,
    YEAR_END_NAME,
    YEAR_END_PY,
    init,
)

WORKBOOKS = Path(__file__).resolve().parent.parent / "workbooks"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    if not args.check:
        for path in init(WORKBOOKS, force=True):
            print(f"wrote {path}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        init(tmp)
        stale = [name for name in (TARIFFS_NAME, EXPORT_NAME, YEAR_END_NAME, YEAR_END_PY, TARIFFS_PY)
                 if (Path(tmp) / name).read_bytes() != (WORKBOOKS / name).read_bytes()]
    for name in stale:
        print(f"workbooks/{name} is out of date: run python scripts/make_workbooks.py")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
