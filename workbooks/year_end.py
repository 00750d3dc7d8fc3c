"""Year-end rebates into year_end.xlsx, beside this file.

In Excel: the xlwings tab, Run main (the add-in runs main() of the .py file named like the workbook:
rename this file with the workbook). Outside Excel: python year_end.py [year_end.xlsx], the same job.
"""

import sys
from pathlib import Path

from erp_plugin.excel.year_end import main  # noqa: F401  (Run main calls it)

if __name__ == "__main__":
    from erp_plugin.cli import main as cli

    cli(["year-end", *(sys.argv[1:] or [str(Path(__file__).with_suffix(".xlsx"))])])
