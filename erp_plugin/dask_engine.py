"""The Dask engine (SPEC §9 ``--engine dask``): the same pricing, one client bucket at a time on a Dask cluster.

Every rule of SPEC §5 is per client or per document, so an export split into
buckets of whole clients prices bucket by bucket with the ordinary job
(``jobs.price``), and the figures are the in-process engine's. The split is
pyarrow's dataset partitioning (``bucket`` = a stable hash of the client id,
trimmed as the reader trims it, modulo the number of buckets), streamed batch
by batch, each line keeping its export row in ``source_row``; the buckets are
priced on a ``distributed`` cluster — a ``LocalCluster`` the command starts
and closes (``workers`` processes), or an existing one (``scheduler``). Each
bucket writes its lines as one part of a parquet dataset (a folder readable
as one table by pandas, DuckDB and Spark) and hands back its small tables,
which are combined exactly: sums per marker and in the summary, warnings in
export-row order. Tables as long as the lines are many (coupons) are written
by each bucket beside its part and joined on disk in bucket order, so the
command's memory does not grow with the export.

``rebates`` runs the same way: each bucket priced and rebated (the year end is per
client), its per-client tables joined in the export's client order, and the
overviews and the summary worked out from them once.

``accrue`` likewise, its accruals joined in the in-process engine's order.

``--out`` is a folder of parts, one a bucket (``.parquet`` or ``.csv``), the
tables beside it; or, for an export of at most a sheet's rows, a workbook
(``.xlsx``) gathered from the parts in export-row order.

``impact`` and ``report rfm|churn`` send back per-client figures from each bucket and work out
their tables once. A csv export is split as text (erp/csv_text.py) and each bucket parsed by the
same parsers; an xlsx export (at most a sheet's rows) is the in-process engine's.

With a ledger, the command posts the buckets (and a year end's reward lots) in one transaction (``_Posting``).
"""

from __future__ import annotations

import contextlib
import functools
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import jobs
from .erp.read import CSV_SUFFIXES, PARQUET_SUFFIXES
from .i18n import N_, msg
from .lines import SOURCE_ROW, input_kinds, result_kinds
from .period.client_names import named, with_names
from .problems import InputError, Problem, Problems, combined
from .tables import Table
from .tariffs import TariffBook

if TYPE_CHECKING:  # names for the annotations; the ledger (SQLAlchemy) is loaded only when a run posts
    from .ledger.lots import Opening
    from .ledger.store import Posted

BUCKETS_PER_WORKER = 4  # more buckets than workers: a slow bucket does not leave a worker idle
BUCKET_LINES = 500_000  # at most about this many lines a bucket: a worker's memory does not grow with the export
BUCKET = "erp_plugin_bucket"  # the split's partition column: a name no export has
PARTS = (".parquet", ".csv")  # --out suffixes written as a folder of parts, one a bucket
XLSX = (".xlsx", ".xlsm")
SHEET_LINES = 1_048_575  # an Excel sheet's rows under its header row
SPLIT_GROUP_ROWS = 65_536  # rows a bucket's part gathers before a row group is written, at most
CSV_SAMPLE_BYTES = 1 << 20  # a csv's first bytes, whose lines' length estimates its number of lines
SPLIT_BUFFER_ROWS = 2_000_000  # rows all buckets' parts gather together, at most: the split's memory, whatever the size
SPLIT_CHUNK_ROWS = 5_000_000  # lines the split hands the dataset writer in one call (see _split)
SPLIT_BATCH_ROWS = 262_144  # lines the split reads, hashes and hands on at a time
GROWING = ("coupons",)  # tables as long as the lines are many: each bucket writes its part, joined on disk


@dataclass(frozen=True)
class PartsTable:
    """A table that grows with the export (GROWING), held as its buckets' part files (in the parts' format,
    clients named) rather than in the command's memory: joined on disk into its file when the run is
    written, or read back for a workbook (whose export has at most a sheet's lines)."""

    name: str
    parts: tuple[Path, ...]
    rows: int
    kinds: dict

    @staticmethod
    def joined(tables: "list[PartsTable]") -> "PartsTable":
        """The buckets' parts of one table, in bucket order, as one."""
        return PartsTable(tables[0].name, tuple(p for t in tables for p in t.parts), sum(t.rows for t in tables),
                          tables[0].kinds)


@dataclass(frozen=True)
class DaskRun:
    """What a Dask run gives back: the combined tables (a GROWING one only for a workbook, which read it
    back; otherwise it is only in its file), the warnings, the files written."""

    tables: dict[str, Table]
    problems: Problems
    written: list[Path]
    minor_units: int
    buckets: int
    lines: int = 0
    parts: list[Path] = field(default_factory=list)
    posted: "Posted | None" = None  # what the run posted to the ledger, when it was given one
    rewards_posted: int | None = None  # reward lots added to the ledger (rebates), when given one


def price(export: str | Path, tariffs: str | Path | TariffBook, out: str | Path, workers: int = 2,
          scheduler: str | None = None, buckets: int | None = None, skip_bad_lines: bool = False,
          progress=None, ledger: str | Path | None = None) -> DaskRun:
    """Price a parquet or csv export on a Dask cluster into ``out`` (a folder of parquet or csv parts, or a
    workbook), with the tables beside it as ``<stem>.<table>.<suffix>``. With a ``ledger`` (or the
    Settings one) the buckets are priced against it and posted to it in one transaction (``_Posting``).
    Raises InputError with every problem of every bucket; nothing is written or posted then."""
    book = jobs.load_tariffs(tariffs)
    return _run_buckets(export, book, out, _priced, combine, workers, scheduler,
                        buckets, skip_bad_lines, progress, ledger or book.settings.ledger)


def rebates(export: str | Path, tariffs: str | Path | TariffBook, year: int, out: str | Path, workers: int = 2,
            scheduler: str | None = None, buckets: int | None = None, skip_bad_lines: bool = False,
            progress=None, ledger: str | Path | None = None) -> DaskRun:
    """Year-end rebates of fiscal ``year`` (jobs.rebates) on a Dask cluster: each bucket priced and rebated,
    its lines (with ``rebate``) a part of the dataset ``out``; the per-client tables joined in the
    export's client order and the overviews and summary worked out from them (jobs.year_end_tables).
    With a ``ledger`` (or the Settings one) the lines are posted as ``price`` posts them, and the year's
    stamp-card and quest reward lots after them, in the same transaction."""
    book = jobs.load_tariffs(tariffs)
    return _run_buckets(export, book, out, functools.partial(_rebated, year=year),
                        functools.partial(combine_year_end, year=year), workers, scheduler, buckets, skip_bad_lines,
                        progress, ledger or book.settings.ledger, f"(rewards {year})")


def accrue(export: str | Path, tariffs: str | Path | TariffBook, as_of, out: str | Path, workers: int = 2,
           scheduler: str | None = None, buckets: int | None = None, skip_bad_lines: bool = False,
           progress=None) -> DaskRun:
    """Rebate accruals as of ``as_of`` (jobs.accrue) on a Dask cluster: each bucket priced and accrued (per
    client), the accruals joined in the in-process engine's order; with a ledger in the Settings the lines
    are priced against it and posted, as in process."""
    book = jobs.load_tariffs(tariffs)
    return _run_buckets(export, book, out, functools.partial(_accrued, as_of=as_of),
                        functools.partial(combine_accruals, as_of=as_of), workers, scheduler, buckets, skip_bad_lines,
                        progress, book.settings.ledger)


def impact(export: str | Path, current: str | Path | TariffBook, proposed: str | Path | TariffBook, out: str | Path,
           year: int | None = None, workers: int = 2, scheduler: str | None = None, buckets: int | None = None,
           skip_bad_lines: bool = False, progress=None) -> jobs.Impact:
    """jobs.impact on a Dask cluster: each bucket read once, priced and rebated under both workbooks, its
    line figures summed per client, tariff and marker (with their first export row); the groups joined
    in export-row order give the in-process engine's tables. ``out`` is a table file, as jobs.impact writes."""
    from .output.write import tables_out_problem, write_tables
    from .period.accrual import fiscal_year_of
    from .period.rebates import FiscalYear

    step = progress or (lambda *_: None)
    export, out = Path(export), Path(out)
    _refuse(export, None)
    problem = tables_out_problem(out)
    if problem:
        raise InputError([problem])
    books = jobs.impact_books(current, proposed)
    year = year or fiscal_year_of(books["current"], _latest_day(export, books["current"])).year
    with _bucketed(export, out, books["current"], workers, buckets, step) as (_, folders):
        step(msg("pricing {buckets} buckets under both workbooks", buckets=len(folders)))
        results, warnings = _submit(folders, books, workers, scheduler, compared_bucket, year, skip_bad_lines)
        problems = _gathered_problems(results, warnings)
        _refuse_empty_year(results, FiscalYear.of(books["current"], year))
        figures = {run: pd.concat([r["groups"][run] for r in results], ignore_index=True)
                   .sort_values("first_row", kind="stable", ignore_index=True) for run in books}
        minor = books["current"].settings.minor_units
        tables = jobs.impact_result(figures, year, minor)
        return jobs.Impact(tables, write_tables(named(tables, books["current"]), out, progress=step), minor, year,
                           problems)


def compared_bucket(folder: Path, books: dict[str, TariffBook], year: int, skip_bad_lines: bool) -> dict:
    """One bucket read once, priced and rebated under each workbook; per run its line figures summed per
    client, tariff and marker in order of first export row, and its dates (for a year it has no lines in)."""
    from .period.impact import FIGURES, line_figures
    from .period.rebates import FiscalYear, year_end

    try:
        data = jobs.read(_bucket_file(folder), books["current"], skip_bad_lines=skip_bad_lines).export
        groups, warnings = {}, []
        for run, book in books.items():
            priced = jobs.price(data, book)
            warnings += priced.problems.warnings
            figures = line_figures(year_end(priced.lines, book, year).lines)
            figures["first_row"] = priced.lines[SOURCE_ROW].to_numpy()
            groups[run] = figures.groupby(["client_id", "tariff", "marker"], sort=False).agg(
                first_row=("first_row", "min"), **{name: (name, "sum") for name in FIGURES}).reset_index()
    except InputError as exc:
        return {"errors": exc.problems, "warnings": []}
    fy, days = FiscalYear.of(books["current"], year), priced.lines["date"]
    return {"warnings": warnings, "groups": groups,
            "dates": (days.min(), days.max()),
            "in_year": bool(((days >= pd.Timestamp(fy.start)) & (days <= pd.Timestamp(fy.end))).any())}


def report(kind: str, export: str | Path, tariffs: str | Path | TariffBook, out: str | Path, as_of=None,
           months: int = 12, workers: int = 2, scheduler: str | None = None, buckets: int | None = None,
           skip_bad_lines: bool = False, progress=None, save_segments: str | Path | None = None):
    """``report rfm`` or ``report churn`` (reports.py) on a Dask cluster: each bucket priced, its clients'
    figures (recency, frequency, monetary; or purchase histories) worked out there; the scores, segments
    and the BG/NBD fit over every client at once here. As of ``as_of``, else the export's latest date.
    ``save_segments`` (rfm): a tariff workbook whose Clients get each client's segment, as in process."""
    from . import reports
    from .analytics.churn import churn_tables
    from .analytics.rfm import rfm_tables
    from .analytics.sales import joined

    export = Path(export)
    _refuse(export, None)
    step, book = reports.start_report(tariffs, out, progress)
    if save_segments is not None:
        reports.check_segments_workbook(save_segments)
    try:
        first, last = _date_span(export, book)
    except InputError:
        if as_of is None:
            raise
        first = last = as_of  # text dates: --as-of as given (a day before every line finds no sale: said so)
    if as_of is not None and as_of < first:
        raise InputError([Problem("report.as_of", msg("--as-of {as_of:%d.%m.%Y} is before every line: the "
                                                      "export's lines run from {first:%d.%m.%Y} to "
                                                      "{last:%d.%m.%Y}; give a day from {first:%d.%m.%Y} on, "
                                                      "or leave --as-of out for the last one",
                                                      as_of=as_of, first=first, last=last))])
    day = as_of or last
    with _bucketed(export, Path(out), book, workers, buckets, step) as (_, folders):
        step(msg("pricing {buckets} buckets", buckets=len(folders)))
        results, warnings = _submit(folders, book, workers, scheduler, report_bucket, kind, day, months, skip_bad_lines)
    problems = _gathered_problems(results, warnings)
    priced = [w for w in problems.warnings if w.code not in reports.PRICING_ONLY]
    step(N_("scoring") if kind == "rfm" else N_("fitting the churn model"))
    figures = joined([r["figures"] for r in results])
    if kind == "rfm":
        result = rfm_tables(figures, reports.names_of(book), day, months, book.settings.minor_units)
        tables = [result.rfm, result.segments]
    else:
        result = churn_tables(figures, reports.names_of(book), day, book.settings.minor_units)
        tables = [result.churn, result.model, result.bands, result.at_risk]
    own = sorted(result.warnings, key=lambda w: (w.row is None, w.row or 0))  # the buckets' in export-row order
    report = reports.finish_report(tables, [*own, *priced], out, day, book, step)
    return reports.saved_segments(report, result.rfm.frame, save_segments, step) if kind == "rfm" else report


def birthdays(export: str | Path, tariffs: str | Path | TariffBook, out: str | Path, as_of=None, days: int = 14,
              ledger: str | None = None, progress=None):
    """``report birthdays`` for an export too big to read whole: it needs only the Clients sheet and the
    report's day, the export's latest date (from its date column) unless ``as_of`` is given."""
    from . import reports

    export = Path(export)
    _refuse(export, None)
    if not 0 <= days <= 365:
        raise InputError([Problem("birthdays.days", msg("--days {days} must be from 0 to 365, e.g. 14", days=days))])
    step, book = reports.start_report(tariffs, out, progress)
    return reports.birthdays_on(as_of or _latest_day(export, book), book, out, days, ledger, step)


def report_bucket(folder: Path, book: TariffBook, kind: str, day, months: int, skip_bad_lines: bool) -> dict:
    """One bucket priced, and its clients' RFM figures or purchase histories as of ``day``."""
    from .analytics.churn import client_histories
    from .analytics.rfm import rfm_figures

    try:
        priced = jobs.price(_bucket_file(folder), book, skip_bad_lines=skip_bad_lines)
    except InputError as exc:
        return {"errors": exc.problems, "warnings": []}
    figures = rfm_figures(priced.lines, day, months) if kind == "rfm" else client_histories(priced.lines, day)
    return {"warnings": list(priced.problems.warnings), "figures": figures}


def _latest_day(export: Path, book: TariffBook):
    """The export's latest date (a date or timestamp column; text dates need --year)."""
    return _date_span(export, book)[1]


def _date_span(export: Path, book: TariffBook):
    """The export's first and latest date, from its date column (a date or timestamp column: text dates,
    and so a csv's, would need the reader's parsing, so a job that needs them before pricing says what to
    give)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from .erp.header import match_fields

    kind = column = None
    if export.suffix.casefold() not in CSV_SUFFIXES:
        try:
            source = ds.dataset(export, format="parquet")
        except Exception as exc:  # pyarrow's own error types
            raise InputError([Problem("file.corrupt", msg("cannot be read as parquet; write it again from its source, or export csv or xlsx "
                                                      "(detail: {detail})", detail=str(exc)), file=str(export))]) from None
        fields = match_fields(source.schema.names, {c.field: c.header for c in book.columns})
        column = source.schema.names[fields["date"]] if "date" in fields else None
        kind = source.schema.field(column).type if column else None
    if kind is None or not (pa.types.is_date(kind) or pa.types.is_timestamp(kind)):
        raise InputError([Problem("engine.dates", msg("the export's dates are text, not a date column, so the "
                                                      "Dask engine cannot tell its latest date before pricing: "
                                                      "give --year (impact) or --as-of (reports)"), file=str(export))])
    span = pc.min_max(source.to_table(columns=[column])[column]).as_py()
    if span["max"] is None:
        raise InputError([Problem("price.no_lines", msg("the export has no dated lines"), file=str(export))])
    return tuple(day.date() if isinstance(day, datetime) else day for day in (span["min"], span["max"]))


def _run_buckets(export: str | Path, book: TariffBook, out: str | Path, finish, join, workers: int,
                 scheduler: str | None, buckets: int | None, skip_bad_lines: bool, progress,
                 ledger: str | Path | None = None, rewards: str = "") -> DaskRun:
    """Split the export into client buckets, run ``finish`` (what follows pricing) on each on the cluster,
    ``join`` their results into the run's tables, and publish the parts and tables as ``out`` — with a
    ``ledger``, inside the transaction that posts the buckets (and the reward lots the buckets give,
    their run's source named with ``rewards`` after the export's)."""
    step = progress or (lambda *_: None)
    export, out = Path(export), Path(out)
    _refuse(export, out)
    with _bucketed(export, out, book, workers, buckets, step) as (work, folders), \
            _posting(ledger, book, str(export), skip_bad_lines) as posting:
        step(msg("pricing {buckets} buckets and posting them to the ledger", buckets=len(folders)) if posting
             else msg("pricing {buckets} buckets", buckets=len(folders)))
        workbook = out.suffix.casefold() in XLSX  # the parts as parquet, gathered into one sheet at the end
        (work / "parts").mkdir(parents=True)
        results, warnings = _submit(folders, book, workers, scheduler, run_bucket, work,
                                    ".parquet" if workbook else out.suffix.casefold(), skip_bad_lines, finish,
                                    posting=posting)
        problems = _gathered_problems(results, warnings)
        tables = join(results, book)
        if problems.warnings:
            tables["warnings"] = jobs.warnings_table(problems)
        rewarded = posting.post_rewards(results, rewards) if posting and rewards else None
        if workbook:
            tables = {name: _read_back(t, work) if isinstance(t, PartsTable) else t for name, t in tables.items()}
            written, part_files = _publish_workbook(work / "parts", export, out, tables, results[0]["results"], book,
                                                    step), []
        else:
            written = _publish(work / "parts", out, tables, book, step)
            part_files = sorted(out.glob(f"part-*{out.suffix}"))
        return DaskRun({name: t for name, t in tables.items() if isinstance(t, Table)}, problems, written,
                       book.settings.minor_units, len(folders), sum(r["lines"] for r in results), part_files,
                       posting.posted if posting else None, rewarded)


@contextlib.contextmanager
def _posting(ledger: str | Path | None, book: TariffBook, source: str, skip_bad_lines: bool):
    """The ledger's transaction for a run posted from its buckets (None without a ledger): committed when
    the block ends without an error (the output published inside it), else nothing is posted; a ledger
    file the run created is removed then, as the in-process engine does."""
    if not ledger:
        yield None
        return
    from .ledger.store import open_ledger, transaction

    new_file = "://" not in str(ledger) and not Path(ledger).exists()
    engine = open_ledger(ledger)
    try:
        with transaction(engine) as connection:
            yield _Posting(connection, book, source, skip_bad_lines)
    except BaseException:
        if new_file:
            engine.dispose()
            Path(ledger).unlink(missing_ok=True)
        raise


class _Posting:
    """The buckets of one run posted to the ledger inside its transaction, here in the command: before a
    bucket is sent, what the ledger holds for its clients (its opening) is read; when its priced lines come
    back, they are posted. A bucket is posted before the next one's lines are checked against the ledger,
    so a line identity two buckets share (one document line under two clients) is the conflict it is in
    process. The buckets' clients are disjoint, so a bucket's opening does not depend on the others'
    posting, and the figures and entries are those of one run over every line."""

    def __init__(self, connection, book: TariffBook, source: str, skip_bad_lines: bool):
        self.connection, self.book, self.source, self.skip_bad_lines = connection, book, source, skip_bad_lines
        self.posted: "Posted | None" = None

    def opening(self, folder: Path) -> "tuple[Opening | None, list[Problem]]":
        """The bucket's opening, or its read errors."""
        from .ledger.store import Session

        try:
            lines = jobs.read(_bucket_file(folder), self.book, skip_bad_lines=self.skip_bad_lines).export.lines
            return Session(self.connection, lines, self.book).opening(), []
        except InputError as exc:
            return None, list(exc.problems)

    def post(self, result: dict, opening: "Opening") -> None:
        """A priced bucket's lines, and what pricing gave the ledger to keep, posted (as one run)."""
        from .ledger.store import Session

        lines = result.pop("priced")
        session = Session(self.connection, lines, self.book)
        posted = session.post(lines, self.source, opening, result.pop("kept"), self.posted.run_id if self.posted else None)
        self.posted = posted if self.posted is None else self.posted + posted

    def post_rewards(self, results: list[dict], label: str) -> int:
        """The buckets' reward lots (a year end's stamp cards and quests), posted once after the lines, in
        one order whatever the buckets' (stamps before quests, then by client and key); how many were new."""
        from .ledger.store import post_reward_lots

        rewards = pd.concat([r["rewards"] for r in results], ignore_index=True)
        rewards = rewards.assign(_quest=rewards["reward"].str.startswith("quest/")).sort_values(
            ["_quest", "client_id", "reward"], kind="stable", ignore_index=True).drop(columns="_quest")
        return post_reward_lots(self.connection, rewards, f"{self.source} {label}", self.book.settings.bonus_expiry_months)


@contextlib.contextmanager
def _bucketed(export: Path, out: Path, book: TariffBook, workers: int, buckets: int | None, step):
    """The export split into client buckets (``buckets``, else 4 per worker and more for a big export) in
    a work folder beside ``out``: ``(work folder, bucket folders)``; the work folder is removed afterwards,
    whatever happens. The export's fields are found as the reader finds them (the Columns sheet first)."""
    count = buckets or max(workers * BUCKETS_PER_WORKER, -(-_rows(export) // BUCKET_LINES))
    work = out.with_name(f".{out.name}.work")
    shutil.rmtree(work, ignore_errors=True)
    try:
        step(N_("splitting the export into client buckets"))
        folders = _split_apart(export, work / "buckets", count, {c.field: c.header for c in book.columns})
        if out.suffix.casefold() in XLSX and export.suffix.casefold() in CSV_SUFFIXES:
            problems = _too_many_for_a_sheet(_split_lines(folders), out)
            if problems:
                raise InputError(problems)
        yield work, folders
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _split_lines(folders: list[Path]) -> int:
    """The lines the split wrote, from its parts' footers."""
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(file).num_rows for folder in folders for file in folder.glob("*.parquet"))


def _gathered_problems(results: list[dict], warnings: "_Warnings") -> Problems:
    """The buckets' problems as one run's: every error (raised, in export-row order), else the warnings
    ``_submit`` folded."""
    errors = [problem for result in results for problem in result.get("errors", [])]
    if errors:
        raise InputError(sorted(errors, key=lambda p: (p.row is None, p.row or 0)))
    problems = Problems()
    problems.extend(warnings.listed)
    return problems


class _Warnings:
    """The buckets' warnings as one run lists them (``problems.combined``: grouped warnings joined, the
    first MAX_LINE_PROBLEMS of a code in export-row order — each bucket listed its own first ones, so
    these are the run's first — and the rest counted), folded in as the buckets come back, in bucket
    order (a bucket waits for those before it): the command holds the run's first ones of each code,
    not every bucket's (at 100M lines those were about 0.5 GB)."""

    def __init__(self):
        self.listed: list[Problem] = []
        self.waiting: dict[int, list[Problem]] = {}
        self.next = 0

    def take(self, n: int, result: dict) -> dict:
        """Bucket ``n``'s result, its warnings taken out and folded in as soon as the buckets before it are."""
        from .pipeline import MAX_LINE_PROBLEMS

        self.waiting[n] = result.pop("warnings")
        while self.next in self.waiting:
            self.listed = combined([*self.listed, *self.waiting.pop(self.next)], MAX_LINE_PROBLEMS)
            self.next += 1
        return result


def _refuse(export: Path, out: Path | None) -> None:
    """What the Dask engine cannot do with these files (``out``: a folder of parts or a workbook; None:
    checked by the job), before any work."""
    problems = []
    if export.suffix.casefold() not in (*PARQUET_SUFFIXES, *CSV_SUFFIXES):
        problems.append(Problem("engine.format", msg("the Dask engine reads parquet and csv exports; a "
                                                     "workbook holds at most 1 048 575 lines, which --engine "
                                                     "local prices"), file=str(export)))
    if out is None:
        if problems:
            raise InputError(problems)
        return
    suffix = out.suffix.casefold()
    if suffix in XLSX:
        problems += _too_many_for_a_sheet(_rows(export), out)  # a csv's lines are counted when it is split
    elif suffix not in PARTS:
        problems.append(Problem("engine.out", msg("with the Dask engine --out is a folder of parts (.parquet "
                                                  "or .csv), or a workbook (.xlsx) of at most 1 048 575 lines"), file=str(out)))
    elif out.exists() and not out.is_dir():
        problems.append(Problem("engine.out", msg("is a file; the Dask engine writes a folder of parts there: "
                                                  "give another name or remove it"), file=str(out)))
    if not out.parent.exists():
        problems.append(Problem("out.folder", msg("the folder {parent} does not exist", parent=out.parent), file=str(out)))
    if problems:
        raise InputError(problems)


def _too_many_for_a_sheet(lines: int, out: Path) -> list[Problem]:
    if lines <= SHEET_LINES:
        return []
    return [Problem("engine.out", msg("the export has {lines} lines and a sheet holds {most} under its header: give "
                                      "--out as .parquet or .csv (a folder of parts)", lines=f"{lines:,}".replace(",", " "),
                                      most=f"{SHEET_LINES:,}".replace(",", " ")), file=str(out))]


def _rows(export: Path) -> int:
    """The export's lines: a parquet one's from its footer (0 when it cannot be read: the split says why);
    a csv's estimated from its size and its first lines' length (for the number of buckets only)."""
    import pyarrow.parquet as pq

    if export.suffix.casefold() in CSV_SUFFIXES:
        with contextlib.suppress(OSError), export.open("rb") as handle:
            head = handle.read(CSV_SAMPLE_BYTES)
            return export.stat().st_size * max(head.count(b"\n"), 1) // max(len(head), 1)
        return 0
    try:
        return pq.read_metadata(export).num_rows
    except Exception:  # noqa: BLE001 - pyarrow's own error types; _split reports the file
        return 0


def bucket_of(client_ids, count: int) -> np.ndarray:
    """Each client id's bucket: a stable hash (pandas' SipHash with its fixed key, the same in every process)
    of the id as the reader reads it (trimmed; a whole number as its digits), modulo ``count``."""
    text = _read_ids(client_ids)
    hashes = pd.util.hash_array(np.asarray(text.to_numpy(zero_copy_only=False), dtype=object), categorize=True)
    return (hashes % np.uint64(count)).astype(np.int32)


def _read_ids(client_ids):
    """Client ids as the reader reads them: text, trimmed, a missing one empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = client_ids if isinstance(client_ids, (pa.Array, pa.ChunkedArray)) else pa.array(client_ids)
    if pa.types.is_dictionary(ids.type):
        ids = ids.cast(ids.type.value_type)
    return pc.utf8_trim_whitespace(ids.cast(pa.string())).fill_null("")


class _Buckets:
    """``bucket_of`` for batch after batch of one export, each client id hashed once: the ids seen are kept
    (an Arrow array, with their buckets), and a batch's lines find theirs by Arrow's ``index_in``. Hashing
    every line (as Python strings) took 7 of the 11.5 seconds a 10M-line split took."""

    def __init__(self, count: int):
        import pyarrow as pa

        self.count, self.ids, self.buckets = count, pa.array([], pa.string()), np.empty(0, np.int32)

    def __call__(self, client_ids) -> np.ndarray:
        import pyarrow as pa
        import pyarrow.compute as pc

        text = _read_ids(client_ids)
        at = pc.index_in(text, value_set=self.ids)
        if at.null_count:
            new = pc.unique(text.filter(at.is_null()))
            self.ids = pa.concat_arrays([self.ids, new.combine_chunks() if isinstance(new, pa.ChunkedArray) else new])
            self.buckets = np.concatenate([self.buckets, bucket_of(new, self.count)])
            at = pc.index_in(text, value_set=self.ids)
        return self.buckets[at.to_numpy(zero_copy_only=False)]


def _split_apart(export: Path, folder: Path, count: int, columns: dict[str, str]) -> list[Path]:
    """``_split`` in a process of its own, which ends with it: the memory its reading and writing took (about
    1.2 GB at 100M lines, which the allocator keeps once it has it) leaves with that process instead of
    staying in the command for the rest of the run. Its problems come back as data (an InputError does not
    survive pickling)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as split:
        folders, problems = split.submit(_split_or_problems, export, folder, count, columns).result()
    if problems:
        raise InputError(problems)
    return folders


def _split_or_problems(export: Path, folder: Path, count: int, columns: dict[str, str]) -> tuple[list[Path], list]:
    """The split in its own process, with Arrow's own allocator: the command line has Arrow allocate through
    glibc (memory.py, by an environment variable this process inherits), with which the split's buffers of
    every size grew to 2.2 GB at 30M lines where mimalloc keeps them at 1.1 GB."""
    import pyarrow as pa

    if "mimalloc" in pa.supported_memory_backends():  # a pyarrow built without it keeps its default pool
        pa.set_memory_pool(pa.mimalloc_memory_pool())
    try:
        return _split(export, folder, count, columns), []
    except InputError as exc:
        return [], exc.problems


def _split(export: Path, folder: Path, count: int, columns: dict[str, str]) -> list[Path]:
    """The export as ``count`` buckets of whole clients (pyarrow dataset partitioning, a batch at a time), each
    line with its export row; the bucket folders that got lines.

    The export goes to the dataset writer ``SPLIT_CHUNK_ROWS`` lines at a time, one ``write_dataset`` each:
    the writer queues whatever its source gives faster than it writes (pyarrow's Python API does not take
    its ``max_rows_queued``): with 200 buckets at 100M lines in one call, the split's process grew to 6 GB
    (measured with the reader already fixed, on the command's glibc pool).
    Each call writes a file per bucket, named in export order; ``_bucket_file`` joins them."""
    import itertools

    import pyarrow as pa
    import pyarrow.dataset as ds

    schema, client, batches = _source_batches(export, columns)
    buckets, batches = _Buckets(count), iter(batches)

    def chunk(first):
        rows = 0
        for batch in itertools.chain([first], batches):
            yield batch.append_column(BUCKET, pa.array(buckets(batch.column(client))))
            rows += batch.num_rows
            if rows >= SPLIT_CHUNK_ROWS:
                return

    group = max(4096, min(SPLIT_GROUP_ROWS, SPLIT_BUFFER_ROWS // count))  # more buckets, smaller row groups
    for number, first in enumerate(iter(lambda: next(batches, None), None)):
        ds.write_dataset(chunk(first), folder, schema=schema.append(pa.field(BUCKET, pa.int32())), format="parquet",
                         basename_template=f"part-{number:05d}-{{i}}.parquet",
                         partitioning=ds.partitioning(pa.schema([(BUCKET, pa.int32())]), flavor="hive"),
                         max_open_files=count + 1, existing_data_behavior="overwrite_or_ignore",
                         max_rows_per_group=group, min_rows_per_group=group // 2, use_threads=False, preserve_order=True,
                         file_options=_split_file_options())
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


def _split_file_options():
    """How the split's (temporary) files are written: no dictionaries and lz4, which write 10M lines in
    7 s where the defaults take 10 s."""
    import pyarrow.dataset as ds

    return ds.ParquetFileFormat().make_write_options(use_dictionary=False, compression="lz4")


def _source_batches(export: Path, columns: dict[str, str]) -> tuple:
    """The export's lines as Arrow batches, each with its export row in ``source_row``: ``(schema, the
    client id column's name, batches)``. A parquet export as it is, read a batch at a time; a csv one as
    text (erp/csv_text.py), its rows that are not lines left out."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    from .erp.fields import FIELD_ALIASES
    from .erp.header import ExportError, match_fields

    if export.suffix.casefold() in CSV_SUFFIXES:
        from .erp.csv_text import csv_text_batches

        try:
            source, schema, batches = csv_text_batches(export, columns)
        except ExportError as exc:
            raise InputError([exc.problem]) from None
        return schema, schema.names[source.fields["client_id"]], batches
    try:
        source = ds.dataset(export, format="parquet")
        headers = source.schema.names
    except Exception as exc:  # pyarrow's own error types
        raise InputError([Problem("file.corrupt", msg("cannot be read as parquet; write it again from its source, or export csv or xlsx "
                                                      "(detail: {detail})", detail=str(exc)), file=str(export))]) from None
    fields = match_fields(headers, columns)
    if "client_id" not in fields:
        aliases = ", ".join(FIELD_ALIASES["client_id"][:3])
        raise InputError([Problem("export.no_header", msg("has no client_id column (e.g. {aliases}) to split by", aliases=aliases),
                                  file=str(export))])
    if SOURCE_ROW in headers:  # the product's own output, or a part of a bigger export: its rows kept
        return source.schema, headers[fields["client_id"]], _file_batches(source)

    def numbered():
        first = 2
        for batch in _file_batches(source):
            yield batch.append_column(SOURCE_ROW, pa.array(np.arange(first, first + batch.num_rows, dtype=np.int64)))
            first += batch.num_rows

    return source.schema.append(pa.field(SOURCE_ROW, pa.int64())), headers[fields["client_id"]], numbered()


def _file_batches(source):
    """A parquet dataset's batches, file after file, a batch at a time, in the dataset's schema. Not the
    dataset's own ``to_batches``: it reads ahead of a slow consumer without bound (apache/arrow#39808; at
    100M lines the split's process grew to 4.8 GB), where a file's ``iter_batches`` without pre-buffering
    holds one batch."""
    import pyarrow.parquet as pq

    for file in source.files:
        for batch in pq.ParquetFile(file, pre_buffer=False).iter_batches(batch_size=SPLIT_BATCH_ROWS, use_threads=False):
            yield batch if batch.schema == source.schema else batch.cast(source.schema)


def _submit(folders: list[Path], shared, workers: int, scheduler: str | None, job, *args,
            posting=None) -> "tuple[list[dict], _Warnings]":
    """``job(folder, shared, *args)`` for each bucket folder on the cluster — a LocalCluster of ``workers``
    processes started and closed here, or the one at ``scheduler`` — with ``shared`` (the tariff book or
    books) sent to every worker once; the results in bucket order, their warnings folded (``_Warnings``).
    With a ``posting``, each bucket is sent with its opening and posted when it comes back, in bucket
    order, a few buckets ahead of the posting (the cluster's workers, and one more, at a time): the
    command holds only those buckets' lines."""
    from collections import deque

    from distributed import Client, LocalCluster, as_completed

    cluster = None if scheduler else LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                 dashboard_address=":0")
    warnings = _Warnings()
    try:
        with Client(scheduler or cluster) as client:
            sent = client.scatter(shared, broadcast=True, hash=False)  # no key from the data: tokenizing a book of 100 000 clients takes 20 s
            if posting is None:  # each result taken (and let go on its worker) as it comes, kept in bucket order
                sent_buckets = {client.submit(job, folder, sent, *args, pure=False): n for n, folder in enumerate(folders)}
                results = [None] * len(folders)
                for future in as_completed(list(sent_buckets)):
                    n = sent_buckets.pop(future)
                    results[n] = warnings.take(n, future.result())
                return results, warnings
            results, pending, ahead = [], deque(), len(client.scheduler_info()["workers"]) + 1

            def post_oldest():
                future, opening = pending.popleft()
                result = future.result()
                if not result.get("errors") and not any(r.get("errors") for r in results):
                    posting.post(result, opening)
                result.pop("priced", None)
                results.append(warnings.take(len(results), result))

            for folder in folders:
                opening, errors = posting.opening(folder)
                if errors:  # its lines are bad: said with the others' problems, nothing posted
                    results.append(warnings.take(len(results), {"errors": errors, "warnings": []}))
                    continue
                pending.append((client.submit(job, folder, sent, *args, opening=opening, pure=False), opening))
                while len(pending) >= ahead:
                    post_oldest()
            while pending:
                post_oldest()
            return results, warnings
    finally:
        if cluster is not None:
            cluster.close()


def _bucket_file(folder: Path) -> Path:
    """A bucket's lines as one file: the split writes a file per chunk of the export, which are joined here
    (in export order) the first time the bucket is read, so a bucket is always priced whole."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    whole, pieces = Path(folder) / "whole.parquet", sorted(Path(folder).glob("part-*.parquet"))
    if not whole.exists():
        if len(pieces) == 1:
            return pieces[0]
        joining = whole.with_suffix(".joining")  # file by file: a dataset's to_table does not keep their order
        pq.write_table(pa.concat_tables([pq.ParquetFile(piece).read() for piece in pieces]), joining,
                       use_dictionary=False, compression="lz4")
        joining.rename(whole)  # at once: a bucket is whole or still in pieces
    for piece in pieces:
        piece.unlink(missing_ok=True)
    return whole


def run_bucket(folder: Path, book: TariffBook, work: Path, suffix: str, skip_bad_lines: bool, finish,
               opening: "Opening | None" = None) -> dict:
    """One bucket priced by the ordinary job and ``finish``ed (``finish(priced, book)``: the lines to write,
    their result kinds, the tables and what else the join needs), its lines written as its part in
    ``work``/parts and each GROWING table's as its part in ``work``/<table> (a PartsTable goes back); its
    other tables and its problems as plain values (an InputError's problems travel back as data).
    With an ``opening`` (the ledger's, read by the command) it is priced against it, and its priced lines
    and what the ledger keeps go back for posting."""
    from .output.write import write_output, write_tables

    try:
        priced = jobs.price(_bucket_file(folder), book, skip_bad_lines=skip_bad_lines, opening=opening)
        lines, results, tables, more = finish(priced, book)
    except InputError as exc:
        return {"errors": exc.problems, "warnings": [], "tables": {}, "lines": 0}
    lines = lines.drop(columns=[BUCKET], errors="ignore")
    number = int(Path(folder).name.partition("=")[2])  # the split's hive folder: bucket=N
    write_output(priced.source, lines, results, [], work / "parts" / f"part-{number:05d}{suffix}",
                 input_kinds=input_kinds(priced.minor_units))
    for name in [name for name in GROWING if name in tables]:
        table, part = with_names(tables[name], book), work / name / f"part-{number:05d}{suffix}"
        part.parent.mkdir(exist_ok=True)
        write_tables([table], part)
        tables[name] = PartsTable(name, (part,), len(table.frame), table.kinds)
    posting = {"priced": priced.lines, "kept": priced.kept} if opening is not None else {}
    return {"warnings": list(priced.problems.warnings), "tables": tables, "lines": len(lines), "results": results,
            **more, **posting}


def _priced(priced: jobs.Priced, book: TariffBook) -> tuple:
    """What a priced bucket writes and hands back: every result column, the pricing tables."""
    tables = {name: t for name, t in priced.tables.items() if name != "warnings"}
    return priced.lines, result_kinds(priced.minor_units), tables, {}


def _rebated(priced: jobs.Priced, book: TariffBook, year: int) -> tuple:
    """What a rebated bucket writes and hands back: the ``rebate`` column, its per-client tables, where each
    client first comes in the export, and its dates (for a year no bucket has lines in)."""
    from .period.rebates import FiscalYear, year_end
    from .period.rewards import reward_lots
    from .tables import money

    result = year_end(priced.lines, book, year)
    fy = FiscalYear.of(book, year)
    days = priced.lines["date"]
    tables = jobs.client_tables(result, priced, book)
    more = {"first_rows": first_rows(priced.lines), "dates": (days.min(), days.max()),
            "in_year": bool(((days >= pd.Timestamp(fy.start)) & (days <= pd.Timestamp(fy.end))).any()),
            "rewards": reward_lots(priced.lines, book, fy.start, fy.end, year, tables["quests"].frame)}
    return result.lines, {"rebate": money(priced.minor_units)}, tables, more


def _accrued(priced: jobs.Priced, book: TariffBook, as_of) -> tuple:
    """What an accrued bucket writes and hands back: the lines as read, its accruals, where each client
    first comes, and its dates up to ``as_of`` (for a year no bucket has lines in)."""
    from .period.accrual import accrual, fiscal_year_of

    days = priced.lines["date"]
    up_to = days[days <= pd.Timestamp(as_of)]
    more = {"first_rows": first_rows(priced.lines), "dates": (up_to.min(), up_to.max()) if len(up_to) else None,
            "in_year": bool((up_to >= pd.Timestamp(fiscal_year_of(book, as_of).start)).any())}
    return priced.lines, {}, {"accruals": accrual(priced.lines, book, as_of)}, more


def first_rows(lines: pd.DataFrame) -> pd.Series:
    """Each client's first export row, by client id: the order the in-process engine lists clients in."""
    return pd.Series(lines[SOURCE_ROW].to_numpy()).groupby(lines["client_id"].astype(str).to_numpy()).min()


def combine(results: list[dict], book: TariffBook) -> "dict[str, Table | PartsTable]":
    """The buckets' pricing tables as one run's: the summary and the markers summed (the buckets' clients,
    and so their documents, are disjoint), the coupons' parts joined in bucket order."""
    from .overviews import finish_markers

    tables: "dict[str, Table | PartsTable]" = {}
    present = [r["tables"] for r in results if r["tables"]]
    if not present:
        return tables
    summary = pd.concat([t["summary"].frame for t in present], ignore_index=True)
    tables["summary"] = Table("summary", summary.sum(numeric_only=True).to_frame().T.astype(np.int64),
                              present[0]["summary"].kinds)
    markers = pd.concat([t["markers"].frame for t in present], ignore_index=True)
    sums = markers.drop(columns=["concession_pct"]).groupby("marker", sort=False).sum()
    tables["markers"] = finish_markers(sums, book)
    coupons = [t["coupons"] for t in present if "coupons" in t]
    if coupons:
        tables["coupons"] = PartsTable.joined(coupons)
    return tables


def combine_year_end(results: list[dict], book: TariffBook, year: int) -> "dict[str, Table | PartsTable]":
    """The buckets' year-end tables as one run's: per-client tables joined in the export's client order
    (credit notes per rate by client and rate, quests by quest and client, as the in-process engine sorts them),
    the coupons' parts as pricing joins them, then the overviews and the summary (jobs.year_end_tables). A
    year no bucket has lines in is the in-process engine's error."""
    from .period.rebates import FiscalYear

    _refuse_empty_year(results, FiscalYear.of(book, year))
    present = [r["tables"] for r in results]
    quest_order = {quest.quest_id: k for k, quest in enumerate(book.quests)}
    per_client: "dict[str, Table | PartsTable]" = {}
    for name, first in list(present[0].items()):
        if isinstance(first, PartsTable):
            per_client[name] = PartsTable.joined([t[name] for t in present])
            continue
        frame = pd.concat([t.pop(name).frame for t in present], ignore_index=True)  # taken from the buckets: held once
        if name == "credit_notes" and book.settings.rebate_reduces_price:  # per client and rate: sorted so
            frame = frame.sort_values(["client_id", "vat_rate"], kind="stable", ignore_index=True)
        elif name == "quests":
            frame = frame.assign(_quest=frame["quest_id"].map(quest_order)).sort_values(
                ["_quest", "client_id"], kind="stable", ignore_index=True).drop(columns="_quest")
        else:
            frame = _in_client_order(frame, results)
        per_client[name] = Table(name, frame, first.kinds)
    return jobs.year_end_tables(per_client, book, year)


def combine_accruals(results: list[dict], book: TariffBook, as_of) -> dict[str, Table]:
    """The buckets' accruals as one run's: in the export's client order, then by the gap to the next step
    (as period.accrual sorts them)."""
    from .period.accrual import fiscal_year_of

    _refuse_empty_year(results, fiscal_year_of(book, as_of), msg("up to {day:%d.%m.%Y}", day=as_of))
    tables = [r["tables"]["accruals"] for r in results]
    frame = _in_client_order(pd.concat([t.frame for t in tables], ignore_index=True), results)
    frame = frame.sort_values("gap_to_next_step", na_position="last", kind="stable", ignore_index=True)
    return {"accruals": Table("accruals", frame, tables[0].kinds)}


def _in_client_order(frame: pd.DataFrame, results: list[dict]) -> pd.DataFrame:
    """A per-client table's rows in the order the in-process engine lists clients: by first export row."""
    order = pd.concat([r["first_rows"] for r in results])
    at = np.argsort(frame["client_id"].astype(str).map(order).to_numpy(), kind="stable")
    return frame.iloc[at].reset_index(drop=True)


def _refuse_empty_year(results: list[dict], fy, within: str = "") -> None:
    """No bucket has a line in the fiscal year: the in-process engine's error, with the export's dates."""
    if any(r["in_year"] for r in results):
        return
    dates = [r["dates"] for r in results if r["dates"] is not None]
    first, last = (min(d[0] for d in dates), max(d[1] for d in dates)) if dates else (None, None)
    raise jobs.empty_year(fy, first, last, within)


def _publish_workbook(parts: Path, export: Path, out: Path, tables: dict[str, Table], results: dict, book: TariffBook,
                      progress) -> list[Path]:
    """The parts gathered in export-row order into one workbook, as the in-process engine writes a parquet
    export's results: a Lines sheet and a sheet per table (the export has at most a sheet's lines)."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from .erp.header import ExportSource
    from .erp.read import read_priced_columns
    from .lines import PERCENT
    from .output.write import write_output
    from .tables import INT, PCT

    joined = parts.with_name("lines.parquet")
    table = ds.dataset(parts, format="parquet").to_table().sort_by(SOURCE_ROW)
    pq.write_table(table, joined)
    minor = book.settings.minor_units
    kinds = {SOURCE_ROW: INT, **input_kinds(minor), **{n: PERCENT if k == PCT else k for n, k in results.items()}}
    lines = read_priced_columns(joined, kinds, [name for name in table.column_names if name in kinds])
    return write_output(ExportSource(export, "parquet"), lines, results, named(tables, book), out,
                        input_kinds=input_kinds(minor), progress=progress)


def _read_back(table: PartsTable, work: Path) -> Table:
    """A GROWING table's parquet parts joined and read back whole, as the buckets held it: numbers and dates
    by the priced-lines reader's parsers (exact decimals to integers), text as written — not through the
    text parser, which trims an export's cells and blanks placeholders such as ``-`` (a client's INN)."""
    import pyarrow.parquet as pq

    from .erp.read import read_priced_columns
    from .lines import PERCENT
    from .output.write import write_joined
    from .tables import PCT, TEXT

    joined = write_joined(list(table.parts), work / f"{table.name}.parquet", table.rows)[0]
    kinds = {name: table.kinds.get(name, TEXT) for name in pq.read_schema(joined).names}
    text = [name for name, kind in kinds.items() if kind.name == "text"]
    numbers = {name: PERCENT if kind == PCT else kind for name, kind in kinds.items() if name not in text}
    frame = read_priced_columns(joined, numbers, list(numbers))
    for name, column in zip(text, pq.read_table(joined, columns=text).columns):
        frame[name] = column.to_numpy(zero_copy_only=False)
    return Table(table.name, frame[list(kinds)], table.kinds)


def _publish(parts: Path, out: Path, tables: dict[str, "Table | PartsTable"], book: TariffBook, progress) -> list[Path]:
    """The parts folder renamed to ``out`` (an earlier dataset there replaced) and the tables written beside
    it (clients named; a GROWING table's parts joined), all or nothing as far as the file system allows:
    tables first, then the folder."""
    from .output.write import write_joined, write_tables

    written = []
    for table in tables.values():
        beside = out.with_name(f"{out.stem}.{table.name}{out.suffix}")
        written += (write_joined(list(table.parts), beside, table.rows, progress) if isinstance(table, PartsTable)
                    else write_tables([with_names(table, book)], beside, progress=progress))
    old = out.with_name(f".{out.name}.old")
    if out.exists():
        out.rename(old)
    parts.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return [out, *written]
