"""Line plugins as declared units, found through an entry-point group, and running them over a lines frame.

A line plugin (``LinePlugin``) has a name, an order slot, the columns it needs and
the columns it adds, and a pure function ``apply(lines, ctx) -> PluginResult``:
the lines with its columns added, the problems it found, the result tables it
made. ``ctx`` (``RunContext``) is frozen: the tariff book, what the ledger
already holds, the run's options. The built-ins are registered in the entry-point
group ``erp_plugin.line_plugins`` (pyproject.toml) exactly as a third party's
rule is: a package that declares ``my_rule = "my_package:PLUGIN"`` in that group
adds its rule at its slot (``gross`` 100 … ``redemption`` 1000; a rule between
promotions (700) and totals (800) takes e.g. 750).

Plugins must give the same figures on any part of the lines that keeps whole
clients together (coupons and bonus balances run per client, which keeps whole
documents together too): a partitioned run buckets lines by client.

The runner checks each plugin's declared columns before and after it, and turns
an exception into a problem naming the plugin. A bad line (option days beyond
every bracket, an unknown payment, an overdraw) is an error problem with its
export row and field. Without ``skip_bad_lines`` the run then stops with every
problem; with it, the flagged lines are left out and the pipeline runs again on
the rest, so document-level rules (every n-th item, exclusive groups, coupons)
never count a line that is not priced.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, Callable, Mapping

import numpy as np
import pandas as pd

from .i18n import msg
from .lines import SOURCE_ROW, LineColumn, declared, with_columns
from .problems import InputError, Problem, not_listed
from .tables import Table
from .tariffs.model import TariffBook

if TYPE_CHECKING:
    from .ledger.lots import Opening

ENTRY_POINT_GROUP = "erp_plugin.line_plugins"
MAX_PASSES = 5
MAX_LINE_PROBLEMS = 1000  # listed per code; the rest are counted in one note


@dataclass(frozen=True)
class RunContext:
    """What every plugin may read, and none may change."""

    book: TariffBook
    skip_bad_lines: bool = False
    today: date | None = None
    # what the ledger already holds for the export's clients (ledger.lots.Opening: lots, debts, sales
    # that returns can match), not counting this export's own lines; None without a ledger
    opening: "Opening | None" = None

    @property
    def minor_units(self) -> int:
        return self.book.settings.minor_units


@dataclass(frozen=True)
class PluginResult:
    """What one plugin gives back: the lines with its columns, its problems, its tables, what the
    ledger keeps beside the lines (the coupon rules' qualifying documents, the coupons issued or used),
    and ``patches``: existing columns changed at a few lines, ``{column: (positions, values)}``.

    A patch is for a rule that changes few lines of many columns (returns reverse their sale's
    figures): the runner copies one column at a time once the plugin has returned, so the column it
    replaces is freed before the next is copied. Copying all of them inside the plugin, while the
    frame it was given still holds the originals, held ten copies (0.8 GB at 10M lines) beside them at
    once; so, the returns step went from 3.4 s to 1.3-1.6 s at 10M (the command's peak, set later,
    from 3.3 to 3.1-3.2 GB)."""

    lines: pd.DataFrame
    problems: tuple[Problem, ...] = ()
    tables: Mapping[str, Table] = field(default_factory=lambda: MappingProxyType({}))
    kept: Mapping[str, pd.DataFrame] = field(default_factory=lambda: MappingProxyType({}))
    patches: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=lambda: MappingProxyType({}))


class Findings:
    """A plugin's notebook while it works: bad lines, warnings, tables; ``result(lines)`` hands them back."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.tables: dict[str, Table] = {}
        self.kept: dict[str, pd.DataFrame] = {}
        self._counts: dict[str, int] = {}

    def flag(self, lines: pd.DataFrame, mask: np.ndarray, field_name: str, code: str, messages) -> None:
        """Mark the lines in ``mask`` bad; ``messages`` is one text or one per flagged line."""
        rows = lines[SOURCE_ROW].to_numpy()[mask]
        texts = [messages] * len(rows) if isinstance(messages, str) else list(messages)
        self.problems += [Problem(code, text, row=row, field=field_name) for row, text in zip(rows.tolist(), texts)]

    def warn(self, code: str, message: str, row: int | None = None, field_name: str | None = None) -> None:
        """A warning about a priced line (it is priced all the same); listed up to MAX_LINE_PROBLEMS per
        code, the rest counted in one note (``problems.not_listed``)."""
        seen = self._counts.get(code, 0)
        self._counts[code] = seen + 1
        if seen < MAX_LINE_PROBLEMS:
            self.problems.append(Problem(code, message, "warning", row=row, field=field_name))

    def warn_unlisted(self, code: str, count: int) -> None:
        """``count`` more warnings of ``code`` that the plugin counted beyond MAX_LINE_PROBLEMS without
        making them: the note of ``result`` counts them."""
        self._counts[code] = self._counts.get(code, 0) + count

    def result(self, lines: pd.DataFrame, patches: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None) -> PluginResult:
        notes = [not_listed(code, seen - MAX_LINE_PROBLEMS, "warning")
                 for code, seen in self._counts.items() if seen > MAX_LINE_PROBLEMS]
        return PluginResult(lines, (*self.problems, *notes), MappingProxyType(dict(self.tables)),
                            MappingProxyType(dict(self.kept)), MappingProxyType(dict(patches or {})))


@dataclass(frozen=True)
class LinePlugin:
    """A rule over the lines frame, declared: where it runs and which columns it reads and adds."""

    name: str
    slot: int  # the order: lower runs first
    needs: tuple[str, ...]  # columns that must be there when it runs
    adds: tuple[str, ...]  # columns it adds (or replaces); each declared in lines.py or in ``declares``
    apply: Callable[[pd.DataFrame, RunContext], PluginResult]
    declares: tuple[LineColumn, ...] = ()  # a third party's own columns

    def column(self, name: str) -> LineColumn | None:
        return next((c for c in self.declares if c.name == name), None) or declared(name)


@functools.cache
def line_plugins() -> tuple[LinePlugin, ...]:
    """The registered line plugins (the built-ins and any installed third party's), in slot order."""
    from importlib.metadata import entry_points

    found, problems = [], []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            plugin = point.load()
        except Exception as exc:  # a broken third-party package: say which, do not run without it
            problems.append(Problem("plugin.load", msg("the line plugin {name!r} ({value}) cannot be loaded; "
                                                       "reinstall or remove its package (detail: {error}: {exc})",
                                                       name=point.name, value=point.value, error=type(exc).__name__, exc=exc)))
            continue
        if not isinstance(plugin, LinePlugin):
            problems.append(Problem("plugin.load", msg("the entry point {name!r} ({value}) of "
                                                       "{group} is not an "
                                                       "erp_plugin.pipeline.LinePlugin",
                                                       name=point.name, value=point.value, group=ENTRY_POINT_GROUP)))
            continue
        found.append(plugin)
    if not any(p.name == "gross" for p in found):
        problems.append(Problem("plugin.load", msg("no built-in line plugins are registered in "
                                                   "{group}: install the package (pip install -e "
                                                   ".) so its entry points exist",
                                                   group=ENTRY_POINT_GROUP)))
    if problems:
        raise InputError(problems)
    return tuple(sorted(found, key=lambda p: (p.slot, p.name)))


@dataclass(frozen=True)
class PricingRun:
    """The priced lines, every plugin's warnings and tables, and what the ledger keeps beside the lines."""

    lines: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)  # warnings only: a run with errors raises
    tables: dict[str, Table] = field(default_factory=dict)
    kept: dict[str, pd.DataFrame] = field(default_factory=dict)


def price_lines(lines: pd.DataFrame, ctx: RunContext, plugins: tuple[LinePlugin, ...] | None = None,
                progress=None) -> PricingRun:
    """Price ``lines`` (the engine's representation: lines.py); raises InputError with every bad line
    unless ``ctx.skip_bad_lines``.
    ``progress(stage, plugins run, plugins)`` is called after each plugin."""
    plugins = line_plugins() if plugins is None else plugins
    skipped: list[Problem] = []
    for _ in range(MAX_PASSES):
        if lines.empty:
            raise nothing_to_price(_capped(skipped))
        run = _one_pass(lines, ctx, plugins, progress)
        bad = sorted({p.row for p in run.problems if p.severity == "error"})
        if not bad:
            break
        errors = sorted((p for p in run.problems if p.severity == "error"), key=lambda p: p.row)
        if not ctx.skip_bad_lines:
            raise InputError(_capped(errors))
        skipped += [Problem(p.code, msg("{problem}; the line is left out", problem=p.message), "warning", row=p.row,
                            field=p.field) for p in errors]
        lines = lines[~lines[SOURCE_ROW].isin(bad)].reset_index(drop=True)
    else:
        raise InputError([Problem("price.unsettled", msg("lines kept turning bad after leaving others out; fix "
                                                         "the export"))])
    return PricingRun(run.lines, run.problems + _capped(skipped), run.tables, run.kept)


def _one_pass(lines: pd.DataFrame, ctx: RunContext, plugins: tuple[LinePlugin, ...], progress=None) -> PricingRun:
    problems: list[Problem] = []
    tables: dict[str, Table] = {}
    kept: dict[str, pd.DataFrame] = {}
    stage = msg("pricing {lines} lines", lines=f"{len(lines):,}".replace(",", " "))
    for done, plugin in enumerate(plugins):
        if progress is not None:
            progress(stage, done, len(plugins))
        missing = [name for name in plugin.needs if name not in lines.columns]
        if missing:
            raise InputError([Problem("plugin.needs", msg("the line plugin {name!r} (slot {slot}) needs "
                                                          "{missing}, which no plugin before it adds",
                                                          name=plugin.name, slot=plugin.slot, missing=', '.join(missing)))])
        try:
            result = plugin.apply(lines, ctx)
        except InputError:
            raise
        except Exception as exc:
            raise InputError([Problem("plugin.failed", msg("the line plugin {name!r} stopped; tell its author, or remove its "
                                                           "package (detail: {error}: {exc})",
                                                           name=plugin.name, error=type(exc).__name__, exc=exc))]) from exc
        wrong = _undeclared(plugin, result)
        if wrong:
            raise InputError([Problem("plugin.columns", msg("the line plugin {name!r} {text}", name=plugin.name, text=text)) for text in wrong])
        problems += result.problems
        tables.update(result.tables)
        kept.update(result.kept)
        lines, patches = result.lines, result.patches  # the frame the plugin was given is let go here
        del result
        for name, (at, values) in patches.items():  # one column at a time: the one replaced is freed first
            column = lines[name].to_numpy(copy=True)
            column[at] = values
            lines = with_columns(lines, **{name: column})
    if progress is not None:
        progress(stage, len(plugins), len(plugins))
    return PricingRun(lines, problems, tables, kept)


def _undeclared(plugin: LinePlugin, result: PluginResult) -> list[str]:
    """What is wrong with the columns a plugin gave back, against its declaration."""
    if not isinstance(result, PluginResult):
        return [f"returned {type(result).__name__}, not a PluginResult"]
    wrong = []
    for name, patch in result.patches.items():
        at, values = (np.asarray(part) for part in patch) if isinstance(patch, tuple) and len(patch) == 2 else (None, None)
        dtype = result.lines[name].dtype if name in result.lines.columns else None
        if dtype is None or name in plugin.adds:
            wrong.append(f"patches {name}, which is not a column it was given")
        elif at is None or at.dtype.kind not in "iu" or at.ndim != 1 or at.shape != values.shape:
            wrong.append(f"patches {name} with other than (positions, values) of one length")
        elif len(at) and (at.min() < 0 or at.max() >= len(result.lines)):
            wrong.append(f"patches {name} at positions beyond its {len(result.lines)} lines")
        elif not isinstance(dtype, np.dtype) or not np.can_cast(values.dtype, dtype, "same_kind"):
            wrong.append(f"patches {name} ({dtype}) with {values.dtype} values: a patch is for a numpy column, "
                         "with values of its kind")
    for name in plugin.adds:
        column = plugin.column(name)
        if column is None:
            wrong.append(f"adds {name}, which is declared neither in erp_plugin.lines nor in its own declares")
        elif name not in result.lines.columns:
            wrong.append(f"declares that it adds {name} but did not")
        elif not held_as_declared(result.lines[name], column):
            wrong.append(f"added {name} as {result.lines[name].dtype}; lines.py declares it {column.kind_for(2).name}")
    return wrong


def held_as_declared(values: pd.Series, column: LineColumn) -> bool:
    """Whether a column is held as its kind says (lines.py): text categorical, date datetime64, numbers integers."""
    kind = column.kind_for(2).name
    dtype = values.dtype
    if kind == "text":
        return isinstance(dtype, pd.CategoricalDtype)
    if kind == "date":
        return pd.api.types.is_datetime64_dtype(dtype)
    if kind == "flag":
        return pd.api.types.is_bool_dtype(dtype)
    return pd.api.types.is_integer_dtype(dtype)


def nothing_to_price(left_out: list[Problem]) -> InputError:
    """No line to price: none under the export's header, or every one left out as bad (``left_out``)."""
    if left_out:
        return InputError([*left_out, Problem("price.no_lines", msg("every line had a problem and was left out "
                                                                    "(--skip-bad-lines): nothing is left to "
                                                                    "price"))])
    return InputError([Problem("price.no_lines", msg("the export has no lines under its header row: nothing to "
                                                     "price; check the file (and --sheet)"))])


def _capped(problems: list[Problem]) -> list[Problem]:
    by_code: dict[str, int] = {}
    kept = []
    for problem in problems:
        by_code[problem.code] = by_code.get(problem.code, 0) + 1
        if by_code[problem.code] <= MAX_LINE_PROBLEMS:
            kept.append(problem)
    for code, count in by_code.items():
        if count > MAX_LINE_PROBLEMS:
            kept.append(not_listed(code, count - MAX_LINE_PROBLEMS, kept[0].severity))
    return kept
