"""The explicit, ordered list of line plugins, and running it over a lines frame.

A line plugin is a plain function ``plugin(lines, ctx) -> lines``: it adds its
columns and returns the frame, reports bad lines through ``ctx.flag`` and adds
result tables to ``ctx.tables``. Order matters for money (discounts before
bonuses before totals), so it is a list, not a registry. Plugins need whole
clients in one frame (coupons and bonus balances run per client), which keeps
whole documents together too; a partitioned run must bucket lines by client.

A bad line (option days beyond every bracket, an unknown payment, an overdraw)
is flagged with its export row and field. Without ``skip_bad_lines`` the run
then stops with every problem; with it, the flagged lines are left out and the
pipeline runs again on the rest, so document-level rules (every n-th item,
exclusive groups, coupons) never count a line that is not priced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

from .lines import SOURCE_ROW
from .problems import InputError, Problem, Problems
from .tables import Table
from .tariffs.model import TariffBook

if TYPE_CHECKING:
    from .ledger.lots import Opening

MAX_PASSES = 5
MAX_LINE_PROBLEMS = 1000  # per code; the rest are counted


@dataclass
class Context:
    book: TariffBook
    skip_bad_lines: bool = False
    today: date | None = None
    problems: Problems = field(default_factory=Problems)
    tables: dict[str, Table] = field(default_factory=dict)
    bad: dict[int, list[Problem]] = field(default_factory=dict)  # source_row -> its problems this pass
    counts: dict[str, int] = field(default_factory=dict)
    # what the ledger already holds for the export's clients (ledger.lots.Opening: lots, debts, sales
    # that returns can match), not counting this export's own lines; None without a ledger
    opening: "Opening | None" = None
    # what the run gives the ledger to keep beside its lines (the coupon rules' qualifying documents and
    # the coupons issued or used), by table name
    to_post: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def minor_units(self) -> int:
        return self.book.settings.minor_units

    def flag(self, lines: pd.DataFrame, mask: np.ndarray, field_name: str, code: str, messages) -> None:
        """Mark the lines in ``mask`` bad; ``messages`` is one text or one per flagged line."""
        rows = lines[SOURCE_ROW].to_numpy()[mask]
        texts = [messages] * len(rows) if isinstance(messages, str) else list(messages)
        for row, text in zip(rows.tolist(), texts):
            self.bad.setdefault(row, []).append(Problem(code, text, row=row, field=field_name))

    def warn(self, code: str, message: str, row: int | None = None, field_name: str | None = None) -> None:
        """A warning about a priced line (it is priced all the same); capped per code."""
        seen = self.counts.get(code, 0)
        self.counts[code] = seen + 1
        if seen < MAX_LINE_PROBLEMS:
            self.problems.warning(code, message, row=row, field=field_name)


Plugin = Callable[[pd.DataFrame, Context], pd.DataFrame]


def line_plugins() -> list[Plugin]:
    """The built-in line plugins in the order SPEC §5 computes."""
    from .plugins import (
        coupons,
        gross,
        kit,
        options,
        promotions,
        redemption,
        returns,
        tariff,
        totals,
    )

    return [
        gross.plugin,
        tariff.plugin,
        kit.marker_plugin,
        options.plugin,
        kit.plugin,
        coupons.plugin,
        promotions.plugin,
        totals.plugin,
        returns.plugin,
        redemption.plugin,
    ]


def run(lines: pd.DataFrame, ctx: Context, plugins: list[Plugin] | None = None) -> pd.DataFrame:
    """Price ``lines``; raises InputError with every bad line unless ``ctx.skip_bad_lines``."""
    plugins = plugins or line_plugins()
    skipped: list[Problem] = []
    for _ in range(MAX_PASSES):
        if lines.empty:
            raise nothing_to_price(_capped(skipped))
        ctx.bad = {}
        ctx.tables = {}
        ctx.to_post = {}
        ctx.problems = Problems()
        ctx.counts = {}
        priced = lines
        for plugin in plugins:
            priced = plugin(priced, ctx)
        if not ctx.bad:
            break
        problems = [p for row in sorted(ctx.bad) for p in ctx.bad[row]]
        if not ctx.skip_bad_lines:
            raise InputError(_capped(problems))
        skipped += [Problem(p.code, p.message + "; the line is left out", "warning", row=p.row, field=p.field) for p in problems]
        lines = lines[~lines[SOURCE_ROW].isin(list(ctx.bad))].reset_index(drop=True)
    else:
        raise InputError([Problem("price.unsettled", "lines kept turning bad after leaving others out; fix the export")])
    ctx.problems.extend(_capped(skipped))
    return priced


def nothing_to_price(left_out: list[Problem]) -> InputError:
    """No line to price: none under the export's header, or every one left out as bad (``left_out``)."""
    if left_out:
        return InputError([*left_out, Problem("price.no_lines", "every line had a problem and was left out "
                                              "(--skip-bad-lines): nothing is left to price")])
    return InputError([Problem("price.no_lines", "the export has no lines under its header row: nothing to price; "
                               "check the file (and --sheet)")])


def _capped(problems: list[Problem]) -> list[Problem]:
    by_code: dict[str, int] = {}
    kept = []
    for problem in problems:
        by_code[problem.code] = by_code.get(problem.code, 0) + 1
        if by_code[problem.code] <= MAX_LINE_PROBLEMS:
            kept.append(problem)
    for code, count in by_code.items():
        if count > MAX_LINE_PROBLEMS:
            kept.append(Problem(code, f"and {count - MAX_LINE_PROBLEMS} more lines with the same problem",
                                kept[0].severity if kept else "error"))
    return kept
