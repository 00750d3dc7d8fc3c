"""The accountant's documents: numbered credit notes, fee lines with VAT, and the journal that posts them.

* **Credit notes** (SPEC §7, ``credit_notes.py`` computes them per client and VAT rate) become documents:
  a number ``<credit_note_prefix>-<year>-<seq>`` (``КН-2026-0001``, in the table's order: by client, then
  rate), the date (the fiscal year's last day), the client's name and INN from ``Clients``, and the amount
  ex VAT (amount − vat, so the three always add up exactly).
* **Fee lines** (``fees.py``) get the VAT of the month's first day: the Settings ``vat_rate_pct``, else the
  statutory rate (20 %, 22 % from 2026); fees include VAT when ``prices_include_vat`` (vat = round(fee ×
  r / (100 + r))), else VAT is added on top (round(fee × r / 100)).
* **The journal** (date, document, debit, credit, amount, description): one entry per document and one per
  its VAT, on the accounts of the Settings keys ``account_*``, with the usual Russian chart of accounts
  (Приказ Минфина № 94н) as defaults:

  ============================================  =========  =========
  what                                          Дт         Кт
  ============================================  =========  =========
  volume bonus, price and VAT unchanged          91.02      62.01
  rebate lowering the price (amount with VAT)    90.01.1    62.01
  its VAT                                        68.02      90.03
  subscription fee (amount with VAT)             62.01      90.01.1
  its VAT                                        90.03      68.02
  ============================================  =========  =========

  A volume bonus (``rebate_reduces_price`` FALSE, НК РФ ст. 154 п. 2.1) is an other expense set off against
  the buyer's debt; a rebate that lowers the price of goods shipped in the year reverses revenue and the
  VAT charged on it. Entries of a zero amount are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from ..i18n import N_, msg, written
from ..money import PCT_SCALE, mul_div_round
from ..tables import DATE, PCT, TEXT, Table
from ..tariffs.model import TariffBook

# the journal's descriptions, each defined once: msgids written in the chosen language (i18n.written; English in
# a script's call, like the Warnings table)
BONUS_TEXT = N_("Volume bonus to {name} for {year}, no VAT")
REBATE_TEXT = N_("Rebate to {name} for {year} (revenue reduced)")
REBATE_VAT_TEXT = N_("VAT on the rebate to {name}")
FEE_TEXT = N_("Subscription fee of {name}, tariff {tariff}, {month}")
FEE_VAT_TEXT = N_("VAT on the subscription fee of {name}, {month}")
JOURNAL_COLUMNS = ("date", "document", "debit", "credit", "amount", "description")


@dataclass(frozen=True)
class Posting:
    """One kind of journal entry: what it posts, and the Settings keys of its debit and credit accounts."""

    what: str
    debit: str
    credit: str

    def accounts(self, book: TariffBook) -> tuple[str, str]:
        return getattr(book.settings, self.debit), getattr(book.settings, self.credit)


BONUS = Posting(N_("volume bonus (rebate_reduces_price FALSE), no VAT"),
                "account_bonus_expense", "account_customers")
REBATE = Posting(N_("rebate lowering the price, VAT included"),
                 "account_revenue", "account_customers")
REBATE_VAT = Posting(N_("the rebate's VAT"), "account_vat_payable", "account_output_vat")
FEE = Posting(N_("subscription fee, VAT included"), "account_customers", "account_revenue")
FEE_VAT = Posting(N_("the fee's VAT"), "account_output_vat", "account_vat_payable")
POSTINGS = (BONUS, REBATE, REBATE_VAT, FEE, FEE_VAT)  # listed on the Instructions sheet with their accounts


def credit_note_documents(notes: Table, book: TariffBook, year: int, day: date) -> Table:
    """``notes`` (client_id, vat_rate, amount, vat) as numbered documents of ``day`` with the client's name and INN."""
    frame = notes.frame.reset_index(drop=True)
    clients = book.clients
    ids = frame["client_id"].astype(object)
    sequence = np.arange(1, len(frame) + 1)
    documents = pd.DataFrame({
        "number": [f"{book.settings.credit_note_prefix}-{year}-{n:04d}" for n in sequence],
        "date": pd.Series([pd.Timestamp(day)] * len(frame), dtype="datetime64[ns]"),
        "client_id": ids,
        "name": pd.Series([clients[c].name if c in clients else None for c in ids], dtype=object),
        "inn": pd.Series([clients[c].inn if c in clients else None for c in ids], dtype=object),
        "vat_rate": frame["vat_rate"],
        "amount_ex_vat": frame["amount"].to_numpy(dtype=np.int64) - frame["vat"].to_numpy(dtype=np.int64),
        "vat": frame["vat"],
        "amount": frame["amount"],
    })
    m = notes.kinds["amount"]
    kinds = {"number": TEXT, "date": DATE, "client_id": TEXT, "name": TEXT, "inn": TEXT,
             "vat_rate": notes.kinds["vat_rate"], "amount_ex_vat": m, "vat": m, "amount": m}
    return Table("credit_notes", documents, kinds)


def fee_vat(fees: Table, book: TariffBook, month_start: date) -> Table:
    """Fee lines with the VAT rate of ``month_start``, the fee ex VAT, the VAT and the amount due."""
    from ..plugins.totals import default_vat_rate

    frame = fees.frame.reset_index(drop=True)
    fee = frame["fee"].to_numpy(dtype=np.int64)
    rate = int(default_vat_rate(book)(np.array([np.datetime64(month_start, "D")]))[0])
    if book.settings.prices_include_vat:
        vat = mul_div_round(fee, np.full(len(fee), rate), 100 * PCT_SCALE + rate)
        amount = fee
    else:
        vat = mul_div_round(fee, np.full(len(fee), rate), 100 * PCT_SCALE)
        amount = fee + vat
    m = fees.kinds["fee"]
    out = frame.assign(vat_rate=np.full(len(fee), rate, dtype=np.int64), fee_ex_vat=amount - vat, vat=vat, amount=amount)
    kinds = {**fees.kinds, "vat_rate": PCT, "fee_ex_vat": m, "vat": m, "amount": m}
    return Table(fees.name, out, kinds)


def credit_note_journal(notes: Table, book: TariffBook, year: int) -> Table:
    """The entries of the numbered credit notes (credit_note_documents): the amount, and its VAT when it has one."""
    rows = []
    for note in notes.frame.itertuples(index=False):
        name = _party(note.name, note.client_id)
        if pd.isna(note.vat_rate):  # a volume bonus: no VAT, the price stays
            rows.append((note.date, note.number, *BONUS.accounts(book), note.amount,
                         _text(BONUS_TEXT, name=name, year=year)))
            continue
        rows.append((note.date, note.number, *REBATE.accounts(book), note.amount, _text(REBATE_TEXT, name=name, year=year)))
        rows.append((note.date, note.number, *REBATE_VAT.accounts(book), note.vat, _text(REBATE_VAT_TEXT, name=name)))
    return _journal(rows, notes.kinds["amount"])


def fee_journal(fees: Table, book: TariffBook, day: date) -> Table:
    """The entries of the month's fee lines (fee_vat): the fee due from the client, and its VAT."""
    rows = []
    for fee in fees.frame.itertuples(index=False):
        name = _party(fee.name, fee.client_id)
        document = f"{fee.month} {fee.client_id}"
        rows.append((pd.Timestamp(day), document, *FEE.accounts(book), fee.amount,
                     _text(FEE_TEXT, name=name, tariff=fee.tariff, month=fee.month)))
        rows.append((pd.Timestamp(day), document, *FEE_VAT.accounts(book), fee.vat, _text(FEE_VAT_TEXT, name=name, month=fee.month)))
    return _journal(rows, fees.kinds["fee"])


def _journal(rows: list[tuple], kind) -> Table:
    frame = pd.DataFrame([r for r in rows if r[4] != 0], columns=list(JOURNAL_COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"])
    frame["amount"] = frame["amount"].astype(np.int64)
    kinds = {"date": DATE, "document": TEXT, "debit": TEXT, "credit": TEXT, "amount": kind, "description": TEXT}
    return Table("journal", frame, kinds)


def _text(description, **values) -> str:
    """A journal entry's description as the file holds it: in the chosen language."""
    return written(msg(description.template, **values))


def _party(name, client_id) -> str:
    return f"{name} ({client_id})" if isinstance(name, str) and name else str(client_id)

