"""The operations as the faces run them: on files (or an export already read), with engine results.

The command line and the Excel jobs call these; they hand back the engine's
frames (integers at their kinds' scales, ``Table``s with their kinds) and write
``out``. Scripts use ``erp_plugin.api``, which wraps these for paths and
DataFrames and hands back exact decimals. Nothing here prints or exits: results
and problems are returned, and an operation that cannot proceed raises
InputError carrying every problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .erp.read import Export, ExportSource, read_export
from .i18n import N_, msg, written
from .lines import PERCENT, SOURCE_ROW, input_kinds, result_kinds
from .output.write import output_problem, write_output, write_tables
from .overviews import markers_table, rebate_by_tier_table, turnover_steps_table
from .period.client_names import named
from .plugins.gross import add_gross
from .problems import InputError, Problem, Problems
from .tables import INT, PCT, TEXT, Table, money
from .tariffs import TariffBook, read_tariffs

if TYPE_CHECKING:  # a name for the annotations; the ledger (SQLAlchemy) is loaded only when a run posts
    from .ledger.lots import Opening
    from .ledger.store import Posted

TARIFFS_NAME = "tariffs.xlsx"
EXPORT_NAME = "sales_export.xlsx"
YEAR_END_NAME = "year_end.xlsx"
YEAR_END_PY = "year_end.py"  # xlwings' Run main runs main() of the .py named like the workbook
TARIFFS_PY = "tariffs.py"  # the same for the tariff workbook: its Preview


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


def _book(tariffs: str | Path | TariffBook | None) -> TariffBook | None:
    """The tariff book: read from a path, or the one given (None stays None)."""
    return load_tariffs(tariffs) if isinstance(tariffs, (str, Path)) else tariffs


def _refuse_unwritable(source, out, in_place: bool) -> None:
    """InputError, before any work, when ``out`` cannot be written for this export."""
    if out is not None:
        problem = output_problem(source, Path(out), in_place)
        if problem:
            raise InputError([problem])


def init(directory: str | Path = ".", force: bool = False) -> list[Path]:
    """Write a fresh tariff workbook, a sample 1C-style export and the year-end workbook into ``directory``,
    with ``tariffs.py`` and ``year_end.py`` beside them for xlwings' Run main.

    Refuses to replace existing files unless ``force``; every file is checked
    before any is written.
    """
    from .output.sample import write_sample_export
    from .output.template import write_template
    from .output.xlwings_scripts import TARIFFS_SCRIPT, YEAR_END_SCRIPT
    from .output.year_end_book import write_workbook as write_year_end

    folder = Path(directory)
    targets = [folder / name for name in (TARIFFS_NAME, EXPORT_NAME, YEAR_END_NAME, YEAR_END_PY, TARIFFS_PY)]
    if folder.exists() and not folder.is_dir():
        raise InputError([Problem("init.not_a_folder", msg("is a file; give a folder for the new workbooks"), file=str(folder))])
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise InputError(
            [Problem("init.exists", msg("already exists; use --force to replace it, or choose another folder"), file=str(t)) for t in existing]
        )
    folder.mkdir(parents=True, exist_ok=True)
    write_template(targets[0])
    write_sample_export(targets[1])
    write_year_end(targets[2])
    targets[3].write_text(YEAR_END_SCRIPT, encoding="utf-8")
    targets[4].write_text(TARIFFS_SCRIPT, encoding="utf-8")
    return targets


@dataclass(frozen=True)
class ReadResult:
    export: Export
    lines: pd.DataFrame  # the lines with gross
    written: list[Path]
    minor_units: int
    saved_columns: list[str] = field(default_factory=list)  # Columns rows written by --save-columns


def read(
    export: str | Path,
    tariffs: str | Path | TariffBook | None = None,
    out: str | Path | None = None,
    sheet: str | None = None,
    skip_bad_lines: bool = False,
    in_place: bool = False,
    save_columns: str | Path | None = None,
) -> ReadResult:
    """Read an export as pricing will (with the tariff workbook's Columns mapping, if given).

    With ``out``, write ``gross`` back (and a Warnings table of skipped lines). With ``save_columns`` (a
    tariff workbook), a header lacking required fields gets the Columns rows the reader proposes written
    there (erp/proposals.py), and the export is read again with them.
    Raises InputError with every problem when the export has errors; nothing is written then.
    """
    book = _book(tariffs)
    saved: list[str] = []
    if save_columns is not None and not isinstance(export, Export):
        columns = {c.field: c.header for c in book.columns} if book else {}
        first = read_export(export, columns, sheet, skip_bad_lines, book.settings.minor_units if book else 2)
        proposed = first.proposed or (getattr(first.source.fields, "guessed", {}) if first.source else {})
        if proposed:
            from .output.columns_sheet import save_columns as write_columns

            saved = write_columns(save_columns, proposed)
            if book is None or (isinstance(tariffs, (str, Path)) and Path(tariffs).resolve() == Path(save_columns).resolve()):
                book = _book(save_columns)
            else:  # the mapping just saved elsewhere applies to this read too
                book = replace(book, columns=(*book.columns, *_book(save_columns).columns))
    minor_units = book.settings.minor_units if book else 2
    data = _read_checked(export, book, sheet, skip_bad_lines, out, in_place)
    lines = add_gross(data.lines, minor_units)
    written: list[Path] = []
    if out is not None:
        tables = [warnings_table(data.problems)] if data.problems.warnings else []
        kinds = input_kinds(minor_units)
        written = write_output(data.source, lines, {"gross": money(minor_units)}, tables, out, in_place, kinds)
    return ReadResult(data, lines, written, minor_units, saved)


def _read_checked(export, book: TariffBook | None, sheet, skip_bad_lines: bool, out, in_place: bool,
                  progress=None) -> Export:
    """The export's lines, or InputError: its unreadable values, or an ``out`` that cannot be written.
    ``export`` is a file, or an Export already read (a DataFrame conformed by erp.read_frame)."""
    if isinstance(export, Export):
        data = export
    else:
        columns = {c.field: c.header for c in book.columns} if book else {}
        data = read_export(export, columns, sheet, skip_bad_lines, book.settings.minor_units if book else 2, progress)
    if data.problems.errors:
        raise InputError(data.problems.errors)
    _refuse_unwritable(data.source, out, in_place)
    return data


def warnings_table(problems: Problems) -> Table:
    """The warnings of a run as the ``warnings`` table (a Warnings sheet in Excel)."""
    return problems_table(problems.warnings, severity=False)


def problems_table(problems: list[Problem], severity: bool = True) -> Table:
    """Problems with their places, errors first, as the ``warnings`` table; ``count``: the lines each
    stands for (a grouped warning's, at its worst line's row; a cap's note's, without a row)."""
    columns = ["severity"] * severity + ["where", "row", "field", "code", "message", "count"]
    ordered = sorted(problems, key=lambda p: p.severity != "error")
    frame = pd.DataFrame([{"severity": p.severity, "where": written(p.where), "row": p.row, "field": p.field,
                           "code": p.code, "count": p.count, "message": written(p.message)} for p in ordered],
                         columns=columns)
    frame["row"] = frame["row"].astype("Int64")
    frame["count"] = frame["count"].astype("Int64")
    return Table("warnings", frame, {"row": INT, "count": INT})


@dataclass(frozen=True)
class Priced:
    lines: pd.DataFrame  # the export's lines with every result column of SPEC §5
    tables: dict[str, Table]  # summary, markers, coupons, warnings
    problems: Problems  # warnings (the run had no errors)
    written: list[Path]
    minor_units: int
    source: ExportSource | None = None  # where the lines came from, for writing results back later
    posted: "Posted | None" = None  # what the run posted to the ledger, when it was given one
    kept: dict[str, pd.DataFrame] = field(default_factory=dict)  # what pricing gave the ledger to keep

    def tables_for_period(self) -> dict[str, Table]:
        """The pricing tables a period job reports too: the coupons issued and used."""
        return {name: table for name, table in self.tables.items() if name == "coupons"}


def price(
    export: str | Path,
    tariffs: str | Path | TariffBook,
    out: str | Path | None = None,
    sheet: str | None = None,
    skip_bad_lines: bool = False,
    in_place: bool = False,
    progress=None,
    ledger: str | Path | None = None,
    opening: "Opening | None" = None,
) -> Priced:
    """Price every line of an export (SPEC §5) and, with ``out``, write the results back.

    With a ``ledger`` the lines are priced against what it holds and posted to it, in one transaction.
    ``opening`` instead: what a ledger holds for these lines' clients, read by the caller (the Dask
    engine, which posts the buckets itself); ``kept`` then has what pricing gives the ledger to keep.
    Raises InputError with every problem (unreadable values, option days beyond
    every bracket, unknown payments or coupons, overdrawn bonus) unless
    ``skip_bad_lines``, which leaves those lines out and lists them as warnings.
    ``progress(stage, done=None, total=None)`` is called as the run moves on, for a progress display
    (``done`` of ``total`` rows read, plugins run).
    """
    from .pipeline import RunContext, nothing_to_price, price_lines

    step = progress or (lambda *_: None)
    if not isinstance(tariffs, TariffBook):
        step(N_("reading the tariff workbook"))
    book = _book(tariffs)
    minor_units = book.settings.minor_units
    step(N_("reading the export"))
    data = _read_checked(export, book, sheet, skip_bad_lines, out, in_place, step)
    if data.lines.empty:
        raise nothing_to_price(data.problems.warnings)
    ledger = ledger or book.settings.ledger
    written: list[Path] = []

    def priced(ctx: RunContext):
        run = price_lines(data.lines, ctx, progress=step)
        problems = Problems()
        problems.extend(data.problems.warnings)
        problems.extend(run.problems)
        tables = {"summary": summary_table(run.lines, minor_units), "markers": markers_table(run.lines, book),
                  **run.tables}
        if problems.warnings:
            tables["warnings"] = warnings_table(problems)
        return run, tables, problems

    def write(lines, tables) -> None:
        if out is not None:
            written.extend(write_output(data.source, lines, result_kinds(minor_units), named(tables, book), out,
                                        in_place, input_kinds(minor_units), progress=step))

    posted = None
    if ledger:  # one transaction: the ledger read, priced against, posted to and the output written, or nothing
        from .ledger.store import open_ledger, session

        step(N_("reading the ledger"))
        new_file = "://" not in str(ledger) and not Path(ledger).exists()
        engine = open_ledger(ledger)
        try:
            with session(engine, data.lines, book) as run_on_ledger:
                ctx = RunContext(book, skip_bad_lines, opening=run_on_ledger.opening())
                run, tables, problems = priced(ctx)
                step(N_("posting to the ledger"))
                posted = run_on_ledger.post(run.lines, str(data.source.path), ctx.opening, run.kept)
                write(run.lines, tables)
        except BaseException:
            if new_file:  # only posting creates a ledger: a run that posted nothing leaves no file behind
                engine.dispose()
                Path(ledger).unlink(missing_ok=True)
            raise
    else:
        run, tables, problems = priced(RunContext(book, skip_bad_lines, opening=opening))
        write(run.lines, tables)
    return Priced(run.lines, tables, problems, written, minor_units, data.source, posted, dict(run.kept))


def read_priced(path: str | Path, tariffs: str | Path | TariffBook | None = None,
                columns: list[str] | None = None) -> pd.DataFrame:
    """The lines ``price --out x.parquet`` wrote, read back as pricing held them, for a period job in a
    batch script without pricing again: ``period.rebates.year_end(read_priced(...), book, 2026)``.

    ``columns`` (default: every column the run writes that the file has) are
    parsed straight from Arrow, side by side; ``tariffs`` gives the minor units
    (2 without). Raises InputError for a missing file or column, or a value that
    does not parse.
    """
    from .erp.read import read_priced_columns as read_columns

    book = _book(tariffs)
    minor = book.settings.minor_units if book else 2
    kinds = {SOURCE_ROW: INT, **input_kinds(minor),
             **{name: PERCENT if kind == PCT else kind for name, kind in result_kinds(minor).items()}}
    if columns is None:
        import pyarrow.parquet as pq

        try:
            present = set(pq.ParquetFile(path).schema_arrow.names)
        except Exception:  # pyarrow's own errors: read_columns reports the file below
            present = None
        columns = list(kinds) if present is None else [name for name in kinds if name in present]
        if not columns:
            raise InputError([Problem("priced.column", msg("has none of the columns erp-plugin price writes; "
                                                           "expected the parquet output of erp-plugin price"), file=str(path))])
    unknown = [name for name in columns if name not in kinds]
    if unknown:
        raise InputError([Problem("priced.column", msg("{name} is not a column erp-plugin price writes", name=name), file=str(path))
                          for name in unknown])
    return read_columns(path, kinds, columns)


SUMMARY_MONEY = ("gross", "kit_discount", "promo_discount", "price_discount", "net", "bonus_accrued",
                 "reservation_cost", "vat", "bonus_redeemed", "cash_due")


def summary_table(lines: pd.DataFrame, minor_units: int) -> Table:
    """One row of totals: counts, then each money column summed exactly."""
    row = {
        "lines": len(lines),
        "documents": lines["doc_id"].nunique(),
        "clients": lines["client_id"].nunique(),
        **{name: int(lines[name].sum()) for name in SUMMARY_MONEY},
    }
    kinds = {"lines": INT, "documents": INT, "clients": INT, **{n: money(minor_units) for n in SUMMARY_MONEY}}
    return Table("summary", pd.DataFrame([row]), kinds)


@dataclass(frozen=True)
class YearEnd:
    lines: pd.DataFrame  # priced lines with ``rebate``
    tables: dict[str, Table]  # rebates, credit_notes, summary, the loyalty tables and the charted ones (+ warnings)
    written: list[Path]
    minor_units: int
    problems: Problems = field(default_factory=Problems)  # the warnings of pricing
    posted: "Posted | None" = None  # the lines posted to the ledger, when given one
    rewards_posted: int | None = None  # reward lots added to the ledger, when given one


def rebates(
    export: str | Path,
    tariffs: str | Path | TariffBook,
    year: int,
    out: str | Path | None = None,
    sheet: str | None = None,
    skip_bad_lines: bool = False,
    in_place: bool = False,
    progress=None,
    ledger: str | Path | None = None,
) -> YearEnd:
    """Year-end cumulative rebates of fiscal ``year`` (SPEC §7): the lines are priced, then rebated.

    Writes the ``rebate`` column on the lines and the ``rebates``, ``credit_notes`` and
    ``summary`` tables. A year without lines is an InputError that says which dates the export has.
    With a ``ledger`` (or the Settings one) the lines are priced against it and posted, and the
    numeric stamp-card and quest rewards of the year are posted as lots, once (SPEC §8 Rewards).
    """
    from .period.rebates import FiscalYear, year_end

    step = progress or (lambda *_: None)
    book = _book(tariffs)
    priced = price(export, book, None, sheet, skip_bad_lines, in_place, progress, ledger=ledger)
    _refuse_unwritable(priced.source, out, in_place)  # before the rebates are computed
    _check_year_has_lines(priced.lines, FiscalYear.of(book, year))
    step(N_("rebates"))
    result = year_end(priced.lines, book, year)
    minor = book.settings.minor_units
    tables = year_end_tables(client_tables(result, priced, book), book, year)
    if priced.problems.warnings:
        tables["warnings"] = warnings_table(priced.problems)
    rewarded = None
    if ledger or book.settings.ledger:
        from .ledger.store import open_ledger, post_rewards
        from .period.rewards import reward_lots

        step(N_("posting rewards to the ledger"))
        fy = result.fiscal_year
        rewards = reward_lots(priced.lines, book, fy.start, fy.end, year, tables["quests"].frame)
        rewarded = post_rewards(open_ledger(ledger or book.settings.ledger), rewards, f"{priced.source.path} (rewards {year})",
                                book.settings.bonus_expiry_months)
    written: list[Path] = []
    if out is not None:
        written = write_output(priced.source, result.lines, {"rebate": money(minor)}, named(tables, book), out, in_place,
                               input_kinds(minor), progress=step)
    return YearEnd(result.lines, tables, written, minor, priced.problems, priced.posted, rewarded)


def client_tables(result, priced: Priced, book: TariffBook) -> dict[str, Table]:
    """A year end's tables that hold clients (a bucket of whole clients holds all of each of its clients'
    rows): rebates, credit notes, the pricing's coupons, tiers, stamps, quests."""
    from .period.quests import quests

    return {"rebates": result.rebates, "credit_notes": result.credit_notes, **priced.tables_for_period(),
            "tiers": result.tiers, "stamps": result.stamps, "quests": quests(priced.lines, book)}


def year_end_tables(per_client: dict[str, Table], book: TariffBook, year: int) -> dict[str, Table]:
    """The year end's tables: ``per_client`` (client_tables) with the overviews and the summary worked out
    from them — so a run in client buckets joins its buckets' per-client tables and calls this once. Only
    the rebates and the credit notes are read; the others pass through as given (the Dask engine's coupons
    as the parts it joins on disk)."""
    from .period.accounting import credit_note_documents, credit_note_journal
    from .period.rebates import FiscalYear
    from .tables import DATE

    fy, minor = FiscalYear.of(book, year), book.settings.minor_units
    rebates = per_client["rebates"].frame
    summary = pd.DataFrame([{
        "fiscal_year": year, "from": pd.Timestamp(fy.start), "to": pd.Timestamp(fy.end),
        "clients": len(rebates), "clients_with_rebate": int((rebates["rebate"] != 0).sum()),
        "turnover": int(rebates["turnover"].sum()), "rebate": int(rebates["rebate"].sum()),
        "credit_note_vat": int(per_client["credit_notes"].frame["vat"].sum()),
    }])
    notes = credit_note_documents(per_client["credit_notes"], book, year, fy.end)
    documents = {"credit_notes": notes, "journal": credit_note_journal(notes, book, year)}  # the journal beside them
    return {
        **{name: t for key, table in per_client.items()
           for name, t in (documents.items() if key == "credit_notes" else [(key, table)])},
        "turnover_steps": turnover_steps_table(rebates, book),
        "rebate_by_tier": rebate_by_tier_table(rebates, book),
        "summary": Table("summary", summary, {"fiscal_year": INT, "from": DATE, "to": DATE, "clients": INT,
                                              "clients_with_rebate": INT, "turnover": money(minor), "rebate": money(minor),
                                              "credit_note_vat": money(minor)}),
    }


def _check_year_has_lines(lines: pd.DataFrame, fy, within: str = "") -> None:
    days = lines["date"]
    inside = (days >= pd.Timestamp(fy.start)) & (days <= pd.Timestamp(fy.end))
    if inside.any():
        return
    raise empty_year(fy, days.min() if len(days) else None, days.max() if len(days) else None, within)


def empty_year(fy, first, last, within: str = "") -> InputError:
    """No line dated in fiscal year ``fy`` (``within`` says where else it was looked for); the export's
    lines run from ``first`` to ``last`` (None: it has none)."""
    span = msg("{first:%d.%m.%Y} to {last:%d.%m.%Y}", first=first, last=last) if first is not None else N_("no lines at all")
    return InputError([Problem(
        "rebates.empty_year",
        msg("no lines dated in fiscal year {year} ({start:%d.%m.%Y}–{end:%d.%m.%Y}){within}; the export's lines "
            "run from {span}; check --year (and fiscal_year_start on the Settings sheet)",
            year=fy.year, start=fy.start, end=fy.end, within=" " + within if within else "", span=span),
    )])


@dataclass(frozen=True)
class Tables:
    tables: dict[str, Table]
    written: list[Path]
    minor_units: int


@dataclass(frozen=True)
class Impact(Tables):
    year: int = 0  # the fiscal year whose rebates are compared
    problems: Problems = field(default_factory=Problems)  # both runs' warnings


@dataclass(frozen=True)
class Accrued(Tables):
    problems: Problems = field(default_factory=Problems)  # the pricing's warnings


def impact(
    export: str | Path,
    current: str | Path | TariffBook,
    proposed: str | Path | TariffBook,
    out: str | Path | None = None,
    year: int | None = None,
    sheet: str | None = None,
    skip_bad_lines: bool = False,
    progress=None,
) -> Impact:
    """What the ``proposed`` tariff workbook would have given away on this export, against the ``current``
    one (SPEC §9): the export read once (with the current workbook's Columns), priced and rebated under each
    for fiscal ``year`` (default: the one holding the export's latest line), compared per client, tariff
    and marker (period/impact.py), with a ``summary`` of the total change in concession."""
    from .period.impact import line_figures
    from .period.rebates import FiscalYear, year_end

    step = progress or (lambda *_: None)
    books = impact_books(current, proposed)
    minor = books["current"].settings.minor_units
    step(N_("reading the export"))
    data = _read_checked(export, books["current"], sheet, skip_bad_lines, out, False, step)
    if year is None and len(data.lines):
        from .period.accrual import fiscal_year_of

        year = fiscal_year_of(books["current"], pd.Timestamp(data.lines["date"].max()).date()).year
    figures, problems = {}, Problems()
    for run, book in books.items():
        step(N_("pricing under the current workbook") if run == "current" else N_("pricing under the proposed workbook"))
        priced = price(data, book)
        problems.extend(priced.problems.warnings)
        _check_year_has_lines(priced.lines, FiscalYear.of(book, year))
        figures[run] = line_figures(year_end(priced.lines, book, year).lines)
    tables = impact_result(figures, year, minor)
    written = write_tables(named(tables, books["current"]), out, progress=step) if out is not None else []
    return Impact(tables, written, minor, year, problems)


def impact_result(figures: dict[str, pd.DataFrame], year: int, minor: int) -> dict[str, Table]:
    """impact's tables from each run's line figures (period.impact.line_figures, or the same summed over
    groups of lines in the lines' order): per client, tariff and marker, and a ``summary`` of the total
    change in concession."""
    from .period.impact import impact_tables

    tables = impact_tables(figures["current"], figures["proposed"], minor)
    totals = {run: int(figures[run]["concession"].sum()) for run in ("current", "proposed")}
    tables["summary"] = Table("summary", pd.DataFrame([{
        "fiscal_year": year, "clients": len(tables["impact"].frame), "concession_current": totals["current"],
        "concession_proposed": totals["proposed"], "concession_delta": totals["proposed"] - totals["current"],
    }]), {"fiscal_year": INT, "clients": INT, **{f"concession_{p}": money(minor) for p in ("current", "proposed", "delta")}})
    return tables


def impact_books(current: str | Path | TariffBook, proposed: str | Path | TariffBook) -> dict[str, TariffBook]:
    """The two workbooks impact compares, refused when they keep money in different minor units."""
    books = {"current": _book(current), "proposed": _book(proposed)}
    if books["proposed"].settings.minor_units != books["current"].settings.minor_units:
        raise InputError([Problem("impact.currency", msg("the two tariff workbooks keep money in different "
                                                         "minor units (Settings minor_units); compare "
                                                         "workbooks of one currency"))])
    return books


def accrue(
    export: str | Path,
    tariffs: str | Path | TariffBook,
    as_of: date,
    out: str | Path | None = None,
    sheet: str | None = None,
    skip_bad_lines: bool = False,
    in_place: bool = False,
    progress=None,
) -> Accrued:
    """Rebate accrual as of a day (SPEC §7): turnover to date, projection, step, liability, gap to the next step;
    the pricing's warnings in a ``warnings`` table when there are any."""
    from .period.accrual import accrual, fiscal_year_of

    book = _book(tariffs)
    priced = price(export, book, None, sheet, skip_bad_lines, in_place, progress)
    fy = fiscal_year_of(book, as_of)
    _check_year_has_lines(priced.lines[priced.lines["date"] <= pd.Timestamp(as_of)], fy, f"up to {as_of:%d.%m.%Y}")
    _refuse_unwritable(priced.source, out, in_place)
    tables = {"accruals": accrual(priced.lines, book, as_of)}
    if priced.problems.warnings:  # the pricing's warnings, as rebates lists them
        tables["warnings"] = warnings_table(priced.problems)
    written = []
    if out is not None:
        written = write_output(priced.source, priced.lines, {}, named(tables, book), out, in_place,
                               input_kinds(book.settings.minor_units))
    return Accrued(tables, written, book.settings.minor_units, Problems(priced.problems.warnings))


def fees(tariffs: str | Path | TariffBook, month: str, out: str | Path | None = None) -> Tables:
    """Subscription fee lines of a month ``YYYY-MM`` (SPEC §7), from the tariff workbook alone."""
    import re as _re

    from .period.accounting import fee_journal, fee_vat
    from .period.fees import fees as month_fees

    match = _re.fullmatch(r"(\d{4})-(\d{1,2})", month.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InputError([Problem("fees.month", msg("month {month!r} is not YYYY-MM, e.g. 2026-11", month=month))])
    book = _book(tariffs)
    first = date(int(match.group(1)), int(match.group(2)), 1)
    lines = fee_vat(month_fees(book, first.year, first.month), book, first)
    tables = {"fees": lines, "journal": fee_journal(lines, book, first)}
    written = write_tables(list(tables.values()), out) if out is not None else []
    return Tables(tables, written, book.settings.minor_units)


def _ledger_book(tariffs: str | Path | TariffBook | None) -> TariffBook:
    """The tariff book of a ledger report: the one given, else the defaults (no RedemptionEstimates,
    expected redemption 80 %, minor units 2)."""
    return _book(tariffs) or TariffBook.defaults()


def ledger_balance(ledger: str | Path, as_of: date | None = None, out: str | Path | None = None,
                   tariffs: str | Path | TariffBook | None = None) -> Tables:
    """Balances (available, pending, balance) per client as of a day (default today), SPEC §8; each lot
    expires on the day its posting set (bonus_expiry_months of the tariff workbook it was priced with)."""
    from .ledger.store import balances, open_ledger

    minor_units = _ledger_book(tariffs).settings.minor_units
    frame = balances(open_ledger(ledger, create=False), as_of or date.today())
    kinds = {"client_id": TEXT, **{c: money(minor_units) for c in ("available", "pending", "balance")}}
    tables = {"balances": Table("balances", frame, kinds)}
    written = write_tables(named(tables, _book(tariffs)), out) if out is not None else []
    return Tables(tables, written, minor_units)


def ledger_history(ledger: str | Path, client_id: str, out: str | Path | None = None,
                   tariffs: str | Path | TariffBook | None = None, as_of: date | None = None) -> Tables:
    """One client's ledger entries in booking order, with the expiries of its points."""
    from .ledger.store import history, open_ledger
    from .tables import DATE

    minor_units = _ledger_book(tariffs).settings.minor_units
    frame = history(open_ledger(ledger, create=False), client_id, as_of)
    kinds = {"booked_on": DATE, "kind": TEXT, "amount": money(minor_units), "available_on": DATE, "line": TEXT,
             "source": TEXT}
    tables = {"history": Table("history", frame, kinds)}
    return Tables(tables, write_tables(list(tables.values()), out) if out is not None else [], minor_units)


def ledger_statement(ledger: str | Path, client_id: str, start: date | None = None, end: date | None = None,
                     out: str | Path | None = None, tariffs: str | Path | TariffBook | None = None):
    """A client's statement (SPEC §8): opening balance, every movement with its document, closing
    balance, and the points expiring in the 90 days after ``end`` (default today; ``start`` default:
    the first day of ``end``'s year). Tables ``statement`` (one row of balances), ``movements`` and
    ``expiring``. Returns (ledger.store.Statement, Tables)."""
    from .ledger.store import open_ledger, statement
    from .tables import DATE

    minor = _ledger_book(tariffs).settings.minor_units
    end = end or date.today()
    start = start or date(end.year, 1, 1)
    if start > end:
        raise InputError([Problem("ledger.period", msg("--from {start:%d.%m.%Y} is after --as-of {end:%d.%m.%Y}", start=start, end=end))])
    result = statement(open_ledger(ledger, create=False), client_id, start, end)
    m = money(minor)
    head = pd.DataFrame([{"client_id": client_id, "from": pd.Timestamp(start), "to": pd.Timestamp(end),
                          "opening": result.opening, "closing": result.closing}])
    tables = {
        "statement": Table("statement", head, {"client_id": TEXT, "from": DATE, "to": DATE, "opening": m, "closing": m}),
        "movements": Table("movements", result.movements,
                           {"booked_on": DATE, "kind": TEXT, "document": TEXT, "amount": m, "balance": m}),
        "expiring": Table("expiring", result.expiring, {"expires_on": DATE, "amount": m}),
    }
    return result, Tables(tables, write_tables(named(tables, _book(tariffs)), out) if out is not None else [], minor)


def ledger_liability(ledger: str | Path, as_of: date | None = None, out: str | Path | None = None, by: str = "month",
                     tariffs: str | Path | TariffBook | None = None) -> Tables:
    """The IFRS 15 contract liability per month or year (SPEC §8), each period with the expected redemption
    in force on its last day (the workbook's RedemptionEstimates, else its Setting; 80 % without one)."""
    from .ledger.store import liability, open_ledger

    book = _ledger_book(tariffs)
    frame = liability(open_ledger(ledger, create=False), as_of or date.today(), book, by)
    kinds = {"period": TEXT, **{c: money(book.settings.minor_units) for c in ("opening", "deferred", "recognised", "closing")}}
    tables = {"liability": Table("liability", frame, kinds)}
    return Tables(tables, write_tables(list(tables.values()), out) if out is not None else [], book.settings.minor_units)
