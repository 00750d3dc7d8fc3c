"""Problems are values with a place, collected and reported all at once.

A reader or validator never raises on a user's mistake: it appends a Problem
naming where it is (``Tariffs!D4``, ``export row 1287, field qty``), a stable
code for scripts, and a message saying what is wrong and what would be right.
Only the faces decide how to show them; a run with any error writes nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Iterable, Literal

from .i18n import msg

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    severity: Severity = "error"
    sheet: str | None = None
    cell: str | None = None
    row: int | None = None
    field: str | None = None
    file: str | None = None

    @property
    def where(self) -> str:
        """``Sheet!Cell``, ``Sheet``, or ``export row N, field F`` — what a user looks for (a msgid: the faces
        show it in the chosen language)."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        if self.row is not None:
            if self.field:
                return msg("export row {row}, field {field}", row=self.row, field=self.field)
            return msg("export row {row}", row=self.row)
        if self.field:
            return msg("export field {field}", field=self.field)
        return self.sheet or self.file or ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def as_dict(self) -> dict:
        return {"where": self.where, **{k: v for k, v in asdict(self).items() if v is not None}}


@dataclass
class Problems:
    """An ordered collection that readers append to."""

    items: list[Problem] = field(default_factory=list)

    def error(self, code: str, message: str, **where) -> None:
        self.items.append(Problem(code, message, "error", **where))

    def warning(self, code: str, message: str, **where) -> None:
        self.items.append(Problem(code, message, "warning", **where))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class InputError(Exception):
    """The user's input has errors; carries every problem found, nothing was written."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        first = self.problems[0] if self.problems else "invalid input"
        more = len(self.problems) - 1
        super().__init__(f"{first}" + (f" (and {more} more)" if more > 0 else ""))
