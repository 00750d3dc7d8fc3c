"""The Python API for scripts: every operation on a file or a pandas DataFrame, with exact decimals back.

    import erp_plugin
    book = erp_plugin.load_tariffs("tariffs.xlsx")
    result = erp_plugin.price(df, book)             # df: one row per sales line (SPEC §6 field names)
    result.lines["net"].sum()                       # Decimal('61234.50'): currency units, exact
    erp_plugin.rebates("sales.parquet", book, 2026).tables["credit_notes"]
    erp_plugin.accrue(df, book, "2026-06-30")

Units: every money column is an Arrow ``decimal128(38, d)`` in currency units
(``d`` the workbook's minor units), quantities in units (3 decimals), unit prices
in currency units (4 decimals), percentages in percent (4 decimals); never a
float, never a scaled integer. Dates may be given as ``date`` or ISO text
(``"2026-06-30"``). A frame's columns are named as SPEC §6's fields (or as the
export's own headers); floats are taken only where they hold the figure exactly.

Bad input raises ``erp_plugin.InputError`` with every problem in ``.problems``
(each with its place); nothing is written then. A wrong argument type is a
``TypeError`` naming the argument.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from . import jobs, reports
from .erp.read_frame import conform
from .i18n import msg
from .lines import SOURCE_ROW, input_kinds, result_kinds
from .output.frames import user_frame, user_lines, user_tables
from .problems import InputError, Problem
from .tables import INT, money
from .tariffs.model import TariffBook

if TYPE_CHECKING:
    from .ledger.store import Posted

Validation = jobs.Validation


@dataclass(frozen=True)
class Result:
    """What an operation gives back. ``lines``: the export's lines with their results (None for jobs
    without lines); ``tables``: the result tables by name (summary, markers, coupons, rebates,
    credit_notes, …); ``warnings``: the run's warnings, each with its place; ``written``: the files."""

    lines: pd.DataFrame | None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    posted: "Posted | None" = None  # what the run posted to the ledger, when it was given one


def validate(tariffs: str | Path, today: date | str | None = None) -> Validation:
    """Read and check a tariff workbook; ``.problems`` holds every error and warning with its ``Sheet!Cell``."""
    return jobs.validate(_path(tariffs, "tariffs"), _day(today, "today"))


def load_tariffs(tariffs: str | Path | TariffBook, today: date | str | None = None) -> TariffBook:
    """The validated TariffBook (a book given is returned as it is), or InputError with every problem."""
    if isinstance(tariffs, TariffBook):
        return tariffs
    return jobs.load_tariffs(_path(tariffs, "tariffs"), _day(today, "today"))


def init(directory: str | Path = ".", force: bool = False) -> list[Path]:
    """Write a fresh tariff workbook, a sample export and the year-end workbook into ``directory``."""
    return jobs.init(_path(directory, "directory"), force)


def read(export: str | Path | pd.DataFrame, tariffs: str | Path | TariffBook | None = None,
         out: str | Path | None = None, sheet: str | None = None, skip_bad_lines: bool = False) -> Result:
    """An export read as pricing reads it, with ``gross``: what the product understood of each line."""
    book = load_tariffs(tariffs) if tariffs is not None else None
    result = jobs.read(_export(export, book, skip_bad_lines), book, _out(out), sheet, skip_bad_lines)
    return Result(user_lines(result.lines, result.minor_units, {"gross": money(result.minor_units)}),
                  {}, result.export.problems.warnings, result.written)


def price(export: str | Path | pd.DataFrame, tariffs: str | Path | TariffBook, out: str | Path | None = None,
          sheet: str | None = None, skip_bad_lines: bool = False, in_place: bool = False,
          ledger: str | Path | None = None) -> Result:
    """Price every line (SPEC §5): ``lines`` with the result columns, tables summary, markers, coupons
    (and warnings). With ``ledger`` (a SQLite file or a database URL) the run is priced against it and
    posted, in one transaction. ``out`` writes the results (.xlsx, .csv or .parquet)."""
    book = load_tariffs(_book(tariffs))
    priced = jobs.price(_export(export, book, skip_bad_lines), book, _out(out), sheet, skip_bad_lines, in_place,
                        ledger=_optional_path(ledger, "ledger"))
    return Result(user_lines(priced.lines, priced.minor_units), user_tables(priced.tables), priced.problems.warnings,
                  priced.written, priced.posted)


def rebates(export: str | Path | pd.DataFrame, tariffs: str | Path | TariffBook, year: int,
            out: str | Path | None = None, sheet: str | None = None, skip_bad_lines: bool = False,
            in_place: bool = False, ledger: str | Path | None = None) -> Result:
    """Year-end cumulative rebates of fiscal ``year`` (SPEC §7): lines with ``rebate``, tables rebates,
    credit_notes (numbered documents with the client's name and INN), journal (their entries), summary,
    tiers, stamps, quests and the overviews."""
    if isinstance(year, bool) or not isinstance(year, int):
        raise TypeError(f"year must be an int such as 2026, not {type(year).__name__}")
    book = load_tariffs(_book(tariffs))
    result = jobs.rebates(_export(export, book, skip_bad_lines), book, year, _out(out), sheet, skip_bad_lines,
                          in_place, ledger=_optional_path(ledger, "ledger"))
    lines = user_lines(result.lines, result.minor_units, {"rebate": money(result.minor_units)})
    return Result(lines, user_tables(result.tables), result.problems.warnings, result.written, result.posted)


def accrue(export: str | Path | pd.DataFrame, tariffs: str | Path | TariffBook, as_of: date | str,
           out: str | Path | None = None, sheet: str | None = None, skip_bad_lines: bool = False) -> Result:
    """Rebate accrual as of a day (SPEC §7): table ``accruals`` per client."""
    day = _day(as_of, "as_of")
    if day is None:
        raise TypeError("as_of must be a date or ISO text such as '2026-06-30', not None")
    book = load_tariffs(_book(tariffs))
    result = jobs.accrue(_export(export, book, skip_bad_lines), book, day, _out(out), sheet, skip_bad_lines)
    return Result(None, user_tables(result.tables), [], result.written)


def impact(export: str | Path | pd.DataFrame, tariffs: str | Path | TariffBook, against: str | Path | TariffBook,
           out: str | Path | None = None, year: int | None = None, sheet: str | None = None,
           skip_bad_lines: bool = False) -> Result:
    """What the ``against`` (proposed) tariff workbook would have given away on this export, against
    ``tariffs`` (current), SPEC §9: tables impact (per client), impact_by_tariff, impact_by_marker and
    summary, money in currency units; ``year`` the fiscal year of the rebates (default: the latest line's)."""
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise TypeError(f"year must be an int such as 2026 or None, not {type(year).__name__}")
    current, proposed = load_tariffs(_book(tariffs)), load_tariffs(_book(against))
    result = jobs.impact(_export(export, current, skip_bad_lines), current, proposed, _out(out), year, sheet,
                         skip_bad_lines)
    return Result(None, user_tables(result.tables), result.problems.warnings, result.written)


def fees(tariffs: str | Path | TariffBook, month: str, out: str | Path | None = None) -> Result:
    """Subscription fee lines of a month ``YYYY-MM`` (SPEC §7): table ``fees`` (with the month's VAT) and
    ``journal`` (their entries)."""
    if not isinstance(month, str):
        raise TypeError(f"month must be text such as '2026-11', not {type(month).__name__}")
    result = jobs.fees(load_tariffs(_book(tariffs)), month, _out(out))
    return Result(None, user_tables(result.tables), [], result.written)


def ledger_balance(ledger: str | Path, as_of: date | str | None = None, out: str | Path | None = None,
                   tariffs: str | Path | TariffBook | None = None) -> Result:
    """Balances (available, pending, balance) per client as of a day (default today), SPEC §8."""
    result = jobs.ledger_balance(_path(ledger, "ledger"), _day(as_of, "as_of"), _out(out), _optional_book(tariffs))
    return Result(None, user_tables(result.tables), [], result.written)


def ledger_history(ledger: str | Path, client_id: str, out: str | Path | None = None,
                   tariffs: str | Path | TariffBook | None = None, as_of: date | str | None = None) -> Result:
    """One client's ledger entries in booking order: table ``history``."""
    result = jobs.ledger_history(_path(ledger, "ledger"), _text(client_id, "client_id"), _out(out),
                                 _optional_book(tariffs), _day(as_of, "as_of"))
    return Result(None, user_tables(result.tables), [], result.written)


def ledger_statement(ledger: str | Path, client_id: str, start: date | str | None = None,
                     end: date | str | None = None, out: str | Path | None = None,
                     tariffs: str | Path | TariffBook | None = None) -> Result:
    """A client's statement (SPEC §8): tables statement, movements and expiring."""
    _statement, result = jobs.ledger_statement(_path(ledger, "ledger"), _text(client_id, "client_id"),
                                               _day(start, "start"), _day(end, "end"), _out(out),
                                               _optional_book(tariffs))
    return Result(None, user_tables(result.tables), [], result.written)


def ledger_liability(ledger: str | Path, as_of: date | str | None = None, out: str | Path | None = None,
                     by: str = "month", tariffs: str | Path | TariffBook | None = None) -> Result:
    """The IFRS 15 contract liability per month or year (SPEC §8): table ``liability``."""
    if by not in ("month", "year"):
        raise TypeError(f"by must be 'month' or 'year', not {by!r}")
    result = jobs.ledger_liability(_path(ledger, "ledger"), _day(as_of, "as_of"), _out(out), by,
                                   _optional_book(tariffs))
    return Result(None, user_tables(result.tables), [], result.written)


def report_rfm(export: str | Path | pd.DataFrame, tariffs: str | Path | TariffBook, out: str | Path | None = None,
               as_of: date | str | None = None, months: int = 12, save_segments: str | Path | None = None,
               sheet: str | None = None, skip_bad_lines: bool = False) -> Result:
    """RFM per client over the ``months`` calendar months to ``as_of`` (default: the export's last date), SPEC §10:
    tables ``rfm`` (scores 1–5, ties alike, and the segment) and ``rfm_segments``. ``save_segments``: a tariff
    workbook whose Clients ``segments`` get each client's RFM segment. ``export`` may be the priced parquet."""
    book = load_tariffs(_book(tariffs))
    result = reports.rfm(_export(export, book, skip_bad_lines), book, _out(out), _day(as_of, "as_of"),
                         _int(months, "months", 12),
                         _optional_path(save_segments, "save_segments"), sheet, skip_bad_lines)
    return Result(None, user_tables(result.tables), result.warnings, result.written)


def report_churn(export: str | Path | pd.DataFrame, tariffs: str | Path | TariffBook, out: str | Path | None = None,
                 as_of: date | str | None = None, sheet: str | None = None, skip_bad_lines: bool = False) -> Result:
    """Churn risk per client from the BG/NBD model fitted by maximum likelihood on the sales up to ``as_of``,
    SPEC §10: tables ``churn`` (p_alive, expected_purchases_90d, churn_risk: floats), ``churn_model`` (r, alpha,
    a, b, log_likelihood), ``churn_bands`` and ``churn_at_risk``."""
    book = load_tariffs(_book(tariffs))
    result = reports.churn(_export(export, book, skip_bad_lines), book, _out(out), _day(as_of, "as_of"), sheet,
                           skip_bad_lines)
    return Result(None, user_tables(result.tables), result.warnings, result.written)


def report_birthdays(export: str | Path | pd.DataFrame, tariffs: str | Path | TariffBook, out: str | Path | None = None,
                     as_of: date | str | None = None, days: int = 14, ledger: str | Path | None = None,
                     sheet: str | None = None, skip_bad_lines: bool = False) -> Result:
    """Clients whose birthday falls in [as_of, as_of + days], SPEC §10: table ``birthdays`` (date, age, E.164
    phone, greeting, sms_parts) and ``sms`` (phone, text; written beside ``out`` as ``<stem>.sms.csv``)."""
    book = load_tariffs(_book(tariffs))
    result = reports.birthdays(_export(export, book, skip_bad_lines), book, _out(out), _day(as_of, "as_of"),
                               _int(days, "days", 14),
                               _optional_path(ledger, "ledger"), sheet, skip_bad_lines)
    return Result(None, user_tables(result.tables), result.warnings, result.written)


def read_priced(path: str | Path, tariffs: str | Path | TariffBook | None = None,
                columns: list[str] | None = None) -> pd.DataFrame:
    """The lines ``price --out x.parquet`` wrote, read back with exact decimals."""
    book = load_tariffs(tariffs) if tariffs is not None else None
    frame = jobs.read_priced(_path(path, "path"), book, columns)
    minor = book.settings.minor_units if book else 2
    return user_frame(frame, {SOURCE_ROW: INT, **input_kinds(minor), **result_kinds(minor)})


# ------------------------------------------------------------------ arguments


def _export(export, book: TariffBook | None, skip_bad_lines: bool):
    """A file as it is (jobs reads it), or a DataFrame conformed to the engine's lines (or InputError)."""
    if isinstance(export, pd.DataFrame):
        columns = {c.field: c.header for c in book.columns} if book else {}
        read = conform(export, book.settings.minor_units if book else 2, columns, skip_bad_lines)
        if read.problems.errors:
            raise InputError(read.problems.errors)
        return read
    return _path(export, "export", "or a pandas DataFrame")


def _path(value, name: str, alternative: str = "") -> Path:
    if isinstance(value, (str, Path)):
        return Path(value)
    raise TypeError(f"{name} must be a path (str or pathlib.Path){' ' + alternative if alternative else ''}, "
                    f"not {type(value).__name__}")


def _optional_path(value, name: str):
    """A ledger: a file or a database URL (kept as text: a URL is not a path), or None."""
    if value is None or isinstance(value, (str, Path)):
        return value
    raise TypeError(f"{name} must be a SQLite file path or a database URL, not {type(value).__name__}")


def _out(value) -> Path | None:
    return None if value is None else _path(value, "out")


def _book(value):
    if isinstance(value, (str, Path, TariffBook)):
        return value
    raise TypeError(f"tariffs must be a path to the tariff workbook or a TariffBook (erp_plugin.load_tariffs), "
                    f"not {type(value).__name__}")


def _optional_book(value) -> TariffBook | None:
    return None if value is None else load_tariffs(_book(value))


def _int(value, name: str, example: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int such as {example}, not {type(value).__name__}")
    return value


def _text(value, name: str) -> str:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"{name} must be text, not {type(value).__name__}")


def _day(value, name: str) -> date | None:
    """A date given as ``date``/``datetime``/``Timestamp`` or ISO text; InputError for text that is not one."""
    if value is None:
        return None
    if isinstance(value, datetime):  # a Timestamp is one too
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise InputError([Problem("api.date", msg("{name} {value!r} is not a date; give ISO text such as "
                                                      "'2026-06-30' or a datetime.date",
                                                      name=name, value=value))]) from None
    raise TypeError(f"{name} must be a date or ISO text such as '2026-06-30', not {type(value).__name__}")
