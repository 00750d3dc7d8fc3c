"""Problems are values with a place, collected and reported all at once.

A reader or validator never raises on a user's mistake: it appends a Problem
naming where it is (``Tariffs!D4``, ``export row 1287, field qty``), a stable
code for scripts, and a message saying what is wrong and what would be right.
Only the faces decide how to show them; a run with any error writes nothing.

A problem may stand for several lines (``count``): a grouped warning (one per
``group``, e.g. a marker and its promotions, listed at its worst line), or a
cap's note saying how many lines of a code are not listed one by one. Counts
stay true however many problems are listed: ``total`` adds them up, ``unlisted``
says how many were left out of the list, and ``combined`` joins lists made
apart (the Dask engine's buckets) into the one a single run would give.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
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
    count: int = 1  # the lines it stands for: a grouped warning's, or the lines a cap's note did not list
    group: str | None = None  # what a grouped warning's lines share: one problem per code and group
    rank: int = 0  # how bad a grouped warning's listed line is; joining groups keeps the worst listing
    unlisted: bool = False  # a cap's note: ``count`` lines with this code are not listed one by one

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
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text} ({self.count} line{'s' * (self.count != 1)})" if self.group is not None else text

    def as_dict(self) -> dict:
        """The problem for a script: its place and every field set (``count`` when it stands for more or fewer
        than one line, ``group`` and ``unlisted`` when it has them)."""
        fields = {k: v for k, v in asdict(self).items() if v is not None and k not in ("count", "rank", "unlisted")}
        extra = {"count": self.count} if self.count != 1 or self.group is not None else {}
        return {"where": self.where, **fields, **extra, **({"unlisted": True} if self.unlisted else {})}


def not_listed(code: str, count: int, severity: Severity, field: str | None = None) -> Problem:
    """A cap's note: ``count`` more lines with the problem ``code`` (in ``field``), counted but not listed."""
    return Problem(code, msg("and {count} more lines with the same problem, counted here but not listed one by one",
                             count=count), severity, field=field, count=count, unlisted=True)


def total(problems: Iterable[Problem]) -> int:
    """How many lines (or places) the problems stand for: a grouped warning or a cap's note counts its lines."""
    return sum(p.count for p in problems)


def unlisted(problems: Iterable[Problem]) -> int:
    """How many of them a cap left out of the list (counted in its notes)."""
    return sum(p.count for p in problems if p.unlisted)


def combined(problems: Iterable[Problem], cap: int) -> list[Problem]:
    """Problems gathered from several lists (each capped at ``cap`` per code, with its notes) as one list
    would hold them: per code, in the order codes first come, grouped warnings joined (counts added, the
    worst listing kept, ties to the earlier row) in the order of their listed rows, problems with a row in
    row order and at most ``cap`` of them, one note counting every line not listed, then the problems
    without a row once each. Joined again, a combined list gives itself back."""
    by_code: dict[str, list[Problem]] = {}
    for problem in problems:
        by_code.setdefault(problem.code, []).append(problem)
    kept: list[Problem] = []
    for code, listed in by_code.items():
        groups: dict[str, Problem] = {}
        for p in (p for p in listed if p.group is not None):
            before = groups.get(p.group)
            if before is None:
                groups[p.group] = p
                continue
            worst = min(before, p, key=lambda q: (-q.rank, q.row is None, q.row or 0))
            groups[p.group] = replace(worst, count=before.count + p.count)
        kept += sorted(groups.values(), key=lambda p: (p.row is None, p.row or 0, p.group))
        rowed = sorted((p for p in listed if p.row is not None and p.group is None), key=lambda p: p.row)
        kept += rowed[:cap]
        left_out = [*rowed[cap:], *(p for p in listed if p.unlisted)]
        kept += list(dict.fromkeys(p for p in listed if p.row is None and p.group is None and not p.unlisted))
        if left_out:
            fields = {p.field for p in left_out}
            kept.append(not_listed(code, sum(p.count for p in left_out), listed[0].severity,
                                   fields.pop() if len(fields) == 1 else None))
    return kept


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
