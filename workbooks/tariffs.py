"""The Preview sheet of tariffs.xlsx, beside this file: the basket under every tariff.

In Excel: the xlwings tab, Run main (the add-in runs main() of the .py file named like the workbook:
rename this file with the workbook). Outside Excel: python tariffs.py [tariffs.xlsx], the same job.
"""

import sys
from pathlib import Path

from erp_plugin.excel.preview import main  # noqa: F401  (Run main calls it)

if __name__ == "__main__":
    from erp_plugin.cli import main as cli

    cli(["preview", *(sys.argv[1:] or [str(Path(__file__).with_suffix(".xlsx"))])])
