"""What a command shows, and where: the summary on stdout (or one JSON object with ``--json``), problems,
warnings and the progress bar on stderr, in the chosen language.

``Face`` is built by every command from its common options (``--json``, ``-q``, ``-v``, ``--lang``,
cli.py): the command adds its figures and files, and ``finish`` prints the summary or the JSON object.
Money in JSON is an exact decimal string in currency units (``"1234.56"``), never a float.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table as RichTable
from rich.text import Text

from . import i18n
from .i18n import _, column_label, current, plural, translate
from .problems import Problem, total, unlisted

INVALID_INPUT = 2
WARNINGS_SHOWN = 10


def money_text(minor, units: int, grouped: bool = True) -> str:
    """Minor units as text in currency units: ``1 234.56`` (en) or ``1 234,56`` (ru) for people; exact
    ``1234.56`` for JSON (``grouped=False``). money.py (and numpy) are loaded only when a job prints one."""
    from .money import format_minor

    text = format_minor(int(minor), units, grouped=grouped)
    return text.replace(".", ",") if grouped and current() == "ru" else text


def count_text(value) -> str:
    return f"{int(value):,}".replace(",", " ")


class Money(int):
    """A figure in minor units with its currency's decimals: text for people, an exact decimal string in JSON."""

    units: int

    def __new__(cls, minor, units: int):
        self = super().__new__(cls, int(minor))
        self.units = units
        return self


def plain_value(value):
    """A summary figure as JSON holds it."""
    if isinstance(value, Money):
        return money_text(value, value.units, grouped=False)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # a numpy scalar
        return value.item()
    return value


def shown_value(value) -> str:
    if isinstance(value, Money):
        return money_text(value, value.units)
    if isinstance(value, int) or hasattr(value, "item"):
        return count_text(value)
    return translate(value)


def problem_dict(problem: Problem) -> dict:
    """A problem for scripts: its place, code, severity and message in the chosen language."""
    return {**problem.as_dict(), "where": translate(problem.where), "message": translate(problem.message)}


def problem_text(problem: Problem) -> str:
    """A problem as a line: its place, its message and, for a grouped warning, the lines it stands for."""
    message = translate(problem.message)
    if problem.group is not None:
        message += " " + plural("({count} line)", "({count} lines)", problem.count)
    return f"{translate(problem.where)}: {message}" if problem.where else message


def argv_language(args) -> str | None:
    """The ``--lang`` of a command line, found before click parses it (its help and usage errors need it)."""
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return None


class _HelpText:
    """A help attribute kept as its msgid (``_help``, ``_short_help``) and read in the chosen language."""

    def __set_name__(self, owner, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, instance, owner=None):
        return self if instance is None else i18n.help_text(getattr(instance, self.slot))

    def __set__(self, instance, value) -> None:
        setattr(instance, self.slot, value)


class _Translated:
    """A command whose help (docstring), short help and ``--help`` text are msgids shown in the chosen language."""

    help = _HelpText()
    short_help = _HelpText()

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)  # made once and kept: its text is set again in each language
        if option is not None:
            option.help = _("Show this message and exit.")
        return option


class HelpOption(click.Option):
    """An option whose ``help=`` is a msgid shown in the chosen language."""

    help = _HelpText()


class Command(_Translated, click.Command):
    pass


class Group(_Translated, click.Group):
    """The command line's groups: help in the chosen language, and for the top group the language chosen before
    click parses (``--lang`` in the arguments, else the locale, else Russian — the tariff workbook is read only
    after parsing), so click's usage, help headings and usage errors speak it too."""

    command_class = Command
    group_class = type  # subgroups are Groups too

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        language = i18n.choose(argv_language(list(sys.argv[1:] if args is None else args)))
        with i18n.use(language), i18n.library_messages(language):
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)


class Face:
    """One command's output: ``say`` for the human summary (stdout, or stderr while stdout carries data),
    ``problems``/``warnings`` on stderr, ``figure``/``wrote`` for what JSON reports, ``finish`` to end."""

    def __init__(self, command: str, as_json: bool = False, quiet: bool = False, verbose: bool = False):
        self.command = command
        self.as_json = as_json
        self.quiet = quiet
        self.verbose = verbose
        self.stdout_taken = False  # csv on stdout (--out -): the summary goes to stderr
        self.stdout_file: Path | None = None  # the temporary csv copied to stdout
        self.figures: dict[str, object] = {}
        self.files: list[str] = []
        self.reported: list[Problem] = []
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

    # ------------------------------------------------------------------ what goes where

    @property
    def out(self) -> Console:
        return self.err if self.stdout_taken else Console(highlight=False, soft_wrap=True)

    def say(self, renderable) -> None:
        """Human text of the summary; nothing with --json or --quiet."""
        if not (self.as_json or self.quiet):
            self.out.print(renderable)

    def figure(self, key: str, value) -> None:
        """A summary figure for JSON (``key`` is its canonical name)."""
        self.figures[key] = value

    def wrote(self, paths) -> None:
        """The files written; with ``--out -`` the one copied to stdout is ``-``, and the tables that would have
        been written beside it (stdout carries one csv) are named in a warning on stderr, with how to get them."""
        left_out = []
        for path in paths:
            if self.stdout_file is None:
                self.files.append(str(path))
                self.say(_("wrote {path}", path=str(path)))
            elif Path(path) == self.stdout_file:
                self.files.append("-")
                self.say(_("wrote the csv to stdout"))
            else:  # <stem>.<table>.csv beside the temporary stdout.csv
                left_out.append(Path(path).name.removeprefix(self.stdout_file.stem + ".").rpartition(".")[0])
        if left_out and not self.quiet:
            self.err.print(Text(_("warning: stdout carries one csv; not written: {tables}. To get them, give --out "
                                  "FILE.csv (each table beside it as FILE.<table>.csv) or --out FILE.xlsx",
                                  tables=", ".join(left_out)), style="yellow"))

    def figures_table(self, keys) -> None:
        """The figures ``keys`` as a two-column table of labels and values (and into JSON)."""
        table = RichTable(show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold")
        table.add_column(justify="right")
        for key in keys:
            table.add_row(column_label(key), shown_value(self.figures[key]))
        self.say(table)

    def warning_count(self, warnings: list[Problem]) -> None:
        """How many lines the warnings stand for (a grouped warning counts its lines), how many rows the
        Warnings table lists and how many more a cap counted without listing them: said, and in JSON."""
        count, left = total(warnings), unlisted(warnings)
        listed = sum(not w.unlisted for w in warnings)
        self.figure("warnings", count)
        self.figure("warnings_listed", listed)
        self.figure("warnings_not_listed", left)
        if not warnings:
            self.say(_("warnings: none"))
        elif left:
            self.say(_("warnings: {count} ({listed} in the Warnings table; {left} more counted, not listed)",
                       count=count_text(count), listed=count_text(listed), left=count_text(left)))
        else:
            self.say(_("warnings: {count} ({listed} in the Warnings table)", count=count_text(count),
                       listed=count_text(listed)))

    # ------------------------------------------------------------------ problems

    def warnings(self, warnings: list[Problem], where) -> None:
        """The run's warnings on stderr: the first few (every one with -v); all of them are ``where``."""
        self.reported.extend(warnings)
        if not warnings or self.quiet:
            return
        shown = warnings if self.verbose else warnings[:WARNINGS_SHOWN]
        if len(shown) < len(warnings):
            title = _("warnings (first {shown} of {total}; all {where}; -v lists every one)", shown=len(shown),
                      total=len(warnings), where=translate(where))
        else:
            title = plural("{count} warning", "{count} warnings", len(warnings))
        print_problems(shown, title, self.err, counted=False)

    def stopped(self, problems: list[Problem], title) -> None:
        """A run stopped on input errors: every problem on stderr (even with --quiet)."""
        self.reported.extend(problems)
        print_problems(problems, translate(title), self.err)

    # ------------------------------------------------------------------ the end

    def finish(self, exit_code: int = 0) -> None:
        """One JSON object with --json; then the exit code."""
        if self.as_json:
            errors = total(p for p in self.reported if p.severity == "error")
            payload = {
                "command": self.command,
                "ok": exit_code == 0,
                "exit_code": exit_code,
                "language": current(),
                "summary": {key: plain_value(value) for key, value in self.figures.items()},
                "errors": errors,
                "warnings": total(p for p in self.reported if p.severity == "warning"),
                "problems": [problem_dict(p) for p in self.reported],
                "files": self.files,
            }
            sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
            sys.stdout.flush()
        # click's Exit, not SystemExit: a command run as main(..., standalone_mode=False) from Python gets the
        # exit code back instead of its process ending
        raise click.exceptions.Exit(exit_code)

    # ------------------------------------------------------------------ progress

    @contextmanager
    def progress(self):
        """A progress callback ``step(stage, done=None, total=None)`` for the jobs: a bar on stderr with the
        stage, counts, elapsed time and ETA (a stage that knows its total), shown on a terminal; with -v each
        finished stage with its time as a line."""
        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                       TimeElapsedColumn(), TimeRemainingColumn(), console=self.err, transient=True,
                       disable=self.quiet or not self.err.is_terminal)
        stages = _Stages(bar, self.err if self.verbose and not self.quiet else None)
        with bar:
            try:
                yield stages.step
            finally:
                stages.close()


class _Stages:
    """The stages of a run as tasks of one bar: a new stage finishes the one before."""

    def __init__(self, bar: Progress, log: Console | None):
        self.bar = bar
        self.log = log
        self.task = None
        self.stage = None
        self.started = 0.0
        self.done = self.total = None

    def step(self, stage, done: int | None = None, total: int | None = None) -> None:
        if stage != self.stage:
            self.close()
            self.stage, self.started, self.done = stage, time.monotonic(), None
            self.task = self.bar.add_task(translate(stage), total=total)
        if total is not None and done is not None and done > total:
            total = done  # an estimated total (a csv's lines from its size) passed: the count is what is true
        self.bar.update(self.task, completed=done, total=total)
        self.done, self.total = done, total

    def close(self) -> None:
        if self.task is None:
            return
        self.bar.update(self.task, visible=False)
        if self.log is not None:
            seconds = "{:.1f}".format(time.monotonic() - self.started)
            stage = translate(self.stage)
            if self.done is None:
                said = _("{stage}: {seconds} s", stage=stage, seconds=seconds)
            elif self.total is None:
                said = _("{stage} ({count}): {seconds} s", stage=stage, count=count_text(self.done), seconds=seconds)
            else:
                said = _("{stage} ({count} of {total}): {seconds} s", stage=stage, count=count_text(self.done),
                         total=count_text(self.total), seconds=seconds)
            self.log.print(Text(said, style="dim"))
        self.task = None


def print_problems(problems: list[Problem], title: str, console: Console, counted: bool = True) -> None:
    """Problems grouped by sheet, errors before warnings, each with its place and code; the title with the
    count of each (``counted``).

    A problem with the file itself (missing, not a workbook, ...) is one plain line.
    """
    if problems and all(p.sheet is None and p.row is None for p in problems):
        for problem in problems:
            console.print(Text(problem_text(problem), style="red" if problem.severity == "error" else "yellow"))
        return
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if counted:
        head = Text(f"{title}: ")
        head.append(plural("{count} error", "{count} errors", errors), style="bold red" if errors else "green")
        head.append(", " + plural("{count} warning", "{count} warnings", warnings), style="yellow" if warnings else "")
    else:
        head = Text(title, style="yellow")
    console.print(head)
    groups: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        group = problem.sheet or problem.file or (_("export") if problem.row or problem.field else _("workbook"))
        groups[group].append(problem)
    error_word, warning_word = _("error"), _("warning")
    width = max(len(error_word), len(warning_word))
    for group, items in groups.items():
        console.print(Text(f"\n{group}", style="bold"))
        for problem in sorted(items, key=lambda p: p.severity != "error"):
            line = Text("  ")
            is_error = problem.severity == "error"
            line.append((error_word if is_error else warning_word).ljust(width), style="red" if is_error else "yellow")
            line.append(f" {problem_text(problem)}")
            line.append(f"  [{problem.code}]", style="dim")
            console.print(line)
