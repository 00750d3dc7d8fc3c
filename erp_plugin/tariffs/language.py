"""The tariff workbook's Settings ``language``, read on its own before anything else.

The faces choose the language of every message before the workbook is read in
full (its problems are shown in that language), so this reads only the Settings
sheet's key/value rows. A workbook it cannot read, or a value that is not a
language, gives None: the full read reports the problem.
"""

from __future__ import annotations

from pathlib import Path

from ..erp.fields import normalize_header
from ..xlsx import check_workbook
from .schema import SHEET
from .workbook import MAX_CELLS

KEY = "language"


def workbook_language(path: str | Path) -> str | None:
    """``ru``/``en`` from the Settings sheet of the tariff workbook at ``path``; None when blank or unreadable."""
    import python_calamine

    path = Path(path)
    if check_workbook(path, "tariff workbook", max_cells=MAX_CELLS) is not None:
        return None
    spec = SHEET["Settings"]
    names = {normalize_header(n) for n in (spec.name, *spec.aliases)}
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        title = next((t for t in workbook.sheet_names if normalize_header(t) in names), None)
        if title is None:
            return None
        rows = workbook.get_sheet_by_name(title).to_python(skip_empty_area=True)
    except Exception:  # calamine's own errors on a damaged file: the full read names them
        return None
    for row in rows:
        filled = [value for value in row if value not in ("", None)]
        if len(filled) >= 2 and normalize_header(str(filled[0])) == KEY:
            value = str(filled[1]).strip().casefold()
            return value if value in ("ru", "en") else None
    return None
