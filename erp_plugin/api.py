"""The operations, on paths, for the command line, Excel and batch scripts alike.

Nothing here prints or exits: results and problems are returned, and an
operation that cannot proceed raises InputError carrying every problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from .erp.lines import input_kinds, money
from .erp.read import Export, read_export
from .erp.sample import write_sample_export
from .erp.write import Table, output_problem, write_output
from .plugins.gross import add_gross
from .problems import InputError, Problem, Problems
from .tariffs import TariffBook, read_tariffs
from .tariffs.template import write_template

TARIFFS_NAME = "tariffs.xlsx"
EXPORT_NAME = "sales_export.xlsx"


@dataclass(frozen=True)
class Validation:
    path: str
    book: TariffBook | None  # None when there are errors
    problems: Problems

    @property
    def ok(self) -> bool:
        return not self.problems.errors


def validate(tariffs: str | Path, today: date | None = None) -> Validation:
    """Read and check a tariff workbook; every error and warning, each with its ``Sheet!Cell``."""
    book, problems = read_tariffs(tariffs, today)
    return Validation(str(tariffs), book, problems)


def load_tariffs(tariffs: str | Path, today: date | None = None) -> TariffBook:
    """The validated TariffBook, or InputError with every problem when the workbook has errors."""
    result = validate(tariffs, today)
    if result.book is None:
        raise InputError(result.problems.errors)
    return result.book


def init(directory: str | Path = ".", force: bool = False) -> list[Path]:
    """Write a fresh tariff workbook and a sample 1C-style export into ``directory``.

    Refuses to replace existing files unless ``force``; both files are checked
    before either is written.
    """
    folder = Path(directory)
    targets = [folder / TARIFFS_NAME, folder / EXPORT_NAME]
    if folder.exists() and not folder.is_dir():
        raise InputError([Problem("init.not_a_folder", "is a file; give a folder for the new workbooks", file=str(folder))])
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise InputError(
            [Problem("init.exists", "already exists; use --force to replace it, or choose another folder", file=str(t)) for t in existing]
        )
    folder.mkdir(parents=True, exist_ok=True)
    write_template(targets[0])
    write_sample_export(targets[1])
    return targets


@dataclass(frozen=True)
class ReadResult:
    export: Export
    lines: pd.DataFrame  # the lines with gross
    written: list[Path]
    minor_units: int


def read(
    export: str | Path,
    tariffs: str | Path | TariffBook | None = None,
    out: str | Path | None = None,
    sheet: str | None = None,
    skip_bad_lines: bool = False,
    in_place: bool = False,
) -> ReadResult:
    """Read an export as pricing will (with the tariff workbook's Columns mapping, if given).

    With ``out``, write ``gross`` back (and a Warnings table of skipped lines).
    Raises InputError with every problem when the export has errors; nothing is written then.
    """
    book = load_tariffs(tariffs) if isinstance(tariffs, (str, Path)) else tariffs
    columns = {c.field: c.header for c in book.columns} if book else {}
    minor_units = book.settings.minor_units if book else 2
    data = read_export(export, columns, sheet, skip_bad_lines, minor_units)
    if data.problems.errors:
        raise InputError(data.problems.errors)
    if out is not None:
        problem = output_problem(data.source, Path(out), in_place)
        if problem:
            raise InputError([problem])
    lines = add_gross(data.lines, minor_units)
    written: list[Path] = []
    if out is not None:
        tables = [warnings_table(data.problems)] if data.problems.warnings else []
        kinds = input_kinds(minor_units)
        written = write_output(data.source, lines, {"gross": money(minor_units)}, tables, out, in_place, kinds)
    return ReadResult(data, lines, written, minor_units)


def warnings_table(problems: Problems) -> Table:
    """The warnings of a run as the ``warnings`` table (a Warnings sheet in Excel)."""
    rows = [
        {"where": p.where, "row": p.row, "field": p.field, "code": p.code, "message": p.message}
        for p in problems.warnings
    ]
    frame = pd.DataFrame(rows, columns=["where", "row", "field", "code", "message"])
    frame["row"] = frame["row"].astype("Int64")
    from .erp.lines import INT

    return Table("warnings", frame, {"row": INT})
