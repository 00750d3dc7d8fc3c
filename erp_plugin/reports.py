"""The analytics reports as the faces run them (SPEC §10): ``erp-plugin report rfm|churn|birthdays``.

Like jobs.py, on files (or an export already read) with engine results: the
tables hold integers at their kinds' scales, ``out`` is written (the first
table in it, the others beside it or as sheets), nothing prints or exits, and
bad input raises InputError with every problem, before anything is written.

RFM and churn count net, so the export is priced first (jobs.price), unless it
is already the parquet that ``erp-plugin price --out x.parquet`` wrote: then
only its date, doc_id, client_id and net are read back (jobs.read_priced), the
way a nightly batch prices once and reports from the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from . import jobs
from .analytics.sales import resolve_as_of
from .i18n import N_, msg
from .output.write import tables_out_problem, write_tables
from .period.client_names import named
from .problems import InputError, Problem
from .tables import Table
from .tariffs import TariffBook

PRICED_COLUMNS = ["source_row", "date", "doc_id", "client_id", "net"]
# pricing's warnings about the programme, not the sales (a line giving away more than its marker's maximum):
# erp-plugin price lists them; a report does not repeat them beside its own
PRICING_ONLY = {"price.concession"}


@dataclass(frozen=True)
class Report(jobs.Tables):
    as_of: date | None = None  # the report's day D
    warnings: list[Problem] = field(default_factory=list)
    segments_saved: int | None = None  # rows of Clients changed by --save-segments


def rfm(export, tariffs: str | Path | TariffBook, out: str | Path | None = None, as_of: date | None = None,
        months: int = 12, save_segments: str | Path | None = None, sheet: str | None = None,
        skip_bad_lines: bool = False, progress=None) -> Report:
    """RFM scores and segments over the ``months`` to ``as_of`` (SPEC §10): tables ``rfm`` and ``rfm_segments``.
    With ``save_segments`` (a tariff workbook) each client's segment goes into its Clients sheet."""
    from .analytics.rfm import rfm as compute

    if months < 1:
        raise InputError([Problem("rfm.months", msg("--months {months} must be 1 or more, e.g. 12", months=months))])
    step, book = start_report(tariffs, out, progress)
    if save_segments is not None:
        check_segments_workbook(save_segments)
    lines, warnings = _sales_lines(export, book, sheet, skip_bad_lines, progress)
    day = resolve_as_of(lines, as_of)
    step(N_("RFM"))
    result = compute(lines, names_of(book), day, months, book.settings.minor_units)
    report = finish_report([result.rfm, result.segments], [*result.warnings, *warnings], out, day, book, step)
    return saved_segments(report, result.rfm.frame, save_segments, step)


def check_segments_workbook(path: str | Path) -> None:
    """``--save-segments``' workbook checked before any work: an xlsx that exists and can be written."""
    _check_workbook(Path(path))


def saved_segments(report: Report, rfm_frame, path: str | Path | None, step) -> Report:
    """With ``path`` (a tariff workbook), each client's RFM segment written into its Clients sheet, and the
    report saying how many rows changed."""
    from .analytics.rfm import SEGMENTS
    from .output.segments_sheet import save_segments as write_segments

    if path is None:
        return report
    step(N_("writing the segments"))
    saved = write_segments(path, dict(zip(rfm_frame["client_id"], rfm_frame["segment"])), SEGMENTS)
    return Report(report.tables, report.written, report.minor_units, report.as_of, report.warnings, saved)


def churn(export, tariffs: str | Path | TariffBook, out: str | Path | None = None, as_of: date | None = None,
          sheet: str | None = None, skip_bad_lines: bool = False, progress=None) -> Report:
    """Churn risk from the BG/NBD model fitted on the sales up to ``as_of`` (SPEC §10): tables ``churn``,
    ``churn_model``, ``churn_bands`` and ``churn_at_risk``."""
    from .analytics.churn import churn as compute

    step, book = start_report(tariffs, out, progress)
    lines, warnings = _sales_lines(export, book, sheet, skip_bad_lines, progress)
    day = resolve_as_of(lines, as_of)
    step(N_("fitting the churn model"))
    result = compute(lines, names_of(book), day, book.settings.minor_units)
    return finish_report([result.churn, result.model, result.bands, result.at_risk], [*result.warnings, *warnings], out,
                   day, book, step)


def birthdays(export, tariffs: str | Path | TariffBook, out: str | Path | None = None, as_of: date | None = None,
              days: int = 14, ledger: str | Path | None = None, sheet: str | None = None,
              skip_bad_lines: bool = False, progress=None) -> Report:
    """Clients whose birthday falls in [as_of, as_of + days] with their greeting (SPEC §10): table
    ``birthdays``, and ``<stem>.sms.csv`` (phone, text) beside ``out`` for an SMS gateway. ``ledger`` fills
    ``{balance}`` with each client's available points."""
    if not 0 <= days <= 365:
        raise InputError([Problem("birthdays.days", msg("--days {days} must be from 0 to 365, e.g. 14", days=days))])
    step, book = start_report(tariffs, out, progress)
    if isinstance(export, (str, Path)) and _is_priced(Path(export)):
        lines = jobs.read_priced(export, book, columns=["source_row", "date"])
    else:
        lines = jobs.read(export, book, None, sheet, skip_bad_lines).lines
    return birthdays_on(resolve_as_of(lines, as_of), book, out, days, ledger, step)


def birthdays_on(day: date, book: TariffBook, out, days: int, ledger, step) -> Report:
    """The birthdays report as of ``day`` (known already: the export's lines are not needed)."""
    from .analytics.birthdays import birthdays as compute

    balances = None
    if ledger is not None:
        from .ledger.store import balances as ledger_balances
        from .ledger.store import open_ledger

        step(N_("reading the ledger"))
        frame = ledger_balances(open_ledger(ledger, create=False), day)
        balances = dict(zip(frame["client_id"].astype(str), frame["available"].astype(int)))
    step(N_("birthdays"))
    result = compute(book, day, days, balances)
    return finish_report([result.birthdays], result.warnings, out, day, book, step, (result.sms,))


# ------------------------------------------------------------------ shared


def start_report(tariffs, out, progress):
    """The progress callback and the tariff book; InputError for an ``out`` that cannot be written."""
    step = progress or (lambda *_: None)
    if out is not None:
        problem = tables_out_problem(out)
        if problem:
            raise InputError([problem])
    return step, tariffs if isinstance(tariffs, TariffBook) else jobs.load_tariffs(tariffs)


def _check_workbook(path: Path) -> None:
    from .xlsx import check_workbook

    problem = check_workbook(path, N_("tariff workbook"))
    if problem:
        raise InputError([problem])


def names_of(book: TariffBook) -> dict[str, str]:
    return {client_id: client.name for client_id, client in book.clients.items() if client.name}


def _is_priced(path: Path) -> bool:
    """The parquet ``erp-plugin price`` wrote: it has the columns read back and ``gross``."""
    if path.suffix.casefold() not in (".parquet", ".pq") or not path.is_file():
        return False
    import pyarrow.parquet as pq

    try:
        names = set(pq.read_schema(path).names)
    except Exception:  # pyarrow's own errors: the export reader reports an unreadable file
        return False
    return {*PRICED_COLUMNS, "gross"} <= names


def _sales_lines(export, book: TariffBook, sheet, skip_bad_lines: bool, progress) -> tuple[pd.DataFrame, list[Problem]]:
    """Lines with net: read back from a priced parquet, else priced now (with pricing's warnings)."""
    if isinstance(export, (str, Path)) and _is_priced(Path(export)):
        (progress or (lambda *_: None))(N_("reading the priced lines"))
        return jobs.read_priced(export, book, columns=PRICED_COLUMNS), []
    priced = jobs.price(export, book, None, sheet, skip_bad_lines, progress=progress)
    return priced.lines, [p for p in priced.problems.warnings if p.code not in PRICING_ONLY]


def finish_report(tables: list[Table], warnings: list[Problem], out, day: date, book: TariffBook, step,
            csv_beside: tuple[Table, ...] = ()) -> Report:
    if warnings:
        tables = [*tables, jobs.problems_table(warnings, severity=False)]
    written = []
    if out is not None:
        written = write_tables(named(tables, book), out, csv_beside, progress=step)
    return Report({t.name: t for t in [*tables, *csv_beside]}, written, book.settings.minor_units, day, warnings)
