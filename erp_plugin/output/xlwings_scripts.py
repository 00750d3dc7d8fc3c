"""The ``.py`` files xlwings' "Run main" runs beside a workbook (the one named like it), written by ``init``.

Each only points at a job of this package: ``main()`` for Excel, and the same job through the
command line when run as ``python NAME.py`` outside Excel.
"""

from __future__ import annotations

SCRIPT = '''"""{about}

In Excel: the xlwings tab, Run main (the add-in runs main() of the .py file named like the workbook:
rename this file with the workbook). Outside Excel: python {name}.py [{name}.xlsx], the same job.
"""

import sys
from pathlib import Path

from erp_plugin.excel.{job} import main  # noqa: F401  (Run main calls it)

if __name__ == "__main__":
    from erp_plugin.cli import main as cli

    cli(["{command}", *(sys.argv[1:] or [str(Path(__file__).with_suffix(".xlsx"))])])
'''


def run_main_script(name: str, job: str, command: str, about: str) -> str:
    """The script for workbook ``name``.xlsx: Run main calls ``erp_plugin.excel.<job>.main``."""
    return SCRIPT.format(name=name, job=job, command=command, about=about)


YEAR_END_SCRIPT = run_main_script("year_end", "year_end", "year-end",
                                  "Year-end rebates into year_end.xlsx, beside this file.")
TARIFFS_SCRIPT = run_main_script("tariffs", "preview", "preview",
                                 "The Preview sheet of tariffs.xlsx, beside this file: the basket under every tariff.")
