"""The ``erp-plugin`` command line: exit 0 on success, 2 on invalid input (nothing written)."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from functools import wraps
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable
from rich.text import Text

from . import __version__
from .problems import InputError, Problem
from .xlsx import TargetLocked

INVALID_INPUT = 2
WARNINGS_SHOWN = 10


def _money(value, units: int) -> str:
    """A figure in minor units as text (1 234,56); money.py (and numpy) loaded only when a job prints one."""
    from .money import format_minor

    return format_minor(int(value), units, grouped=True)


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def print_problems(problems: list[Problem], title: str, console: Console) -> None:
    """Problems grouped by sheet, errors before warnings, each with its place and code.

    A problem with the file itself (missing, not a workbook, ...) is one plain line.
    """
    if problems and all(p.sheet is None and p.row is None for p in problems):
        for problem in problems:
            console.print(Text(str(problem), style="red" if problem.severity == "error" else "yellow"))
        return
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    head = Text(f"{title}: ")
    head.append(f"{errors} error{'s' * (errors != 1)}", style="bold red" if errors else "green")
    head.append(f", {warnings} warning{'s' * (warnings != 1)}", style="yellow" if warnings else "")
    console.print(head)
    groups: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        groups[problem.sheet or problem.file or ("export" if problem.row or problem.field else "workbook")].append(problem)
    for group, items in groups.items():
        console.print(Text(f"\n{group}", style="bold"))
        for problem in sorted(items, key=lambda p: p.severity != "error"):
            line = Text("  ")
            line.append("error  " if problem.severity == "error" else "warning", style="red" if problem.severity == "error" else "yellow")
            line.append(f" {problem}")
            line.append(f"  [{problem.code}]", style="dim")
            console.print(line)


def handles_input_errors(command):
    """Turn a user's mistake into its problems on stderr and exit code 2, never a traceback."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            print_problems(exc.problems, "stopped, nothing written", _console(stderr=True))
            sys.exit(INVALID_INPUT)
        except TargetLocked as exc:
            _console(stderr=True).print(Text(f"stopped, nothing written: {exc}", style="red"))
            sys.exit(INVALID_INPUT)
        except PermissionError as exc:
            _console(stderr=True).print(Text(f"stopped: no permission to write {exc.filename}", style="red"))
            sys.exit(INVALID_INPUT)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="erp-plugin")
def main() -> None:
    """Loyalty programme for distributors: a tariff workbook applied to ERP sales exports."""
    from .memory import tune_command_line_process

    tune_command_line_process()  # the command's own process keeps freed memory for reuse; a library call never does
    _exit_cleanly_on_signals()


def _exit_cleanly_on_signals() -> None:
    """SIGTERM (a killed run) exits through Python, so the writers' temp files are removed; a file-size limit
    (SIGXFSZ) makes the write fail with EFBIG, reported with its target, instead of killing the process."""
    import signal

    def terminated(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminated)
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


@main.command()
@click.argument("directory", required=False, default=".", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace tariffs.xlsx and sales_export.xlsx if they exist.")
@handles_input_errors
def init(directory: Path, force: bool) -> None:
    """Write a fresh tariff workbook and a sample 1C-style sales export into DIRECTORY."""
    from . import jobs

    written = jobs.init(directory, force=force)
    console = _console()
    for path in written:
        console.print(f"wrote {path}")
    console.print(f"next: erp-plugin validate {written[0]}")


@main.command()
@click.argument("tariffs", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON for scripts.")
def validate(tariffs: Path, as_json: bool) -> None:
    """Check a tariff workbook: every problem with its Sheet!Cell. Exit 2 when it has errors."""
    from . import jobs

    result = jobs.validate(tariffs)
    problems = list(result.problems)
    if as_json:
        payload = {
            "file": str(tariffs),
            "ok": result.ok,
            "errors": len(result.problems.errors),
            "warnings": len(result.problems.warnings),
            "problems": [p.as_dict() for p in problems],
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        console = _console()
        print_problems(problems, str(tariffs), console)
        if result.ok:
            book = result.book
            console.print(
                f"\nok: {len(book.tariffs)} tariffs, {len(book.markers)} markers, {len(book.clients)} clients, "
                f"{len(book.promotions)} promotions"
            )
    sys.exit(0 if result.ok else INVALID_INPUT)


@main.command("read")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("--tariffs", type=click.Path(path_type=Path), help="Tariff workbook: its Columns sheet maps your headers.")
@click.option("--out", type=click.Path(path_type=Path), help="Write gross back: .xlsx/.xlsm, .csv or .parquet.")
@click.option("--sheet", help="The sheet holding the lines (default: the first whose headers fit).")
@click.option("--skip-bad-lines", is_flag=True, help="Leave out lines with bad values and list them as warnings.")
@click.option("--in-place", is_flag=True, help="Write into the export itself (--out may then be the export).")
@click.option("--save-columns", type=click.Path(path_type=Path),
              help="Tariff workbook to write the proposed Columns rows into, for headers the reader does not know.")
@handles_input_errors
def read_command(export: Path, tariffs: Path | None, out: Path | None, sheet: str | None, skip_bad_lines: bool, in_place: bool,
                 save_columns: Path | None) -> None:
    """Read an ERP export as pricing will: the header mapping, the lines, every bad value."""
    if in_place and out is None:
        out = export
    from . import jobs

    result = jobs.read(export, tariffs, out, sheet, skip_bad_lines, in_place, save_columns)
    console = _console()
    for row in result.saved_columns:
        console.print(Text(f"saved to {save_columns}, Columns: {row}"))
    source = result.export.source
    where = f"sheet {source.sheet}, " if source.sheet else ""
    console.print(f"{export}: {where}header on row {source.header_row}")
    for name, index in source.fields.items():
        header = source.headers[index] if index < len(source.headers) else ""
        console.print(Text(f"  {name:<17} <- {header}"))
    lines = result.lines
    console.print(
        f"{len(lines)} lines, {lines['doc_id'].nunique()} documents, {lines['client_id'].nunique()} clients, "
        f"gross {_money(lines['gross'].sum(), result.minor_units)}"
    )
    warnings = result.export.problems.warnings
    if warnings:
        print_problems(warnings, "skipped", console)
    for path in result.written:
        console.print(f"wrote {path}")


def engine_options(command):
    """--engine, --workers and --scheduler (SPEC §9), for the commands the Dask engine runs."""
    for option in reversed([
        click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
                     help="dask: client buckets computed on a Dask cluster (a parquet or csv export, a folder of parts out)."),
        click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
                     help="With --engine dask: the LocalCluster's worker processes."),
        click.option("--scheduler", help="With --engine dask: an existing cluster's scheduler address (tcp://host:8786)."),
    ]):
        command = option(command)
    return command


def _refuse_for_dask(engine: str, **given) -> None:
    """What --engine dask does not take yet, said before any work."""
    taken = [f"--{name.replace('_', '-')}" for name, value in given.items() if value]
    if engine == "dask" and taken:
        raise click.UsageError(f"--engine dask does not take {', '.join(taken)} yet")


@main.command("price")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("--tariffs", type=click.Path(path_type=Path), required=True, help="The tariff workbook.")
@click.option("--out", type=click.Path(path_type=Path), help="Where to write: .xlsx/.xlsm (written back), .csv or .parquet.")
@click.option("--sheet", help="The sheet holding the lines (default: the first whose headers fit).")
@click.option("--skip-bad-lines", is_flag=True, help="Leave out bad lines and list them as warnings.")
@click.option("--in-place", is_flag=True, help="Write the results into the export itself.")
@click.option("--ledger", help="The bonus ledger: an SQLite file path or an SQLAlchemy URL (default: Settings ledger).")
@engine_options
@handles_input_errors
def price_command(export: Path, tariffs: Path, out: Path | None, sheet: str | None, skip_bad_lines: bool, in_place: bool,
                  ledger: str | None, engine: str, workers: int, scheduler: str | None) -> None:
    """Price every line of an ERP export under the tariff workbook and write the results back."""
    if in_place and out is None:
        out = export
    if out is None:
        raise click.UsageError("give --out (or --in-place)")
    _refuse_for_dask(engine, in_place=in_place, sheet=sheet)
    with _progress() as step:
        from . import jobs

        if engine == "dask":
            from . import dask_engine

            priced = dask_engine.price(export, tariffs, out, workers, scheduler, skip_bad_lines=skip_bad_lines,
                                       progress=step, ledger=ledger)
        else:
            priced = jobs.price(export, tariffs, out, sheet, skip_bad_lines, in_place, progress=step, ledger=ledger)
    console = _console()
    _print_summary(priced, console)
    if getattr(priced, "posted", None) is not None:
        console.print(f"ledger: posted {priced.posted.added} new lines ({priced.posted.entries} point entries); "
                      f"{priced.posted.unchanged} lines were posted before and are unchanged")
    _print_warnings(priced.problems.warnings, "in the Warnings table", console)
    for path in priced.written:
        console.print(f"wrote {path}")


def _print_warnings(warnings: list[Problem], where: str, console: Console) -> None:
    """The first warnings of a run; all of them are ``where``."""
    if warnings:
        shown = warnings[:WARNINGS_SHOWN]
        print_problems(shown, f"warnings (first {len(shown)} of {len(warnings)}; all {where})"
                       if len(warnings) > WARNINGS_SHOWN else "warnings", console)


class _progress:
    """A spinner with the current stage on stderr while a long run works; silent when not a terminal."""

    def __enter__(self):
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=_console(stderr=True), transient=True)
        self.progress.__enter__()
        self.task = self.progress.add_task("starting", total=None)
        return lambda stage: self.progress.update(self.task, description=stage)

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)


def _print_summary(priced, console: Console) -> None:
    row = priced.tables["summary"].frame.iloc[0]
    units = priced.minor_units
    table = RichTable(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_column()  # beside a figure: what it counts
    for label in ("lines", "documents", "clients"):
        table.add_row(label, f"{int(row[label]):,}".replace(",", " "))
    for label in ("gross", "price_discount", "bonus_accrued", "reservation_cost", "net", "vat", "bonus_redeemed", "cash_due"):
        table.add_row(label, _money(row[label], units))
    table.add_row("warnings", *_warning_count(priced.problems.warnings))
    console.print(table)


def _warning_count(warnings: list[Problem]) -> tuple[str, str]:
    """How many lines the warnings stand for (a grouped warning counts its lines), and beside it how many
    rows the Warnings table lists and how many more a cap counted without listing them."""
    from .problems import total, unlisted

    count, left = total(warnings), unlisted(warnings)
    listed = sum(not w.unlisted for w in warnings)
    where = f"({listed:,} in the Warnings table" + (f"; {left:,} more counted, not listed)" if left else ")")
    return f"{count:,}".replace(",", " "), where.replace(",", " ") if warnings else ""


@main.command("rebates")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("--tariffs", type=click.Path(path_type=Path), required=True, help="The tariff workbook.")
@click.option("--year", type=int, required=True, help="The fiscal year (it starts on fiscal_year_start).")
@click.option("--out", type=click.Path(path_type=Path), help="Where to write: .xlsx/.xlsm (written back), .csv or .parquet.")
@click.option("--sheet", help="The sheet holding the lines (default: the first whose headers fit).")
@click.option("--skip-bad-lines", is_flag=True, help="Leave out bad lines and list them as warnings.")
@click.option("--in-place", is_flag=True, help="Write the results into the export itself.")
@click.option("--ledger", help="The bonus ledger: the lines are posted and numeric stamp-card and quest rewards "
                               "become points (default: Settings ledger).")
@engine_options
@handles_input_errors
def rebates_command(export: Path, tariffs: Path, year: int, out: Path | None, sheet: str | None, skip_bad_lines: bool,
                    in_place: bool, ledger: str | None, engine: str, workers: int, scheduler: str | None) -> None:
    """Year-end cumulative rebates with credit notes, card tiers and stamp cards."""
    if in_place and out is None:
        out = export
    if out is None:
        raise click.UsageError("give --out (or --in-place)")
    _refuse_for_dask(engine, in_place=in_place, sheet=sheet)
    with _progress() as step:
        from . import jobs

        if engine == "dask":
            from . import dask_engine

            result = dask_engine.rebates(export, tariffs, year, out, workers, scheduler, skip_bad_lines=skip_bad_lines,
                                         progress=step, ledger=ledger)
        else:
            result = jobs.rebates(export, tariffs, year, out, sheet, skip_bad_lines, in_place, progress=step,
                                  ledger=ledger)
    console = _console()
    _print_year_summary(result.tables["summary"].frame.iloc[0], result.minor_units, console)
    if result.rewards_posted is not None:
        console.print(f"ledger: posted {result.posted.added} new lines; {result.rewards_posted} new reward lots")
    for path in result.written:
        console.print(f"wrote {path}")


def _print_year_summary(row, units: int, console: Console) -> None:
    console.print(f"fiscal year {row['fiscal_year']}: {row['from']:%d.%m.%Y} to {row['to']:%d.%m.%Y}")
    table = RichTable(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("clients", str(row["clients"]))
    table.add_row("clients with a rebate", str(row["clients_with_rebate"]))
    for label in ("turnover", "rebate", "credit_note_vat"):
        table.add_row(label, _money(row[label], units))
    console.print(table)


@main.command("impact")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("--tariffs", type=click.Path(path_type=Path), required=True, help="The current tariff workbook.")
@click.option("--against", type=click.Path(path_type=Path), required=True, help="The proposed tariff workbook.")
@click.option("--out", type=click.Path(path_type=Path), help="Where to write the tables: .xlsx, .csv or .parquet.")
@click.option("--year", type=int, help="The fiscal year whose rebates count (default: the one of the latest line).")
@click.option("--sheet", help="The sheet holding the lines (default: the first whose headers fit).")
@click.option("--skip-bad-lines", is_flag=True, help="Leave out bad lines and list them as warnings.")
@engine_options
@handles_input_errors
def impact_command(export: Path, tariffs: Path, against: Path, out: Path | None, year: int | None, sheet: str | None,
                   skip_bad_lines: bool, engine: str, workers: int, scheduler: str | None) -> None:
    """What a proposed tariff workbook would have given away on this export, against the current one."""
    _refuse_for_dask(engine, sheet=sheet)
    if engine == "dask" and out is None:
        raise click.UsageError("--engine dask writes the tables: give --out")
    with _progress() as step:
        from . import jobs

        if engine == "dask":
            from . import dask_engine

            result = dask_engine.impact(export, tariffs, against, out, year, workers, scheduler,
                                        skip_bad_lines=skip_bad_lines, progress=step)
        else:
            result = jobs.impact(export, tariffs, against, out, year, sheet, skip_bad_lines, progress=step)
    console = _console()
    row = result.tables["summary"].frame.iloc[0]
    units = result.minor_units
    console.print(f"fiscal year {result.year}, {row['clients']} clients: the concession (discounts, bonus, reservation "
                  f"cost and rebates) goes from {_money(row['concession_current'], units)} to "
                  f"{_money(row['concession_proposed'], units)}, {_signed(row['concession_delta'], units)}")
    table = RichTable(box=None, pad_edge=False)
    for name, justify in (("tariff", "left"), ("concession now", "right"), ("proposed", "right"), ("change", "right")):
        table.add_column(name, justify=justify)
    for _, t in result.tables["impact_by_tariff"].frame.iterrows():
        table.add_row(str(t["tariff"]), _money(t["concession_current"], units), _money(t["concession_proposed"], units),
                      _signed(t["concession_delta"], units))
    console.print(table)
    for path in result.written:
        console.print(f"wrote {path}")


def _signed(minor: int, units: int) -> str:
    """A change of money with its sign: ``+1 234.50``, ``-80.00``, ``0.00``."""
    return ("+" if minor > 0 else "") + _money(minor, units)


@main.command("year-end")
@click.argument("workbook", type=click.Path(path_type=Path))
@handles_input_errors
def year_end_command(workbook: Path) -> None:
    """The one-click year end outside Excel: rebates into a year-end WORKBOOK (its Setup sheet names the tariff
    workbook, the export and the year), with charts; problems go to its Warnings sheet too. Exit 2 on errors."""
    with _progress() as step:
        from .excel.year_end import run_file

        outcome = run_file(workbook, progress=step)
    console = _console()
    if not outcome.ok:
        print_problems(outcome.problems, f"stopped; the problems are on {workbook}'s Warnings sheet",
                       _console(stderr=True))
        sys.exit(INVALID_INPUT)
    _print_year_summary(outcome.summary.frame.iloc[0], outcome.minor_units, console)
    _print_warnings(outcome.problems, "on the Warnings sheet", console)
    console.print(f"wrote {', '.join(outcome.sheets)} into {workbook}")


@main.command("preview")
@click.argument("tariffs", type=click.Path(path_type=Path))
@handles_input_errors
def preview_command(tariffs: Path) -> None:
    """Fill the tariff workbook's Preview sheet: its sample basket under every tariff × bonus mode × payment
    option (price, discount, bonus, concession). Problems go on the sheet too. Exit 2 on errors."""
    from .excel.preview import run_file
    from .money import PCT_SCALE

    outcome = run_file(tariffs)
    if outcome.table is None:
        print_problems(outcome.problems, f"stopped; the problems are on {tariffs}'s Preview sheet", _console(stderr=True))
        sys.exit(INVALID_INPUT)
    frame, units = outcome.table.frame, outcome.minor_units
    table = RichTable("tariff", "bonus mode", "payment", box=None, pad_edge=False)
    for name in ("net", "bonus", "concession"):
        table.add_column(name, justify="right")
    for row in frame.itertuples(index=False):
        table.add_row(row.tariff, row.bonus_mode, str(row.payment or ""), _money(row.net, units),
                      _money(row.bonus_accrued, units), f"{row.concession_pct / PCT_SCALE:.2f} %")
    console = _console()
    console.print(table)
    console.print(f"wrote {len(frame)} rows into the Preview sheet of {tariffs}")


@main.command("accrue")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("--tariffs", type=click.Path(path_type=Path), required=True, help="The tariff workbook.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d", "%d.%m.%Y"]), required=True,
              help="The day to accrue to (YYYY-MM-DD).")
@click.option("--out", type=click.Path(path_type=Path), help="Where to write: .xlsx/.xlsm, .csv or .parquet.")
@click.option("--sheet", help="The sheet holding the lines (default: the first whose headers fit).")
@click.option("--skip-bad-lines", is_flag=True, help="Leave out bad lines and list them as warnings.")
@engine_options
@handles_input_errors
def accrue_command(export: Path, tariffs: Path, as_of, out: Path | None, sheet: str | None, skip_bad_lines: bool,
                   engine: str, workers: int, scheduler: str | None) -> None:
    """Rebate accrual during the year: projection, liability, and each client's gap to the next step."""
    _refuse_for_dask(engine, sheet=sheet)
    if engine == "dask" and out is None:
        raise click.UsageError("--engine dask writes a parquet dataset: give --out")
    with _progress() as step:
        from . import jobs

        if engine == "dask":
            from . import dask_engine

            result = dask_engine.accrue(export, tariffs, as_of.date(), out, workers, scheduler,
                                        skip_bad_lines=skip_bad_lines, progress=step)
        else:
            result = jobs.accrue(export, tariffs, as_of.date(), out, sheet, skip_bad_lines, progress=step)
    import pandas as pd

    frame = result.tables["accruals"].frame
    console = _console()
    units = result.minor_units
    console.print(f"as of {as_of:%d.%m.%Y}: {len(frame)} clients, liability "
                  f"{_money(frame['liability'].sum(), units)}")
    table = RichTable("client", "to date", "projected", "gap to next step", "extra rebate", box=None)
    for row in frame.head(10).itertuples(index=False):
        gap = "" if row.gap_to_next_step is pd.NA else _money(row.gap_to_next_step, units)
        extra = "" if row.extra_rebate is pd.NA else _money(row.extra_rebate, units)
        table.add_row(str(row.client_id), _money(row.turnover_to_date, units),
                      _money(row.projected_turnover, units), gap, extra)
    console.print(table)
    for path in result.written:
        console.print(f"wrote {path}")


@main.command("fees")
@click.option("--tariffs", type=click.Path(path_type=Path), required=True, help="The tariff workbook.")
@click.option("--month", required=True, help="The month, YYYY-MM.")
@click.option("--out", type=click.Path(path_type=Path), help="Where to write: .xlsx, .csv or .parquet.")
@handles_input_errors
def fees_command(tariffs: Path, month: str, out: Path | None) -> None:
    """Subscription fee lines of a month: paid tariffs whose trial has ended."""
    from . import jobs

    result = jobs.fees(tariffs, month, out)
    frame = result.tables["fees"].frame
    console = _console()
    console.print(f"{month}: {len(frame)} fee lines, "
                  f"{_money(frame['fee'].sum(), result.minor_units)} in all")
    for path in result.written:
        console.print(f"wrote {path}")


@main.group("ledger")
def ledger_group() -> None:
    """The bonus ledger: balances, a client's history and statement, the IFRS 15 liability."""


@ledger_group.command("balance")
@click.option("--ledger", required=True, help="An SQLite file path or an SQLAlchemy URL.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d", "%d.%m.%Y"]), help="Default: today.")
@click.option("--tariffs", type=click.Path(path_type=Path), help="The tariff workbook: its currency's minor units.")
@click.option("--out", type=click.Path(path_type=Path), help="Where to write: .xlsx, .csv or .parquet.")
@handles_input_errors
def ledger_balance_command(ledger: str, as_of, tariffs: Path | None, out: Path | None) -> None:
    """Available and pending points per client as of a day (expired points taken off)."""
    from . import jobs

    result = jobs.ledger_balance(ledger, as_of.date() if as_of else None, out, tariffs)
    frame = result.tables["balances"].frame
    console = _console()
    units = result.minor_units
    console.print(f"{len(frame)} clients: available {_money(frame['available'].sum(), units)}, "
                  f"pending {_money(frame['pending'].sum(), units)}")
    for path in result.written:
        console.print(f"wrote {path}")


@ledger_group.command("history")
@click.option("--ledger", required=True, help="An SQLite file path or an SQLAlchemy URL.")
@click.option("--client", "client_id", required=True, help="The client id.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d", "%d.%m.%Y"]), help="Expiries up to this day (default: today).")
@click.option("--tariffs", type=click.Path(path_type=Path), help="The tariff workbook: its currency's minor units.")
@click.option("--out", type=click.Path(path_type=Path), help="Where to write: .xlsx, .csv or .parquet.")
@handles_input_errors
def ledger_history_command(ledger: str, client_id: str, as_of, tariffs: Path | None, out: Path | None) -> None:
    """A client's entries: accruals, reversals, redemptions, refunds, expiries."""
    from . import jobs

    result = jobs.ledger_history(ledger, client_id, out, tariffs, as_of.date() if as_of else None)
    frame = result.tables["history"].frame
    console = _console()
    table = RichTable("booked on", "kind", "points", "available on", "line", box=None)
    for row in frame.itertuples(index=False):
        table.add_row(f"{row.booked_on:%d.%m.%Y}", row.kind, _money(row.amount, result.minor_units),
                      _day(row.available_on), str(row.line))
    console.print(table)
    for path in result.written:
        console.print(f"wrote {path}")


def _day(value) -> str:
    import pandas as pd

    return "" if value is None or pd.isna(value) else f"{pd.Timestamp(value):%d.%m.%Y}"


@ledger_group.command("statement")
@click.option("--ledger", required=True, help="An SQLite file path or an SQLAlchemy URL.")
@click.option("--client", "client_id", required=True, help="The client id.")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d", "%d.%m.%Y"]),
              help="The first day (default: 1 January of the --as-of year).")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d", "%d.%m.%Y"]), help="The last day (default: today).")
@click.option("--tariffs", type=click.Path(path_type=Path), help="The tariff workbook: its currency's minor units.")
@click.option("--out", type=click.Path(path_type=Path), help="Where to write: .xlsx, .csv or .parquet.")
@handles_input_errors
def ledger_statement_command(ledger: str, client_id: str, start, as_of, tariffs: Path | None, out: Path | None) -> None:
    """A client's statement: opening balance, every movement, closing balance, points expiring soon."""
    from . import jobs

    statement, result = jobs.ledger_statement(ledger, client_id, start.date() if start else None,
                                             as_of.date() if as_of else None, out, tariffs)
    console = _console()
    units = result.minor_units
    money = lambda v: _money(v, units)  # noqa: E731
    console.print(f"client {client_id}, {statement.start:%d.%m.%Y} – {statement.end:%d.%m.%Y}")
    console.print(f"opening balance {money(statement.opening)}")
    table = RichTable("date", "movement", "document", "points", "balance", box=None)
    for row in statement.movements.itertuples(index=False):
        table.add_row(_day(row.booked_on), row.kind, str(row.document), money(row.amount), money(row.balance))
    console.print(table)
    console.print(f"closing balance {money(statement.closing)}")
    for row in statement.expiring.itertuples(index=False):
        console.print(f"expiring {_day(row.expires_on)}: {money(row.amount)}")
    for path in result.written:
        console.print(f"wrote {path}")


@ledger_group.command("liability")
@click.option("--ledger", required=True, help="An SQLite file path or an SQLAlchemy URL.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d", "%d.%m.%Y"]), help="Default: today.")
@click.option("--by", type=click.Choice(["month", "year"]), default="month", show_default=True)
@click.option("--tariffs", type=click.Path(path_type=Path),
              help="The tariff workbook: its RedemptionEstimates and expected_redemption_pct.")
@click.option("--out", type=click.Path(path_type=Path), help="Where to write: .xlsx, .csv or .parquet.")
@handles_input_errors
def ledger_liability_command(ledger: str, as_of, by: str, tariffs: Path | None, out: Path | None) -> None:
    """The IFRS 15 contract liability of bonus points: opening, deferred, recognised, closing."""
    from . import jobs

    result = jobs.ledger_liability(ledger, as_of.date() if as_of else None, out, by, tariffs)
    frame = result.tables["liability"].frame
    console = _console()
    table = RichTable("period", "opening", "deferred", "recognised", "closing", box=None)
    for row in frame.itertuples(index=False):
        table.add_row(str(row.period), *(_money(v, result.minor_units)
                                        for v in (row.opening, row.deferred, row.recognised, row.closing)))
    console.print(table)
    for path in result.written:
        console.print(f"wrote {path}")


@main.group("report")
def report_group() -> None:
    """Analytics: RFM segments, churn risk, upcoming birthdays with greetings."""


def _report_options(command):
    """The arguments every report takes: EXPORT, --tariffs, --out, --as-of, --sheet, --skip-bad-lines."""
    for option in reversed([
        click.argument("export", type=click.Path(path_type=Path)),
        click.option("--tariffs", type=click.Path(path_type=Path), required=True, help="The tariff workbook."),
        click.option("--out", type=click.Path(path_type=Path), required=True,
                     help="Where to write: .xlsx (sheets with charts), .csv or .parquet (each table beside OUT)."),
        click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d", "%d.%m.%Y"]),
                     help="The report's day (default: the export's last date)."),
        click.option("--sheet", help="The sheet holding the lines (default: the first whose headers fit)."),
        click.option("--skip-bad-lines", is_flag=True, help="Leave out bad lines and list them as warnings."),
    ]):
        command = option(command)
    return command


def _print_report_end(result, console: Console) -> None:
    _print_warnings(result.warnings, "in the Warnings table", console)
    for path in result.written:
        console.print(f"wrote {path}")


@report_group.command("rfm")
@_report_options
@click.option("--months", type=click.IntRange(min=1), default=12, show_default=True,
              help="The window: this many calendar months up to --as-of.")
@click.option("--save-segments", type=click.Path(path_type=Path),
              help="Tariff workbook whose Clients segments get each client's RFM segment (for promotions).")
@engine_options
@handles_input_errors
def report_rfm_command(export: Path, tariffs: Path, out: Path, as_of, sheet: str | None, skip_bad_lines: bool,
                       months: int, save_segments: Path | None, engine: str, workers: int, scheduler: str | None) -> None:
    """RFM: recency, frequency, monetary per client, scored 1–5, and its segment (champions … hibernating)."""
    _refuse_for_dask(engine, sheet=sheet)
    with _progress() as step:
        from . import reports

        if engine == "dask":
            from . import dask_engine

            result = dask_engine.report("rfm", export, tariffs, out, as_of.date() if as_of else None, months, workers,
                                        scheduler, skip_bad_lines=skip_bad_lines, progress=step,
                                        save_segments=save_segments)
        else:
            result = reports.rfm(export, tariffs, out, as_of.date() if as_of else None, months, save_segments, sheet,
                                 skip_bad_lines, progress=step)
    console = _console()
    frame = result.tables["rfm_segments"].frame
    console.print(f"RFM as of {result.as_of:%d.%m.%Y}, {months} months: {int(frame['clients'].sum())} clients")
    table = RichTable("segment", "clients", "monetary", box=None, pad_edge=False)
    for row in frame.itertuples(index=False):
        table.add_row(row.segment, str(row.clients), _money(row.monetary, result.minor_units))
    console.print(table)
    if result.segments_saved is not None:
        console.print(f"saved the segments into {save_segments}: {result.segments_saved} Clients rows changed")
    _print_report_end(result, console)


@report_group.command("churn")
@_report_options
@engine_options
@handles_input_errors
def report_churn_command(export: Path, tariffs: Path, out: Path, as_of, sheet: str | None,
                         skip_bad_lines: bool, engine: str, workers: int, scheduler: str | None) -> None:
    """Churn risk per client: the BG/NBD model fitted on the clients' purchase days (p_alive, purchases in 90 days)."""
    _refuse_for_dask(engine, sheet=sheet)
    with _progress() as step:
        from . import reports

        if engine == "dask":
            from . import dask_engine

            result = dask_engine.report("churn", export, tariffs, out, as_of.date() if as_of else None, 12, workers,
                                        scheduler, skip_bad_lines=skip_bad_lines, progress=step)
        else:
            result = reports.churn(export, tariffs, out, as_of.date() if as_of else None, sheet, skip_bad_lines,
                                   progress=step)
    console = _console()
    model = result.tables["churn_model"].frame.iloc[0]
    console.print(f"churn as of {result.as_of:%d.%m.%Y}: BG/NBD over {int(model['clients'])} clients, r {model['r']:.4f}, "
                  f"alpha {model['alpha']:.4f}, a {model['a']:.4f}, b {model['b']:.4f}, "
                  f"log-likelihood {model['log_likelihood']:.1f}")
    table = RichTable("churn risk", "clients", "net to date", box=None, pad_edge=False)
    for row in result.tables["churn_bands"].frame.itertuples(index=False):
        table.add_row(row.churn_risk, str(row.clients), _money(row.net_to_date, result.minor_units))
    console.print(table)
    _print_report_end(result, console)


@report_group.command("birthdays")
@_report_options
@click.option("--days", type=click.IntRange(min=0, max=365), default=14, show_default=True,
              help="The window: birthdays from --as-of to this many days after it, both included.")
@click.option("--ledger", help="The bonus ledger (SQLite path or URL): fills {balance} in the greeting.")
@engine_options
@handles_input_errors
def report_birthdays_command(export: Path, tariffs: Path, out: Path, as_of, sheet: str | None, skip_bad_lines: bool,
                             days: int, ledger: str | None, engine: str, workers: int, scheduler: str | None) -> None:
    """Upcoming birthdays of clients' contacts, each with its greeting and an SMS file for a gateway."""
    _refuse_for_dask(engine, sheet=sheet)
    with _progress() as step:
        from . import reports

        if engine == "dask":  # no line is priced: the export's latest date is all it needs from it
            from . import dask_engine

            result = dask_engine.birthdays(export, tariffs, out, as_of.date() if as_of else None, days, ledger,
                                           progress=step)
        else:
            result = reports.birthdays(export, tariffs, out, as_of.date() if as_of else None, days, ledger, sheet,
                                       skip_bad_lines, progress=step)
    console = _console()
    frame = result.tables["birthdays"].frame
    console.print(f"birthdays from {result.as_of:%d.%m.%Y}, {days} days: {len(frame)} clients, "
                  f"{len(result.tables['sms'].frame)} with a phone for SMS")
    for row in frame.head(WARNINGS_SHOWN).itertuples(index=False):
        console.print(Text(f"  {row.date:%d.%m} {row.client_id} {row.name or ''}: {row.greeting}"))
    _print_report_end(result, console)
