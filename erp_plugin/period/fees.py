"""Subscription fees of a month (SPEC §7): a fee line for every client whose tariff in force on the
month's first day is not BASE and whose trial (joined + trial_months) ended on or before that day.

A client with no join date has no trial left. Trial months are calendar months: joined 31.01
plus one month ends on 28.02 (29.02 in a leap year).
"""

from __future__ import annotations

import calendar
from datetime import date

import pandas as pd

from ..tables import DATE, TEXT, Table, money
from ..tariffs.model import TariffBook


def add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def tariff_on(book: TariffBook, client_id: str, day: date) -> str:
    client = book.clients[client_id]
    tariff = client.tariff or "BASE"
    for change in book.tariff_changes:  # sorted by client, then date
        if change.client_id == client_id and change.from_date <= day and change.tariff:
            tariff = change.tariff
    return tariff


def fees(book: TariffBook, year: int, month: int) -> Table:
    first = date(year, month, 1)
    rows = []
    for client in book.clients.values():  # one row per client of the workbook: no export lines involved
        tariff = tariff_on(book, client.client_id, first)
        if tariff == "BASE" or tariff not in book.tariffs:
            continue
        trial_end = add_months(client.joined, book.settings.trial_months) if client.joined else None
        if trial_end is not None and trial_end > first:
            continue
        rows.append({"client_id": client.client_id, "name": client.name, "inn": client.inn, "tariff": tariff, "month": f"{year}-{month:02d}",
                     "trial_ended": pd.Timestamp(trial_end) if trial_end else pd.NaT,
                     "fee": book.tariffs[tariff].monthly_fee})
    frame = pd.DataFrame(rows, columns=["client_id", "name", "inn", "tariff", "month", "trial_ended", "fee"])
    kinds = {"client_id": TEXT, "name": TEXT, "inn": TEXT, "tariff": TEXT, "month": TEXT, "trial_ended": DATE,
             "fee": money(book.settings.minor_units)}
    return Table("fees", frame, kinds)
