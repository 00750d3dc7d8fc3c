"""The ``erp-plugin`` command line: exit 0 on success, 2 on invalid input (nothing written).

Every command takes ``--json`` (one object on stdout, nothing else there), ``-q/--quiet``,
``-v/--verbose`` and ``--lang ru|en``; what goes where is console.py's business.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from contextlib import contextmanager
from functools import partial, wraps
from pathlib import Path

import click
from rich.table import Table as RichTable
from rich.text import Text

from . import __version__, i18n
from .console import (
    INVALID_INPUT,
    WARNINGS_SHOWN,
    Face,
    Group,
    HelpOption,
    Money,
    money_text,
)
from .i18n import _, column_label, msg
from .problems import InputError, Problem
from .xlsx import TargetLocked

DAY_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]
option = partial(click.option, cls=HelpOption)  # help= is a msgid (scripts/catalogs.py takes it from the tree)


def _money(value, units: int) -> str:
    return money_text(value, units)


def _dmy(day) -> str:
    """A day as an accountant reads it: 31.12.2026."""
    return day.strftime("%d.%m.%Y")


def _iso(day) -> str:
    """A day for scripts: 2026-12-31."""
    return day.strftime("%Y-%m-%d")


def _fixed(value, decimals: int) -> str:
    return f"{float(value):.{decimals}f}"


def _choose_language(given: str | None, kwargs: dict) -> str:
    """``--lang``, else the tariff workbook's Settings ``language`` (read on its own), else the locale, else ru."""
    workbook = None
    tariffs = kwargs.get("tariffs")
    if given is None and tariffs is not None:
        from .tariffs.language import workbook_language

        workbook = workbook_language(tariffs)
    return i18n.choose(given, workbook)


def command(group, name: str):
    """``group``'s command ``name`` with the common options; the function gets a ``Face`` first.

    A user's mistake becomes its problems on stderr (and in JSON) and exit code 2, never a traceback.
    """

    def decorate(function):
        @wraps(function)
        def run(*args, as_json: bool, quiet: bool, verbose: bool, lang: str | None, **kwargs):
            full_name = name if group is main else f"{group.name} {name}"
            face = Face(full_name, as_json, quiet, verbose)
            with i18n.use(_choose_language(lang, kwargs)):
                try:
                    code = function(face, *args, **kwargs)
                except InputError as exc:
                    if _conflicts(exc.problems):
                        face.figure("ledger_conflicts", _conflicts(exc.problems))
                    face.stopped(exc.problems, msg("stopped, nothing written"))
                    code = INVALID_INPUT
                except TargetLocked as exc:
                    message, path = exc.args
                    face.stopped([Problem("file.locked", msg("stopped, nothing written: {reason}", reason=message),
                                          file=str(path))], msg("stopped"))
                    code = INVALID_INPUT
                except PermissionError as exc:
                    face.stopped([Problem("file.permission", msg("stopped: no permission to write {path}",
                                                                 path=str(exc.filename)), file=str(exc.filename))],
                                 msg("stopped"))
                    code = INVALID_INPUT
                except click.UsageError as exc:
                    if not as_json:
                        raise
                    face.stopped([Problem("usage", str(exc.message))], msg("stopped"))
                    code = exc.exit_code
                face.finish(code or 0)

        for decorator in reversed(COMMON_OPTIONS):
            run = decorator(run)
        return group.command(name)(run)

    return decorate


COMMON_OPTIONS = [
    option("--json", "as_json", is_flag=True,
                 help="One JSON object on stdout for scripts: command, ok, exit_code, summary, problems, files."),
    option("-q", "--quiet", is_flag=True, help="Only errors (on stderr): no summary, warnings or progress."),
    option("-v", "--verbose", is_flag=True, help="Every warning, and each stage with its time (on stderr)."),
    option("--lang", type=click.Choice(i18n.LANGUAGES, case_sensitive=False),
                 help="ru | en (default: the Settings key language, else the locale, else ru)."),
]


def _show_version(ctx: click.Context, _param, value: bool) -> None:
    """--version in the chosen language (click's own option fixes its text when the module is imported)."""
    if value and not ctx.resilient_parsing:
        click.echo(_("{prog}, version {version}", prog="erp-plugin", version=__version__))
        ctx.exit()


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
        help="Show the version and exit.")
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


STDOUT = "-"


@contextmanager
def _target(face: Face, out: Path | None):
    """``out`` as given, or for ``--out -`` a csv in a temporary folder copied to stdout once written (the
    lines, or a table command's first table; tables written beside it are not kept)."""
    if out is None or str(out) != STDOUT:
        yield out
        return
    if face.as_json:
        raise click.UsageError(_("--out - writes csv to stdout, where --json writes its object: give one of them"))
    face.stdout_taken = True
    with tempfile.TemporaryDirectory(prefix="erp-plugin-") as folder:
        target = Path(folder) / "stdout.csv"
        face.stdout_file = target
        yield target
        if target.exists():
            with target.open("rb") as handle:
                sys.stdout.flush()
                shutil.copyfileobj(handle, sys.stdout.buffer)
                sys.stdout.buffer.flush()


def _out_option(help_text: str, required: bool = False):
    return option("--out", type=click.Path(path_type=Path), required=required,
                        help=help_text + " '-': csv on stdout.")


def _ledger_said(face: Face, posted, rewards: int | None = None) -> None:
    """What the run posted to the ledger: new lines, lines posted before (unchanged), conflicts (none: a conflict
    stops the run), and the reward lots of a year end."""
    if posted is None:
        return
    face.figure("ledger_new_lines", posted.added)
    face.figure("ledger_new_entries", posted.entries)
    face.figure("ledger_already_posted", posted.unchanged)
    face.figure("ledger_conflicts", 0)
    text = _("ledger: {added} new lines posted ({entries} point entries); {unchanged} already posted and unchanged; "
             "no conflicts", added=posted.added, entries=posted.entries, unchanged=posted.unchanged)
    if rewards is not None:
        face.figure("ledger_reward_lots", rewards)
        text += _("; {rewards} new reward lots", rewards=rewards)
    face.say(text)


def _conflicts(problems: list[Problem]) -> int:
    """Lines the ledger refused (``ledger.conflict``), the ones past the shown few counted in."""
    count = 0
    for problem in problems:
        if problem.code == "ledger.conflict":
            count += int(getattr(problem.message, "params", {}).get("more", 1))
    return count


@command(main, "init")
@click.argument("directory", required=False, default=".", type=click.Path(path_type=Path))
@option("--force", is_flag=True, help="Replace tariffs.xlsx and sales_export.xlsx if they exist.")
def init(face: Face, directory: Path, force: bool) -> None:
    """Write a fresh tariff workbook and a sample 1C-style sales export into DIRECTORY."""
    from . import jobs

    written = jobs.init(directory, force=force)
    face.figure("directory", str(directory))
    face.wrote(written)
    face.say(_("next: erp-plugin validate {path}", path=str(written[0])))


@command(main, "validate")
@click.argument("tariffs", type=click.Path(path_type=Path))
def validate(face: Face, tariffs: Path) -> int:
    """Check a tariff workbook: every problem with its Sheet!Cell. Exit 2 when it has errors."""
    from . import jobs
    from .console import print_problems

    result = jobs.validate(tariffs)
    problems = list(result.problems)
    face.reported.extend(problems)
    face.figure("file", str(tariffs))
    if not face.as_json:  # the problems are validate's report: on stdout, even with --quiet
        print_problems(problems, str(tariffs), face.out)
    if result.ok:
        book = result.book
        for key, count in (("tariffs", len(book.tariffs)), ("markers", len(book.markers)),
                           ("clients", len(book.clients)), ("promotions", len(book.promotions))):
            face.figure(key, count)
        face.say(_("\nok: {tariffs} tariffs, {markers} markers, {clients} clients, {promotions} promotions",
                   tariffs=len(book.tariffs), markers=len(book.markers), clients=len(book.clients),
                   promotions=len(book.promotions)))
    return 0 if result.ok else INVALID_INPUT


@command(main, "read")
@click.argument("export", type=click.Path(path_type=Path))
@option("--tariffs", type=click.Path(path_type=Path), help="Tariff workbook: its Columns sheet maps your headers.")
@_out_option("Write gross back: .xlsx/.xlsm, .csv or .parquet.")
@option("--sheet", help="The sheet holding the lines (default: the first whose headers fit).")
@option("--skip-bad-lines", is_flag=True, help="Leave out lines with bad values and list them as warnings.")
@option("--in-place", is_flag=True, help="Write into the export itself (--out may then be the export).")
@option("--save-columns", type=click.Path(path_type=Path),
              help="Tariff workbook to write the proposed Columns rows into, for headers the reader does not know.")
def read_command(face: Face, export: Path, tariffs: Path | None, out: Path | None, sheet: str | None,
                 skip_bad_lines: bool, in_place: bool, save_columns: Path | None) -> None:
    """Read an ERP export as pricing will: the header mapping, the lines, every bad value."""
    if in_place and out is None:
        out = export
    from . import jobs

    with _target(face, out) as target:
        result = jobs.read(export, tariffs, target, sheet, skip_bad_lines, in_place, save_columns)
    for row in result.saved_columns:
        face.say(Text(_("saved to {path}, Columns: {row}", path=str(save_columns), row=row)))
    source = result.export.source
    where = _("sheet {sheet}, ", sheet=source.sheet) if source.sheet else ""
    face.say(_("{export}: {where}header on row {row}", export=str(export), where=where, row=source.header_row))
    face.figure("header_row", source.header_row)
    face.figure("columns", {name: source.headers[index] if index < len(source.headers) else ""
                            for name, index in source.fields.items()})
    for name, header in face.figures["columns"].items():
        face.say(Text(f"  {name:<17} <- {header}"))
    lines = result.lines
    units = result.minor_units
    face.figure("lines", len(lines))
    face.figure("documents", lines["doc_id"].nunique())
    face.figure("clients", lines["client_id"].nunique())
    face.figure("gross", Money(lines["gross"].sum(), units))
    face.say(_("{lines} lines, {documents} documents, {clients} clients, gross {gross}", lines=len(lines),
               documents=face.figures["documents"], clients=face.figures["clients"],
               gross=_money(lines["gross"].sum(), units)))
    face.warnings(result.export.problems.warnings, msg("in the Warnings table"))
    face.wrote(result.written)


def engine_options(function):
    """--engine, --workers and --scheduler (SPEC §9), for the commands the Dask engine runs."""
    for decorator in reversed([
        option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
                     help="dask: client buckets computed on a Dask cluster (a parquet or csv export, a folder of parts out)."),
        option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
                     help="With --engine dask: the LocalCluster's worker processes."),
        option("--scheduler", help="With --engine dask: an existing cluster's scheduler address (tcp://host:8786)."),
    ]):
        function = decorator(function)
    return function


def _refuse_for_dask(engine: str, out: Path | None = None, **given) -> None:
    """What --engine dask does not take yet, said before any work."""
    taken = [f"--{name.replace('_', '-')}" for name, value in given.items() if value]
    if engine == "dask" and taken:
        raise click.UsageError(_("--engine dask does not take {options} yet", options=", ".join(taken)))
    if engine == "dask" and out is not None and str(out) == STDOUT:
        raise click.UsageError(_("--engine dask writes a folder of parts: --out - cannot go with it"))


def _out_needed(out: Path | None, export: Path, in_place: bool) -> Path:
    if in_place and out is None:
        out = export
    if out is None:
        raise click.UsageError(_("give --out (or --in-place)"))
    if in_place and str(out) == STDOUT:
        raise click.UsageError(_("--in-place writes into the export: --out - cannot go with it"))
    return out


@command(main, "price")
@click.argument("export", type=click.Path(path_type=Path))
@option("--tariffs", type=click.Path(path_type=Path), required=True, help="The tariff workbook.")
@_out_option("Where to write: .xlsx/.xlsm (written back), .csv or .parquet.")
@option("--sheet", help="The sheet holding the lines (default: the first whose headers fit).")
@option("--skip-bad-lines", is_flag=True, help="Leave out bad lines and list them as warnings.")
@option("--in-place", is_flag=True, help="Write the results into the export itself.")
@option("--ledger", help="The bonus ledger: an SQLite file path or an SQLAlchemy URL (default: Settings ledger).")
@engine_options
def price_command(face: Face, export: Path, tariffs: Path, out: Path | None, sheet: str | None, skip_bad_lines: bool,
                  in_place: bool, ledger: str | None, engine: str, workers: int, scheduler: str | None) -> None:
    """Price every line of an ERP export under the tariff workbook and write the results back."""
    out = _out_needed(out, export, in_place)
    _refuse_for_dask(engine, out, in_place=in_place, sheet=sheet)
    with _target(face, out) as target, face.progress() as step:
        from . import jobs

        if engine == "dask":
            from . import dask_engine

            priced = dask_engine.price(export, tariffs, target, workers, scheduler, skip_bad_lines=skip_bad_lines,
                                       progress=step, ledger=ledger)
        else:
            priced = jobs.price(export, tariffs, target, sheet, skip_bad_lines, in_place, progress=step, ledger=ledger)
    _price_summary(face, priced)
    _ledger_said(face, getattr(priced, "posted", None))
    face.warnings(priced.problems.warnings, msg("in the Warnings table"))
    face.wrote(priced.written)


PRICE_COUNTS = ("lines", "documents", "clients")
PRICE_MONEY = ("gross", "price_discount", "bonus_accrued", "reservation_cost", "net", "vat", "bonus_redeemed", "cash_due")


def _price_summary(face: Face, priced) -> None:
    row = priced.tables["summary"].frame.iloc[0]
    for key in PRICE_COUNTS:
        face.figure(key, int(row[key]))
    for key in PRICE_MONEY:
        face.figure(key, Money(row[key], priced.minor_units))
    face.figures_table((*PRICE_COUNTS, *PRICE_MONEY))
    face.warning_count(priced.problems.warnings)


@command(main, "rebates")
@click.argument("export", type=click.Path(path_type=Path))
@option("--tariffs", type=click.Path(path_type=Path), required=True, help="The tariff workbook.")
@option("--year", type=int, required=True, help="The fiscal year (it starts on fiscal_year_start).")
@_out_option("Where to write: .xlsx/.xlsm (written back), .csv or .parquet.")
@option("--sheet", help="The sheet holding the lines (default: the first whose headers fit).")
@option("--skip-bad-lines", is_flag=True, help="Leave out bad lines and list them as warnings.")
@option("--in-place", is_flag=True, help="Write the results into the export itself.")
@option("--ledger", help="The bonus ledger: the lines are posted and numeric stamp-card and quest rewards "
                               "become points (default: Settings ledger).")
@engine_options
def rebates_command(face: Face, export: Path, tariffs: Path, year: int, out: Path | None, sheet: str | None,
                    skip_bad_lines: bool, in_place: bool, ledger: str | None, engine: str, workers: int,
                    scheduler: str | None) -> None:
    """Year-end cumulative rebates with credit notes, card tiers and stamp cards."""
    out = _out_needed(out, export, in_place)
    _refuse_for_dask(engine, out, in_place=in_place, sheet=sheet)
    with _target(face, out) as target, face.progress() as step:
        from . import jobs

        if engine == "dask":
            from . import dask_engine

            result = dask_engine.rebates(export, tariffs, year, target, workers, scheduler,
                                         skip_bad_lines=skip_bad_lines, progress=step, ledger=ledger)
        else:
            result = jobs.rebates(export, tariffs, year, target, sheet, skip_bad_lines, in_place, progress=step,
                                  ledger=ledger)
    _year_summary(face, result.tables["summary"].frame.iloc[0], result.minor_units)
    if getattr(result, "posted", None) is not None:
        _ledger_said(face, result.posted, result.rewards_posted)
    face.warnings(result.problems.warnings, msg("in the Warnings table"))
    face.wrote(result.written)


YEAR_COUNTS = ("clients", "clients_with_rebate")
YEAR_MONEY = ("turnover", "rebate", "credit_note_vat")


def _year_summary(face: Face, row, units: int) -> None:
    face.figure("fiscal_year", int(row["fiscal_year"]))
    face.figure("from", _iso(row['from']))
    face.figure("to", _iso(row['to']))
    face.say(_("fiscal year {year}: {start} to {end}", year=row["fiscal_year"], start=_dmy(row['from']),
               end=_dmy(row['to'])))
    for key in YEAR_COUNTS:
        face.figure(key, int(row[key]))
    for key in YEAR_MONEY:
        face.figure(key, Money(row[key], units))
    face.figures_table((*YEAR_COUNTS, *YEAR_MONEY))


@command(main, "impact")
@click.argument("export", type=click.Path(path_type=Path))
@option("--tariffs", type=click.Path(path_type=Path), required=True, help="The current tariff workbook.")
@option("--against", type=click.Path(path_type=Path), required=True, help="The proposed tariff workbook.")
@_out_option("Where to write the tables: .xlsx, .csv or .parquet.")
@option("--year", type=int, help="The fiscal year whose rebates count (default: the one of the latest line).")
@option("--sheet", help="The sheet holding the lines (default: the first whose headers fit).")
@option("--skip-bad-lines", is_flag=True, help="Leave out bad lines and list them as warnings.")
@engine_options
def impact_command(face: Face, export: Path, tariffs: Path, against: Path, out: Path | None, year: int | None,
                   sheet: str | None, skip_bad_lines: bool, engine: str, workers: int, scheduler: str | None) -> None:
    """What a proposed tariff workbook would have given away on this export, against the current one."""
    _refuse_for_dask(engine, out, sheet=sheet)
    if engine == "dask" and out is None:
        raise click.UsageError(_("--engine dask writes the tables: give --out"))
    with _target(face, out) as target, face.progress() as step:
        from . import jobs

        if engine == "dask":
            from . import dask_engine

            result = dask_engine.impact(export, tariffs, against, target, year, workers, scheduler,
                                        skip_bad_lines=skip_bad_lines, progress=step)
        else:
            result = jobs.impact(export, tariffs, against, target, year, sheet, skip_bad_lines, progress=step)
    row = result.tables["summary"].frame.iloc[0]
    units = result.minor_units
    face.figure("fiscal_year", result.year)
    face.figure("clients", int(row["clients"]))
    for key in ("concession_current", "concession_proposed", "concession_delta"):
        face.figure(key, Money(row[key], units))
    face.say(_("fiscal year {year}, {clients} clients: the concession (discounts, bonus, reservation cost and rebates) "
               "goes from {current} to {proposed}, {change}", year=result.year, clients=row["clients"],
               current=_money(row["concession_current"], units), proposed=_money(row["concession_proposed"], units),
               change=_signed(row["concession_delta"], units)))
    table = RichTable(box=None, pad_edge=False)
    for name, justify in (("tariff", "left"), ("concession_current", "right"), ("concession_proposed", "right"),
                          ("concession_delta", "right")):
        table.add_column(column_label(name), justify=justify)
    for _index, t in result.tables["impact_by_tariff"].frame.iterrows():
        table.add_row(str(t["tariff"]), _money(t["concession_current"], units), _money(t["concession_proposed"], units),
                      _signed(t["concession_delta"], units))
    face.say(table)
    face.warnings(result.problems.warnings, msg("in the Warnings table"))
    face.wrote(result.written)


def _signed(minor: int, units: int) -> str:
    """A change of money with its sign: ``+1 234.50``, ``-80.00``, ``0.00``."""
    return ("+" if minor > 0 else "") + _money(minor, units)


@command(main, "year-end")
@click.argument("workbook", type=click.Path(path_type=Path))
def year_end_command(face: Face, workbook: Path) -> int:
    """The one-click year end outside Excel: rebates into a year-end WORKBOOK (its Setup sheet names the tariff
    workbook, the export and the year), with charts; problems go to its Warnings sheet too. Exit 2 on errors."""
    with face.progress() as step:
        from .excel.year_end import run_file

        outcome = run_file(workbook, progress=step)
    if not outcome.ok:
        face.stopped(outcome.problems, msg("stopped; the problems are on {workbook}'s Warnings sheet",
                                           workbook=str(workbook)))
        return INVALID_INPUT
    _year_summary(face, outcome.summary.frame.iloc[0], outcome.minor_units)
    face.warnings(outcome.problems, msg("on the Warnings sheet"))
    face.figure("sheets", list(outcome.sheets))
    face.files.append(str(workbook))
    face.say(_("wrote {sheets} into {workbook}", sheets=", ".join(outcome.sheets), workbook=str(workbook)))
    return 0


@command(main, "preview")
@click.argument("tariffs", type=click.Path(path_type=Path))
def preview_command(face: Face, tariffs: Path) -> int:
    """Fill the tariff workbook's Preview sheet: its sample basket under every tariff × bonus mode × payment
    option (price, discount, bonus, concession). Problems go on the sheet too. Exit 2 on errors."""
    from .excel.preview import run_file
    from .money import PCT_SCALE

    outcome = run_file(tariffs)
    if outcome.table is None:
        face.stopped(outcome.problems, msg("stopped; the problems are on {workbook}'s Preview sheet",
                                           workbook=str(tariffs)))
        return INVALID_INPUT
    frame, units = outcome.table.frame, outcome.minor_units
    table = RichTable(*(column_label(n) for n in ("tariff", "bonus_mode", "payment")), box=None, pad_edge=False)
    for name in ("net", "bonus_accrued", "concession_pct"):
        table.add_column(column_label(name), justify="right")
    for row in frame.itertuples(index=False):
        table.add_row(row.tariff, row.bonus_mode, str(row.payment or ""), _money(row.net, units),
                      _money(row.bonus_accrued, units), f"{row.concession_pct / PCT_SCALE:.2f} %")
    face.say(table)
    face.figure("rows", len(frame))
    face.files.append(str(tariffs))
    face.say(_("wrote {rows} rows into the Preview sheet of {workbook}", rows=len(frame), workbook=str(tariffs)))
    return 0


@command(main, "accrue")
@click.argument("export", type=click.Path(path_type=Path))
@option("--tariffs", type=click.Path(path_type=Path), required=True, help="The tariff workbook.")
@option("--as-of", "as_of", type=click.DateTime(formats=DAY_FORMATS), required=True,
              help="The day to accrue to (YYYY-MM-DD).")
@_out_option("Where to write: .xlsx/.xlsm, .csv or .parquet.")
@option("--sheet", help="The sheet holding the lines (default: the first whose headers fit).")
@option("--skip-bad-lines", is_flag=True, help="Leave out bad lines and list them as warnings.")
@engine_options
def accrue_command(face: Face, export: Path, tariffs: Path, as_of, out: Path | None, sheet: str | None,
                   skip_bad_lines: bool, engine: str, workers: int, scheduler: str | None) -> None:
    """Rebate accrual during the year: projection, liability, and each client's gap to the next step."""
    _refuse_for_dask(engine, out, sheet=sheet)
    if engine == "dask" and out is None:
        raise click.UsageError(_("--engine dask writes a parquet dataset: give --out"))
    with _target(face, out) as target, face.progress() as step:
        from . import jobs

        if engine == "dask":
            from . import dask_engine

            result = dask_engine.accrue(export, tariffs, as_of.date(), target, workers, scheduler,
                                        skip_bad_lines=skip_bad_lines, progress=step)
        else:
            result = jobs.accrue(export, tariffs, as_of.date(), target, sheet, skip_bad_lines, progress=step)
    import pandas as pd

    frame = result.tables["accruals"].frame
    units = result.minor_units
    face.figure("as_of", _iso(as_of))
    face.figure("clients", len(frame))
    face.figure("liability", Money(frame["liability"].sum(), units))
    face.say(_("as of {day}: {clients} clients, liability {liability}", day=_dmy(as_of), clients=len(frame),
               liability=_money(frame["liability"].sum(), units)))
    table = RichTable(*(column_label(n) for n in ("client_id", "turnover_to_date", "projected_turnover",
                                                  "gap_to_next_step", "extra_rebate")), box=None)
    for row in frame.head(WARNINGS_SHOWN).itertuples(index=False):
        gap = "" if row.gap_to_next_step is pd.NA else _money(row.gap_to_next_step, units)
        extra = "" if row.extra_rebate is pd.NA else _money(row.extra_rebate, units)
        table.add_row(str(row.client_id), _money(row.turnover_to_date, units),
                      _money(row.projected_turnover, units), gap, extra)
    face.say(table)
    _ledger_said(face, getattr(result, "posted", None))
    face.warnings(result.problems.warnings, msg("in the Warnings table"))
    face.wrote(result.written)


@command(main, "fees")
@option("--tariffs", type=click.Path(path_type=Path), required=True, help="The tariff workbook.")
@option("--month", required=True, help="The month, YYYY-MM.")
@_out_option("Where to write: .xlsx, .csv or .parquet.")
def fees_command(face: Face, tariffs: Path, month: str, out: Path | None) -> None:
    """Subscription fee lines of a month: paid tariffs whose trial has ended."""
    from . import jobs

    with _target(face, out) as target:
        result = jobs.fees(tariffs, month, target)
    frame = result.tables["fees"].frame
    face.figure("month", month)
    face.figure("fee_lines", len(frame))
    face.figure("fees", Money(frame["fee"].sum(), result.minor_units))
    face.say(_("{month}: {lines} fee lines, {total} in all", month=month, lines=len(frame),
               total=_money(frame["fee"].sum(), result.minor_units)))
    face.wrote(result.written)


@main.group("ledger")
def ledger_group() -> None:
    """The bonus ledger: balances, a client's history and statement, the IFRS 15 liability."""


def _day(value) -> str:
    import pandas as pd

    return "" if value is None or pd.isna(value) else _dmy(pd.Timestamp(value))


@command(ledger_group, "balance")
@option("--ledger", required=True, help="An SQLite file path or an SQLAlchemy URL.")
@option("--as-of", "as_of", type=click.DateTime(formats=DAY_FORMATS), help="Default: today.")
@option("--tariffs", type=click.Path(path_type=Path), help="The tariff workbook: its currency's minor units.")
@_out_option("Where to write: .xlsx, .csv or .parquet.")
def ledger_balance_command(face: Face, ledger: str, as_of, tariffs: Path | None, out: Path | None) -> None:
    """Available and pending points per client as of a day (expired points taken off)."""
    from . import jobs

    with _target(face, out) as target:
        result = jobs.ledger_balance(ledger, as_of.date() if as_of else None, target, tariffs)
    frame = result.tables["balances"].frame
    units = result.minor_units
    face.figure("clients", len(frame))
    face.figure("available", Money(frame["available"].sum(), units))
    face.figure("pending", Money(frame["pending"].sum(), units))
    face.say(_("{clients} clients: available {available}, pending {pending}", clients=len(frame),
               available=_money(frame["available"].sum(), units), pending=_money(frame["pending"].sum(), units)))
    face.wrote(result.written)


@command(ledger_group, "history")
@option("--ledger", required=True, help="An SQLite file path or an SQLAlchemy URL.")
@option("--client", "client_id", required=True, help="The client id.")
@option("--as-of", "as_of", type=click.DateTime(formats=DAY_FORMATS),
              help="Expiries up to this day (default: today).")
@option("--tariffs", type=click.Path(path_type=Path), help="The tariff workbook: its currency's minor units.")
@_out_option("Where to write: .xlsx, .csv or .parquet.")
def ledger_history_command(face: Face, ledger: str, client_id: str, as_of, tariffs: Path | None,
                           out: Path | None) -> None:
    """A client's entries: accruals, reversals, redemptions, refunds, expiries."""
    from . import jobs

    with _target(face, out) as target:
        result = jobs.ledger_history(ledger, client_id, target, tariffs, as_of.date() if as_of else None)
    frame = result.tables["history"].frame
    face.figure("client_id", client_id)
    face.figure("entries", len(frame))
    table = RichTable(*(column_label(n) for n in ("booked_on", "kind", "amount", "available_on", "line")), box=None)
    for row in frame.itertuples(index=False):
        table.add_row(_dmy(row.booked_on), row.kind, _money(row.amount, result.minor_units),
                      _day(row.available_on), str(row.line))
    face.say(table)
    face.wrote(result.written)


@command(ledger_group, "statement")
@option("--ledger", required=True, help="An SQLite file path or an SQLAlchemy URL.")
@option("--client", "client_id", required=True, help="The client id.")
@option("--from", "start", type=click.DateTime(formats=DAY_FORMATS),
              help="The first day (default: 1 January of the --as-of year).")
@option("--as-of", "as_of", type=click.DateTime(formats=DAY_FORMATS), help="The last day (default: today).")
@option("--tariffs", type=click.Path(path_type=Path), help="The tariff workbook: its currency's minor units.")
@_out_option("Where to write: .xlsx, .csv or .parquet.")
def ledger_statement_command(face: Face, ledger: str, client_id: str, start, as_of, tariffs: Path | None,
                             out: Path | None) -> None:
    """A client's statement: opening balance, every movement, closing balance, points expiring soon."""
    from . import jobs

    with _target(face, out) as target:
        statement, result = jobs.ledger_statement(ledger, client_id, start.date() if start else None,
                                                 as_of.date() if as_of else None, target, tariffs)
    units = result.minor_units

    def money(v):
        return _money(v, units)

    face.figure("client_id", client_id)
    face.figure("from", _iso(statement.start))
    face.figure("to", _iso(statement.end))
    face.figure("opening", Money(statement.opening, units))
    face.figure("closing", Money(statement.closing, units))
    face.figure("movements", len(statement.movements))
    face.say(_("client {client}, {start} – {end}", client=client_id, start=_dmy(statement.start),
               end=_dmy(statement.end)))
    face.say(_("opening balance {amount}", amount=money(statement.opening)))
    table = RichTable(*(column_label(n) for n in ("booked_on", "kind", "document", "amount", "balance")), box=None)
    for row in statement.movements.itertuples(index=False):
        table.add_row(_day(row.booked_on), row.kind, str(row.document), money(row.amount), money(row.balance))
    face.say(table)
    face.say(_("closing balance {amount}", amount=money(statement.closing)))
    for row in statement.expiring.itertuples(index=False):
        face.say(_("expiring {day}: {amount}", day=_day(row.expires_on), amount=money(row.amount)))
    face.wrote(result.written)


@command(ledger_group, "liability")
@option("--ledger", required=True, help="An SQLite file path or an SQLAlchemy URL.")
@option("--as-of", "as_of", type=click.DateTime(formats=DAY_FORMATS), help="Default: today.")
@option("--by", type=click.Choice(["month", "year"]), default="month", show_default=True)
@option("--tariffs", type=click.Path(path_type=Path),
              help="The tariff workbook: its RedemptionEstimates and expected_redemption_pct.")
@_out_option("Where to write: .xlsx, .csv or .parquet.")
def ledger_liability_command(face: Face, ledger: str, as_of, by: str, tariffs: Path | None, out: Path | None) -> None:
    """The IFRS 15 contract liability of bonus points: opening, deferred, recognised, closing."""
    from . import jobs

    with _target(face, out) as target:
        result = jobs.ledger_liability(ledger, as_of.date() if as_of else None, target, by, tariffs)
    frame = result.tables["liability"].frame
    units = result.minor_units
    face.figure("periods", len(frame))
    if len(frame):
        face.figure("closing", Money(frame["closing"].iloc[-1], units))
    table = RichTable(*(column_label(n) for n in ("period", "opening", "deferred", "recognised", "closing")), box=None)
    for row in frame.itertuples(index=False):
        table.add_row(str(row.period), *(_money(v, units) for v in (row.opening, row.deferred, row.recognised,
                                                                    row.closing)))
    face.say(table)
    face.wrote(result.written)


@main.group("report")
def report_group() -> None:
    """Analytics: RFM segments, churn risk, upcoming birthdays with greetings."""


def _report_options(function):
    """The arguments every report takes: EXPORT, --tariffs, --out, --as-of, --sheet, --skip-bad-lines."""
    for decorator in reversed([
        click.argument("export", type=click.Path(path_type=Path)),
        option("--tariffs", type=click.Path(path_type=Path), required=True, help="The tariff workbook."),
        _out_option("Where to write: .xlsx (sheets with charts), .csv or .parquet (each table beside OUT).",
                    required=True),
        option("--as-of", "as_of", type=click.DateTime(formats=DAY_FORMATS),
                     help="The report's day (default: the export's last date)."),
        option("--sheet", help="The sheet holding the lines (default: the first whose headers fit)."),
        option("--skip-bad-lines", is_flag=True, help="Leave out bad lines and list them as warnings."),
    ]):
        function = decorator(function)
    return function


def _report_end(face: Face, result) -> None:
    face.warnings(result.warnings, msg("in the Warnings table"))
    face.wrote(result.written)


@command(report_group, "rfm")
@_report_options
@option("--months", type=click.IntRange(min=1), default=12, show_default=True,
              help="The window: this many calendar months up to --as-of.")
@option("--save-segments", type=click.Path(path_type=Path),
              help="Tariff workbook whose Clients segments get each client's RFM segment (for promotions).")
@engine_options
def report_rfm_command(face: Face, export: Path, tariffs: Path, out: Path, as_of, sheet: str | None,
                       skip_bad_lines: bool, months: int, save_segments: Path | None, engine: str, workers: int,
                       scheduler: str | None) -> None:
    """RFM: recency, frequency, monetary per client, scored 1–5, and its segment (champions … hibernating)."""
    _refuse_for_dask(engine, out, sheet=sheet)
    with _target(face, out) as target, face.progress() as step:
        from . import reports

        if engine == "dask":
            from . import dask_engine

            result = dask_engine.report("rfm", export, tariffs, target, as_of.date() if as_of else None, months,
                                        workers, scheduler, skip_bad_lines=skip_bad_lines, progress=step,
                                        save_segments=save_segments)
        else:
            result = reports.rfm(export, tariffs, target, as_of.date() if as_of else None, months, save_segments,
                                 sheet, skip_bad_lines, progress=step)
    frame = result.tables["rfm_segments"].frame
    face.figure("as_of", _iso(result.as_of))
    face.figure("months", months)
    face.figure("clients", int(frame["clients"].sum()))
    face.say(_("RFM as of {day}, {months} months: {clients} clients", day=_dmy(result.as_of), months=months,
               clients=int(frame["clients"].sum())))
    table = RichTable(*(column_label(n) for n in ("segment", "clients", "monetary")), box=None, pad_edge=False)
    for row in frame.itertuples(index=False):
        table.add_row(row.segment, str(row.clients), _money(row.monetary, result.minor_units))
    face.say(table)
    if result.segments_saved is not None:
        face.figure("segments_saved", result.segments_saved)
        face.say(_("saved the segments into {path}: {rows} Clients rows changed", path=str(save_segments),
                   rows=result.segments_saved))
    _report_end(face, result)


@command(report_group, "churn")
@_report_options
@engine_options
def report_churn_command(face: Face, export: Path, tariffs: Path, out: Path, as_of, sheet: str | None,
                         skip_bad_lines: bool, engine: str, workers: int, scheduler: str | None) -> None:
    """Churn risk per client: the BG/NBD model fitted on the clients' purchase days (p_alive, purchases in 90 days)."""
    _refuse_for_dask(engine, out, sheet=sheet)
    with _target(face, out) as target, face.progress() as step:
        from . import reports

        if engine == "dask":
            from . import dask_engine

            result = dask_engine.report("churn", export, tariffs, target, as_of.date() if as_of else None, 12, workers,
                                        scheduler, skip_bad_lines=skip_bad_lines, progress=step)
        else:
            result = reports.churn(export, tariffs, target, as_of.date() if as_of else None, sheet, skip_bad_lines,
                                   progress=step)
    model = result.tables["churn_model"].frame.iloc[0]
    face.figure("as_of", _iso(result.as_of))
    face.figure("clients", int(model["clients"]))
    for key in ("r", "alpha", "a", "b", "log_likelihood"):
        face.figure(key, float(model[key]))
    face.say(_("churn as of {day}: BG/NBD over {clients} clients, r {r}, alpha {alpha}, a {a}, b {b}, "
               "log-likelihood {ll}", day=_dmy(result.as_of), clients=int(model["clients"]),
               r=_fixed(model['r'], 4), alpha=_fixed(model['alpha'], 4), a=_fixed(model['a'], 4), b=_fixed(model['b'], 4),
               ll=_fixed(model['log_likelihood'], 1)))
    table = RichTable(*(column_label(n) for n in ("churn_risk", "clients", "net_to_date")), box=None, pad_edge=False)
    for row in result.tables["churn_bands"].frame.itertuples(index=False):
        table.add_row(row.churn_risk, str(row.clients), _money(row.net_to_date, result.minor_units))
    face.say(table)
    _report_end(face, result)


@command(report_group, "birthdays")
@_report_options
@option("--days", type=click.IntRange(min=0, max=365), default=14, show_default=True,
              help="The window: birthdays from --as-of to this many days after it, both included.")
@option("--ledger", help="The bonus ledger (SQLite path or URL): fills {balance} in the greeting.")
@engine_options
def report_birthdays_command(face: Face, export: Path, tariffs: Path, out: Path, as_of, sheet: str | None,
                             skip_bad_lines: bool, days: int, ledger: str | None, engine: str, workers: int,
                             scheduler: str | None) -> None:
    """Upcoming birthdays of clients' contacts, each with its greeting and an SMS file for a gateway."""
    _refuse_for_dask(engine, out, sheet=sheet)
    with _target(face, out) as target, face.progress() as step:
        from . import reports

        if engine == "dask":  # no line is priced: the export's latest date is all it needs from it
            from . import dask_engine

            result = dask_engine.birthdays(export, tariffs, target, as_of.date() if as_of else None, days, ledger,
                                           progress=step)
        else:
            result = reports.birthdays(export, tariffs, target, as_of.date() if as_of else None, days, ledger, sheet,
                                       skip_bad_lines, progress=step)
    frame = result.tables["birthdays"].frame
    sms = len(result.tables["sms"].frame)
    face.figure("as_of", _iso(result.as_of))
    face.figure("days", days)
    face.figure("clients", len(frame))
    face.figure("sms", sms)
    face.say(_("birthdays from {day}, {days} days: {clients} clients, {sms} with a phone for SMS",
               day=_dmy(result.as_of), days=days, clients=len(frame), sms=sms))
    for row in frame.head(WARNINGS_SHOWN).itertuples(index=False):
        face.say(Text(f"  {row.date:%d.%m} {row.client_id} {row.name or ''}: {row.greeting}"))
    _report_end(face, result)
