"""Upcoming birthdays of clients' contacts, each with a greeting ready to send (SPEC §10).

The window is [D, D + days], both ends included, and may cross a year end: each
birthday's next occurrence on or after D is found for all clients at once in
numpy dates (29 February falls on 28 February in a year without one). The age
is the one turned on that day, where the birth year is known (``dd.mm`` leaves
it blank). Phones are put in E.164 by ``phonenumbers`` (region RU unless the
number carries its own country code); a number that is not valid is a warning
and stays as written, but goes to no SMS gateway. The greeting is the Settings
key ``birthday_greeting`` with ``{name}``, ``{tier}`` and ``{balance}`` filled in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from ..i18n import msg
from ..money import format_minor
from ..problems import Problem
from ..tables import DATE, INT, TEXT, Table
from ..tariffs.model import MonthDay, TariffBook
from .sales import blanks_as_none
from .sms import sms_parts

PLACEHOLDERS = ("name", "tier", "balance")
PHONE_REGION = "RU"


@dataclass(frozen=True)
class Birthdays:
    birthdays: Table
    sms: Table  # phone, text: what an SMS gateway takes, for the clients with a valid phone
    warnings: list[Problem] = field(default_factory=list)


def next_birthdays(month: np.ndarray, day: np.ndarray, as_of: date) -> np.ndarray:
    """Each birthday's first occurrence on or after ``as_of`` (datetime64[D])."""
    this_year = _occurrence(np.full(len(month), as_of.year), month, day)
    later = this_year < np.datetime64(as_of, "D")
    return np.where(later, _occurrence(np.full(len(month), as_of.year + 1), month, day), this_year)


def _occurrence(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    day = np.where((month == 2) & (day == 29) & ~leap, 28, day)
    months = (year - 1970) * 12 + (month - 1)
    return months.astype("datetime64[M]").astype("datetime64[D]") + (day - 1).astype("timedelta64[D]")


def e164(text: str, region: str = PHONE_REGION) -> str | None:
    """The number in E.164 (``+79161234567``), or None when it is not a valid number."""
    import phonenumbers

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def birthdays(book: TariffBook, as_of: date, days: int, balances: dict[str, int] | None = None) -> Birthdays:
    """The clients whose birthday falls in [as_of, as_of + days], by date then client_id; ``balances``:
    available points per client_id in minor units (from the ledger), else ``{balance}`` is blank."""
    dated = [c for c in book.clients.values() if c.birthday is not None]  # the records: read once, at the edge
    month = np.array([c.birthday.month for c in dated], dtype=np.int64)
    day = np.array([c.birthday.day for c in dated], dtype=np.int64)
    upcoming = next_birthdays(month, day, as_of)
    inside = np.flatnonzero(upcoming <= np.datetime64(as_of, "D") + np.timedelta64(days, "D"))
    chosen = [dated[i] for i in inside]
    when = upcoming[inside]
    born = np.array([0 if isinstance(c.birthday, MonthDay) else c.birthday.year for c in chosen], dtype=np.int64)
    age = pd.array(np.where(born > 0, when.astype("datetime64[Y]").astype(np.int64) + 1970 - born, 0), dtype="Int64")
    age[born == 0] = pd.NA
    template = book.settings.birthday_greeting or ""
    warnings = _unknown_placeholders(template, book)
    units = book.settings.minor_units
    phones, valid, greetings = [], [], []
    for client in chosen:
        phone = e164(client.phone) if client.phone else None
        valid.append(phone is not None)
        if client.phone and phone is None:
            warnings.append(Problem("birthday.phone", msg("phone {phone!r} of client {client_id} is not a "
                                                          "valid number (region {region} unless it "
                                                          "starts with +country code); kept as written and "
                                                          "left out of the SMS file",
                                                          phone=client.phone, client_id=client.client_id, region=PHONE_REGION), "warning", sheet="Clients",
                                    cell=_cell(client.src.at("phone"))))
        phones.append(phone or client.phone)
        balance = "" if balances is None else format_minor(balances.get(client.client_id, 0), units, grouped=True)
        greetings.append(fill(template, name=client.name or client.client_id, tier=client.tier or "", balance=balance))
    frame = pd.DataFrame({
        "client_id": [c.client_id for c in chosen], "name": blanks_as_none([c.name for c in chosen]),
        "date": when.astype("datetime64[s]"), "age": age, "phone": blanks_as_none(phones),
        "email": blanks_as_none([c.email for c in chosen]),
        "greeting": greetings, "sms_parts": np.array([sms_parts(g) for g in greetings], dtype=np.int64),
    }).sort_values(["date", "client_id"], kind="stable", ignore_index=True)
    kinds = {"client_id": TEXT, "name": TEXT, "date": DATE, "age": INT, "phone": TEXT, "email": TEXT,
             "greeting": TEXT, "sms_parts": INT}
    # the valid numbers only: one kept as written may start with + too ('+7 485 12-34')
    sendable = frame[frame["client_id"].isin([c.client_id for c, ok in zip(chosen, valid) if ok])]
    sms = pd.DataFrame({"phone": sendable["phone"].to_numpy(dtype=object),
                        "text": sendable["greeting"].to_numpy(dtype=object)})
    return Birthdays(Table("birthdays", frame, kinds), Table("sms", sms, {"phone": TEXT, "text": TEXT}), warnings)


def fill(template: str, **values: str) -> str:
    """``template`` with each ``{placeholder}`` of PLACEHOLDERS replaced; any other brace left as written."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


def _unknown_placeholders(template: str, book: TariffBook) -> list[Problem]:
    unknown = sorted({m for m in re.findall(r"\{(\w+)\}", template) if m not in PLACEHOLDERS})
    if not unknown:
        return []
    return [Problem("birthday.greeting", msg("birthday_greeting has {value}, which is not filled in; the "
                                             "placeholders are {{name}}, {{tier}} and {{balance}}",
                                             value=', '.join('{' + u + '}' for u in unknown)), "warning",
                    sheet="Settings", cell=_cell(book.settings.at("birthday_greeting")))]


def _cell(ref: str) -> str | None:
    """The cell of a ``Sheet!Cell`` reference (None when the reference names no cell)."""
    return ref.split("!", 1)[1] if "!" in ref else None
