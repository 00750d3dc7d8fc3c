"""The operations, on paths, for the command line, Excel and batch scripts alike.

Nothing here prints or exits: results and problems are returned, and an
operation that cannot proceed raises InputError carrying every problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .erp.sample import write_sample_export
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
