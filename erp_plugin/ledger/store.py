"""The bonus ledger in a real database: posting a priced export, and what it holds (SPEC §8).

A run with a ledger is one transaction, holding the ledger's write lock from before
pricing reads the opening state to the end of posting (``session``): two runs on one
ledger take turns, and each prices against what the other posted.

A posted line is known by its identity: doc_id, the year of its date, and line_no
(else its SKU and occurrence in the document). The same identity with the same
figures adds nothing; with other figures (or another client) it is a conflict and
the run posts nothing. The work is done in SQL set operations on a temporary table
of the export's identities, not per entry in Python; PostgreSQL receives rows
through COPY.
"""

from __future__ import annotations

import gc
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select, text

from ..i18n import N_, Message, Number, msg
from ..problems import InputError, Problem
from ..tables import QTY_DECIMALS
from .connect import open_ledger, reading, writing
from .ifrs15 import deferred_revenue, liability_report
from .lots import (
    COUPON_DOCUMENT_COLUMNS,
    FIGURES,
    NEVER,
    SALE_COLUMNS,
    Opening,
    add_months,
    days,
    export_ref,
    lots_and_debits,
    simulate,
    text_codes,
    text_values,
)
from .schema import DEBITS, LOTS, MONEY_FIGURES, entries, runs
from .schema import lines as lines_table

__all__ = ["open_ledger", "session", "transaction", "post", "post_rewards", "balances", "history", "statement", "liability", "identities"]

LOT_KINDS = ("accrual", "refund", "reward")  # in SQL as schema.LOTS says it, so its partial indexes are used
COMPARED = ("client_id", "sku", "booked_on", "qty", "gross", "net", "bonus_accrued", "bonus_redeemed")
SQLITE_CACHE_KB = 256 * 1024  # SQLite's page cache while posting (its default is 2 MB)
MAX_SHOWN = 1000  # conflicts or duplicates listed; the rest are counted


def identities(lines: pd.DataFrame) -> pd.DataFrame:
    """Each line's identity: doc_id, doc_year (the year of its date) and line (line_no, else
    ``<sku>#<occurrence of the sku in the document>``)."""
    doc_codes, docs = text_codes(lines["doc_id"])
    year = pd.DatetimeIndex(lines["date"]).year.to_numpy(dtype=np.int64)
    given = lines["line_no"].notna().to_numpy() if "line_no" in lines else np.zeros(len(lines), dtype=bool)
    within = np.empty(len(lines), dtype=object)
    if given.any():
        within[given] = _text(lines["line_no"].to_numpy(dtype=np.int64, na_value=0)[given])
    if not given.all():
        sku_codes, skus = text_codes(lines["sku"])
        nth = pd.Series(sku_codes).groupby([doc_codes, year, sku_codes]).cumcount().to_numpy()
        sku = np.asarray(skus, dtype=object)[sku_codes]
        within[~given] = sku[~given] + "#" + _text(nth[~given])
    return pd.DataFrame({"doc_id": np.asarray(docs, dtype=object)[doc_codes], "doc_year": year, "line": within})


def _text(values: np.ndarray) -> np.ndarray:
    """Values as an object array of Python str: numpy's own str scalars would reach the database driver
    through its slow path of adapters (twice the insert time in SQLite)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values.astype(str).tolist()
    return out


def duplicates(lines: pd.DataFrame, ids: pd.DataFrame) -> list[Problem]:
    """The same identity twice in one export: an input error naming both rows."""
    twice = ids.duplicated(keep=False).to_numpy()
    if not twice.any():
        return []
    rows = lines["source_row"].to_numpy()
    found = ids[twice].assign(row=rows[twice]).groupby(["doc_id", "doc_year", "line"], sort=False)["row"].apply(list)
    problems = [
        Problem("ledger.duplicate", msg("document {doc} of {year}, line {line} is also on export row {rows}: "
                                        "each line of a document must appear once (give line_no, or remove the "
                                        "repeated line)",
                                        doc=doc, year=year, line=line, rows=", ".join(map(str, found_rows[:-1]))), row=int(found_rows[-1]), field="doc_id")
        for (doc, year, line), found_rows in found.items()
    ]
    return _capped(problems, N_("lines repeated"))


def _capped(problems: list[Problem], what: str) -> list[Problem]:
    if len(problems) <= MAX_SHOWN:
        return problems
    return [*problems[:MAX_SHOWN], Problem(problems[0].code, msg("and {more} more {what}", more=len(problems) - MAX_SHOWN,
                                                                 what=what))]


@dataclass(frozen=True)
class Posted:
    added: int  # lines posted by this run
    unchanged: int  # lines the ledger already held with the same figures
    entries: int  # point entries added (lots and debits)
    run_id: int = 0  # the run's row in ``runs``

    def __add__(self, other: "Posted") -> "Posted":
        """Two parts of one run posted (the Dask engine's buckets): their counts summed."""
        return Posted(self.added + other.added, self.unchanged + other.unchanged, self.entries + other.entries,
                      self.run_id or other.run_id)


class Session:
    """One run on the ledger inside its transaction: the opening state for pricing, then posting."""

    def __init__(self, connection: Connection, lines: pd.DataFrame, book):
        self.connection = connection
        self.book = book
        self.months = book.settings.bonus_expiry_months
        problems = duplicates(lines, ids := identities(lines))
        if problems:
            raise InputError(problems)
        debit = lines["qty"].to_numpy(dtype=np.int64) < 0
        if "bonus_paid" in lines:
            debit |= lines["bonus_paid"].to_numpy(dtype=np.int64, na_value=0) != 0
        self.identities = ids.set_axis(lines["source_row"].to_numpy())
        self.documents = set(zip(ids["doc_id"].tolist(), ids["doc_year"].tolist()))
        self.clients = lines["client_id"]
        at = np.flatnonzero(debit)  # the lines that spend or return: their clients' lots and sales are read
        debtors = pd.DataFrame({"client_id": text_values(lines["client_id"], at), "sku": text_values(lines["sku"], at)})
        _temporary(connection, "debtors", debtors.drop_duplicates(), "client_id TEXT, sku TEXT")
        years = sorted(set(ids["doc_year"].tolist()))
        self.known = pd.DataFrame(columns=["source_row", "id", *COMPARED])
        if connection.execute(select(lines_table.c.id).where(lines_table.c.doc_year.in_(years)).limit(1)).first():
            # lines of these years are posted: which of the export's identities are among them
            _temporary(connection, "incoming", ids.assign(source_row=lines["source_row"].to_numpy()),
                       "doc_id TEXT, doc_year INTEGER, line TEXT, source_row BIGINT")
            self.known = _records(connection.execute(text(
                f"SELECT i.source_row, l.id, {', '.join('l.' + c for c in COMPARED)} FROM incoming i JOIN lines l "
                "ON l.doc_id = i.doc_id AND l.doc_year = i.doc_year AND l.line = i.line")).all(),
                columns=["source_row", "id", *COMPARED])
        _temporary(connection, "own", self.known[["id"]], "id BIGINT PRIMARY KEY")

    def opening(self) -> Opening:
        """The ledger's lots, debts and returnable sales of the export's clients that spend or return,
        this export's own lines (a re-run) left out."""
        c = self.connection
        not_own = "NOT EXISTS (SELECT 1 FROM own o WHERE o.id = {})"
        clients = "(SELECT DISTINCT client_id FROM debtors)"
        lots = _records(c.execute(text(
            "SELECT e.id, e.client_id, e.booked_on, e.available_on, e.expires_on, e.amount, e.line_id, "
            "COALESCE(SUM(d.amount), 0), "
            "COALESCE(SUM(CASE WHEN e.expires_on IS NULL OR d.booked_on < e.expires_on THEN d.amount ELSE 0 END), 0) "
            f"FROM entries e LEFT JOIN entries d ON d.{DEBITS} AND d.lot_id = e.id AND {not_own.format('d.line_id')} "
            f"WHERE e.kind IN {LOT_KINDS} AND e.client_id IN {clients} "
            f"AND (e.line_id IS NULL OR {not_own.format('e.line_id')}) GROUP BY e.id, e.client_id, e.booked_on, "
            "e.available_on, e.expires_on, e.amount, e.line_id ORDER BY e.booked_on, e.id")).all(),
            columns=["ref", "client_id", "booked_on", "available_on", "expires_on", "amount", "line_id", "debited",
                     "before"])
        frame = pd.DataFrame({
            "client_id": lots["client_id"].astype(object), "fifo": np.arange(len(lots)), "rank": -1,
            "available_on": _days(lots["available_on"]), "expires_on": _days(lots["expires_on"], NEVER),
            "remaining": (lots["amount"] + lots["debited"]).astype(np.int64),
            "before_expiry": (lots["amount"] + lots["before"]).astype(np.int64),
            "ref": lots["ref"].astype(np.int64), "accrued_on": _days(lots["booked_on"]),
            "line_id": lots["line_id"].fillna(-1).astype(np.int64),
        })
        debts = dict(c.execute(text(
            f"SELECT client_id, SUM(amount) FROM entries WHERE {DEBITS} AND lot_id IS NULL "
            f"AND client_id IN {clients} AND (line_id IS NULL OR {not_own.format('line_id')}) GROUP BY client_id")).all())
        figures = ", ".join(f"s.{name}" for name in FIGURES)
        left = ", ".join(f"s.{name} + COALESCE(SUM(r.{name}), 0)" for name in FIGURES)
        sales = _records(c.execute(text(
            f"SELECT s.id, s.doc_id, s.doc_year, s.line, s.client_id, s.sku, s.booked_on, s.qty, "
            f"s.qty + COALESCE(SUM(r.qty), 0), {figures}, {left} FROM lines s "
            "JOIN debtors p "
            "ON p.client_id = s.client_id AND p.sku = s.sku "
            f"LEFT JOIN lines r ON r.sale_id = s.id AND {not_own.format('r.id')} "
            f"WHERE s.qty > 0 AND {not_own.format('s.id')} GROUP BY s.id, s.doc_id, s.doc_year, s.line, s.client_id, "
            f"s.sku, s.booked_on, s.qty, {figures}")).all(), columns=SALE_COLUMNS)
        sales["day"] = _days(sales["day"])
        documents, uses = self._coupons()
        return Opening(frame, {k: int(v) for k, v in debts.items()}, sales, documents, uses)

    def _coupons(self) -> tuple[pd.DataFrame, dict]:
        """The export's clients' earlier qualifying documents and coupon uses, its own documents left out."""
        if not self.book.coupon_rules:
            return pd.DataFrame(columns=COUPON_DOCUMENT_COLUMNS), {}
        c = self.connection
        _temporary(c, "clients", pd.DataFrame({"client_id": pd.unique(text_values(self.clients))}), "client_id TEXT")
        documents = _records(c.execute(text(
            "SELECT rule_id, client_id, doc_id, doc_year, booked_on FROM coupon_documents "
            "WHERE client_id IN (SELECT client_id FROM clients)")).all(), columns=COUPON_DOCUMENT_COLUMNS)
        own = [(d, y) in self.documents for d, y in zip(documents["doc_id"], documents["doc_year"])]
        documents = documents[~np.asarray(own, dtype=bool)].reset_index(drop=True)
        used = c.execute(text("SELECT code, used_doc, used_on FROM coupons WHERE used_doc IS NOT NULL "
                              "AND client_id IN (SELECT client_id FROM clients)")).all()
        uses = {code: (doc, pd.Timestamp(day)) for code, doc, day in used
                if (doc, pd.Timestamp(day).year) not in self.documents}
        return documents, uses

    def post(self, priced: pd.DataFrame, source: str, opening: Opening,
             kept: dict[str, pd.DataFrame] | None = None, run_id: int | None = None) -> Posted:
        """Post the priced lines (conflicts: InputError, nothing posted) and what pricing gave the ledger
        to keep (``kept``: coupons and qualifying documents); the caller's transaction commits. A new
        row in ``runs``, or ``run_id``'s (a part of a run posted before in this transaction; its count
        of lines grows)."""
        c = self.connection
        rows = priced["source_row"].to_numpy()
        known = self.known.set_index("source_row").reindex(rows)
        seen = known["id"].notna().to_numpy()
        mine = _line_frame(priced, self.identities.loc[rows].reset_index(drop=True))
        self._refuse_conflicts(priced, mine, known, seen)
        if run_id is None:
            run_id = c.execute(insert(runs).values(source=source, posted_at=datetime.now(), entries=int((~seen).sum()))
                               ).inserted_primary_key[0]
        else:
            c.execute(runs.update().where(runs.c.id == run_id).values(entries=runs.c.entries + int((~seen).sum())))
        next_line = int(c.execute(select(func.coalesce(func.max(lines_table.c.id), 0))).scalar()) + 1
        line_id = np.where(seen, known["id"].fillna(0).to_numpy(dtype=np.int64), 0)
        line_id[~seen] = next_line + np.arange(int((~seen).sum()))
        sale = priced["sale_ref"].to_numpy(dtype=np.int64) if "sale_ref" in priced else np.full(len(priced), -1)
        sale_id = np.where(sale >= 0, sale, np.where(sale <= -2, line_id[np.maximum(-sale - 2, 0)], -1))
        deferred = self._deferred(priced)
        fresh = mine[~seen].assign(id=line_id[~seen], sale_id=sale_id[~seen], deferred=deferred[~seen], run_id=run_id)
        fresh["sale_id"] = fresh["sale_id"].astype(object).where(fresh["sale_id"] >= 0, None)
        _append(c, "lines", fresh[[col.name for col in lines_table.columns]])
        new_entries = self._entries(priced, opening, seen, line_id, run_id)
        _append(c, "entries", new_entries[[col.name for col in entries.columns]])
        self._keep_coupons(kept or {}, run_id)
        return Posted(int((~seen).sum()), int(seen.sum()), len(new_entries), run_id)

    def _keep_coupons(self, kept: dict[str, pd.DataFrame], run_id: int) -> None:
        """Coupons issued or used and qualifying documents: new ones added, uses recorded (a re-run adds nothing)."""
        c = self.connection
        documents = kept.get("coupon_documents")
        if documents is not None and len(documents):
            rows = documents.assign(booked_on=_dates(days(documents["date"].to_numpy())), run_id=run_id)
            _append(c, "coupon_documents", rows[["rule_id", "client_id", "doc_id", "doc_year", "booked_on", "run_id"]],
                    skip_existing=True)
        coupons = kept.get("coupons")
        if coupons is None or not len(coupons):
            return
        used_on = pd.to_datetime(coupons["used_on"])
        rows = pd.DataFrame({
            "code": coupons["code"], "rule_id": coupons["rule_id"], "client_id": coupons["client_id"],
            "issued_on": _dates(days(coupons["issued_on"].to_numpy())), "valid_to": _dates(days(coupons["valid_to"].to_numpy())),
            "issued_doc": coupons["issued_doc"], "used_doc": coupons["used_doc"].astype(object),
            "used_on": np.where(used_on.isna(), None, _dates(days(used_on.fillna(pd.Timestamp(0)).to_numpy()))),
            "run_id": run_id,
        })
        _append(c, "coupons", rows, skip_existing=True)
        used = rows[rows["used_doc"].notna()]
        if len(used):
            c.exec_driver_sql(_placeholders(c, "UPDATE coupons SET used_doc = ?, used_on = ? WHERE code = ?"),
                              list(zip(used["used_doc"], used["used_on"], used["code"])))

    def _refuse_conflicts(self, priced, mine, known, seen) -> None:
        if not seen.any():
            return
        before = known[list(COMPARED)][seen].reset_index(drop=True)
        now = mine[list(COMPARED)][seen].reset_index(drop=True)
        before["booked_on"] = pd.to_datetime(before["booked_on"])
        now["booked_on"] = pd.to_datetime(now["booked_on"])
        differs = ~(before.astype(str) == now.astype(str)).all(axis=1).to_numpy()
        if not differs.any():
            return
        units = self.book.settings.minor_units
        rows = priced["source_row"].to_numpy()[seen][differs]
        problems = [
            Problem("ledger.conflict", msg("this line was posted before with other figures ({before}); now "
                                           "{now}; the ledger keeps what was posted: correct the export, "
                                           "or post corrections as new lines",
                                           before=_figures(b, units), now=_figures(n, units)), row=int(row), field="doc_id")
            for row, b, n in zip(rows.tolist(), before[differs].itertuples(index=False), now[differs].itertuples(index=False))
        ]
        raise InputError(_capped(problems, N_("conflicting lines")))

    def _deferred(self, priced: pd.DataFrame) -> np.ndarray:
        """IFRS 15 revenue deferred on each line: the formula with the estimate in force on its date
        (negated on an unmatched return), a matched return's share of its sale's."""
        net = priced["net"].to_numpy(dtype=np.int64)
        accrued = priced["bonus_accrued"].to_numpy(dtype=np.int64)
        pct = self.book.expected_redemption_scaled(priced["date"].to_numpy(dtype="datetime64[D]"))
        own = np.sign(accrued) * deferred_revenue(np.abs(net), np.abs(accrued), pct)
        if "sale_ref" not in priced:
            return own
        return np.where(priced["sale_ref"].to_numpy() != -1, priced["return_deferred"].to_numpy(dtype=np.int64), own)

    def _entries(self, priced, opening: Opening, seen, line_id, run_id) -> pd.DataFrame:
        """The fresh lines' lots, and their debits taken out of lots as one run over every line would."""
        c = self.connection
        redeemed = priced["bonus_redeemed"].to_numpy(dtype=np.int64)
        accrued = priced["bonus_accrued"].to_numpy(dtype=np.int64)
        day = days(priced["date"].to_numpy())
        mb = priced["moneyback_days"].to_numpy(dtype=np.int64, na_value=0) if "moneyback_days" in priced else 0
        client_code, client_names = text_codes(priced["client_id"])
        client = np.asarray(client_names, dtype=object)[client_code]
        next_entry = int(c.execute(select(func.coalesce(func.max(entries.c.id), 0))).scalar()) + 1
        lot = ((accrued > 0) | (redeemed < 0)) & ~seen
        lot_at = np.flatnonzero(lot)
        lot_id = dict(zip(export_ref(lot_at).tolist(), (next_entry + np.arange(len(lot_at))).tolist()))
        next_entry += len(lot_at)
        lots = pd.DataFrame({
            "id": next_entry - len(lot_at) + np.arange(len(lot_at)), "kind": np.where(accrued > 0, "accrual", "refund")[lot],
            "client_id": client[lot], "booked_on": _dates(day[lot]), "amount": np.where(accrued > 0, accrued, -redeemed)[lot],
            "line_id": line_id[lot], "lot_id": None,
            "available_on": _dates(np.where(accrued > 0, day + mb, day)[lot]),
            "expires_on": _dates(add_months(day[lot], self.months)), "reward": None, "run_id": run_id,
        })
        debit = (redeemed > 0) | (accrued < 0)
        debiting = np.zeros(len(client_names) + 1, dtype=bool)
        debiting[client_code[debit & ~seen]] = True
        at = np.flatnonzero(debiting[client_code])
        if not len(at):
            return lots
        if seen[at].any():  # the export's lines posted before: their lots are in the ledger already
            stored = dict(c.execute(text(
                f"SELECT line_id, id FROM entries WHERE kind IN {LOT_KINDS} AND line_id IN "
                "(SELECT id FROM own)")).all())
            lot_id.update({int(r): stored[int(line_id[p])] for p, r in zip(
                np.flatnonzero(seen), export_ref(np.flatnonzero(seen)).tolist()) if int(line_id[p]) in stored})
        lots_frame, debits = lots_and_debits(priced, at, opening, self.months, redeemed[at])
        run = simulate(lots_frame, debits, opening.debts, "post")
        pieces = run.pieces
        debit_at = debits["at"].to_numpy()[pieces["debit"].to_numpy()]
        pieces = pieces[~seen[debit_at]]
        debit_at = debit_at[~seen[debit_at]]
        refs = pieces["ref"].to_numpy()
        taken = pd.DataFrame({
            "id": next_entry + np.arange(len(pieces)),
            "kind": np.where(redeemed[debit_at] > 0, "redemption", "reversal"), "client_id": client[debit_at],
            "booked_on": _dates(day[debit_at]), "amount": -pieces["amount"].to_numpy(dtype=np.int64),
            "line_id": line_id[debit_at],
            "lot_id": pd.array([None if r == -1 else (r if r >= 0 else lot_id[r]) for r in refs.tolist()],
                               dtype="Int64"),  # a debt's debit has none: not a float NaN, which COPY would get as 42.0
            "available_on": None, "expires_on": None, "reward": None, "run_id": run_id,
        })
        return pd.concat([lots, taken], ignore_index=True)


def _records(rows, columns: list[str]) -> pd.DataFrame:
    """Query rows as a frame. SQLAlchemy's Row is not a tuple: pandas would probe each one for
    attributes, every probe a caught exception (0.9 s for 100 000 rows)."""
    return pd.DataFrame.from_records([tuple(row) for row in rows], columns=columns)


def _figures(row, units: int) -> Message:
    """A posted line's figures for a message: amounts exact, numbers in the language's way."""
    from decimal import Decimal

    return msg("client {client}, {sku} × {qty} on {day}, gross {gross}, net {net}, bonus {bonus}, paid with bonus {paid}",
               client=row.client_id, sku=row.sku, qty=Number(Decimal(int(row.qty)).scaleb(-QTY_DECIMALS), most=None),
               day=f"{pd.Timestamp(row.booked_on):%d.%m.%Y}", gross=Number.money(row.gross, units),
               net=Number.money(row.net, units), bonus=Number.money(row.bonus_accrued, units),
               paid=Number.money(row.bonus_redeemed, units))


def _line_frame(priced: pd.DataFrame, ids: pd.DataFrame) -> pd.DataFrame:
    """The priced lines as ``lines`` rows (their identities ``ids``, client, figures), without ids."""
    return ids.assign(
        client_id=text_values(priced["client_id"]), sku=text_values(priced["sku"]),
        booked_on=_dates(days(priced["date"].to_numpy())), qty=priced["qty"].to_numpy(dtype=np.int64),
        **{name: priced[name].to_numpy(dtype=np.int64) for name in MONEY_FIGURES if name != "deferred"},
        source_row=priced["source_row"].to_numpy(dtype=np.int64))


def _days(values, missing: int = 0) -> np.ndarray:
    stamps = pd.to_datetime(pd.Series(values), errors="coerce")
    out = stamps.to_numpy(dtype="datetime64[D]").astype(np.int64)
    return np.where(stamps.isna().to_numpy(), missing, out)


def _dates(day_numbers) -> np.ndarray:
    """Days since 1970 as ISO dates (what SQLite stores and COPY reads); NEVER as None."""
    day_numbers = np.asarray(day_numbers, dtype=np.int64)
    iso = _text(day_numbers.astype("datetime64[D]"))
    iso[day_numbers >= NEVER] = None
    return iso


def _temporary(connection: Connection, name: str, frame: pd.DataFrame, columns: str) -> None:
    """A temporary table of this transaction, filled with ``frame`` (its columns in the table's order)."""
    if connection.dialect.name == "postgresql":  # made again by the next part of a run in the same transaction
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS pg_temp.{name}")
        connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({columns}) ON COMMIT DROP")
    else:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
        connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({columns})")
    _append(connection, name, frame)
    if connection.dialect.name == "postgresql":  # the planner knows temporary tables only once analysed
        connection.exec_driver_sql(f"ANALYZE {name}")


def _placeholders(connection: Connection, statement: str) -> str:
    """``?`` placeholders as the driver wants them (psycopg: ``%s``)."""
    return statement.replace("?", "%s") if connection.dialect.name == "postgresql" else statement


INSERT_BATCH = 100_000  # rows per executemany: the tuples of one batch in memory at a time


def _append(connection: Connection, table: str, frame: pd.DataFrame, skip_existing: bool = False) -> None:
    """Insert every row of ``frame`` (its columns named as the table's): PostgreSQL through COPY, SQLite
    through executemany of plain tuples (SQLAlchemy's per-row parameter handling left out).
    ``skip_existing``: rows whose key is there already are left as they are."""
    if frame.empty:
        return
    names = ", ".join(frame.columns)
    if connection.dialect.name == "postgresql" and not skip_existing:
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, header=False, na_rep="\\N")
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv, NULL '\\N')") as copy:
            copy.write(buffer.getvalue())
        return
    statement = _placeholders(connection, f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(frame.columns))})"
                                          + " ON CONFLICT DO NOTHING" * skip_existing)
    # millions of fresh tuples would set off the cyclic garbage collector again and again, each time
    # walking every object of the run (measured: a quarter of the insert time); tuples of ints and str
    # hold no cycles
    enabled = gc.isenabled()
    gc.disable()
    try:
        for start in range(0, len(frame), INSERT_BATCH):
            part = frame.iloc[start:start + INSERT_BATCH]
            values = [_plain(part[name]) for name in part.columns]
            connection.exec_driver_sql(statement, list(zip(*values)))
    finally:
        if enabled:
            gc.enable()


def _plain(column: pd.Series) -> list:
    """A column as Python values for the driver: ints, str, None for a blank."""
    values = column.to_numpy()
    if values.dtype != object:
        return values.tolist()
    blank = pd.isna(column).to_numpy()
    return np.where(blank, None, values).tolist() if blank.any() else list(values)


@contextmanager
def session(engine: Engine, lines: pd.DataFrame, book) -> Iterator[Session]:
    """A run on the ledger: the transaction and its write lock for the whole run; committed when
    the block ends without an error (the output files written inside it), else nothing is posted."""
    with transaction(engine) as connection:
        yield Session(connection, lines, book)


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """The transaction of a run posted in parts (a Session a part, each posted before the next one is
    made, so a part finds what the earlier ones posted), holding the ledger's write lock throughout."""
    with writing(engine) as connection:
        if connection.dialect.name == "sqlite":  # index pages stay in the process while the run inserts
            connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")
        yield connection


LOT_VALUES = f"""
SELECT e.client_id, e.available_on, e.expires_on,
       e.amount + COALESCE(t.debited, 0) AS held,
       CASE WHEN e.expires_on <= :as_of THEN e.amount + COALESCE(t.before_expiry, 0) ELSE 0 END AS at_expiry
FROM entries e LEFT JOIN (
    SELECT d.lot_id, SUM(CASE WHEN d.booked_on <= :as_of THEN d.amount ELSE 0 END) AS debited,
           SUM(CASE WHEN d.booked_on < l.expires_on THEN d.amount ELSE 0 END) AS before_expiry
    FROM entries d JOIN entries l ON l.id = d.lot_id
    WHERE d.{DEBITS} AND d.lot_id IS NOT NULL GROUP BY d.lot_id
) t ON t.lot_id = e.id
WHERE e.kind IN {LOT_KINDS} AND e.booked_on <= :as_of {{where}}
"""  # per lot as of a day: what it holds (its debits taken off) and, once expired, what it held at expiry


def balances(engine: Engine, as_of: date) -> pd.DataFrame:
    """Per client as of a day (SPEC §8): available, pending (lots inside their money-back window) and
    balance; expired points gone. The arithmetic of ledger.lots as SQL sums, each read from an index:

    * the lots not expired by then (ix_entries_lots alone, once, in client order): the balance of
      lots without debits; an expired lot without debits gave up all it held;
    * of those, the ones still inside their money-back window (a range of ix_entries_window): pending;
    * the debits (the partial index of debits): each counts where its lot counts, pending while the
      lot is;
    * the expired lots that had debits (few): their amount less what they gave up at expiry (what they
      held then, never below 0), beside their debits counted above.
    """
    live = "({t}expires_on IS NULL OR {t}expires_on > :as_of)"
    queries = [
        f"""SELECT client_id, 0, SUM(CASE WHEN {live.format(t='')} THEN amount ELSE 0 END) FROM entries
            WHERE {LOTS} AND booked_on <= :as_of GROUP BY client_id""",
        # one row per lot, no grouping: so that the range of ix_entries_window is read, not the whole table
        f"""SELECT client_id, amount, -amount FROM entries
            WHERE {LOTS} AND available_on > :as_of AND booked_on <= :as_of AND {live.format(t='')}""",
        f"""SELECT d.client_id,
                   SUM(CASE WHEN l.available_on > :as_of AND {live.format(t='l.')} THEN d.amount ELSE 0 END),
                   SUM(CASE WHEN l.available_on > :as_of AND {live.format(t='l.')} THEN 0 ELSE d.amount END)
            FROM entries d LEFT JOIN entries l ON l.id = d.lot_id
            WHERE d.{DEBITS} AND d.booked_on <= :as_of GROUP BY d.client_id""",
        f"""SELECT client_id, 0, SUM(amount - CASE WHEN held > 0 THEN held ELSE 0 END) FROM (
                SELECT l.client_id, l.amount,
                       l.amount + SUM(CASE WHEN d.booked_on < l.expires_on THEN d.amount ELSE 0 END) AS held
                FROM entries d JOIN entries l ON l.id = d.lot_id
                WHERE d.{DEBITS} AND l.expires_on <= :as_of GROUP BY l.id, l.client_id, l.amount) x
            GROUP BY client_id""",
    ]
    columns = ["client_id", "pending", "available"]
    with reading(engine) as connection:
        parts = [pd.DataFrame(_driver_rows(connection, query, as_of), columns=columns) for query in queries]
    table, changes = parts[0], pd.concat(parts[1:], ignore_index=True)
    if len(changes):  # few clients: added to the lots' table by name
        table = pd.concat([table, changes], ignore_index=True).groupby("client_id", as_index=False)[columns[1:]].sum()
    table = table.astype({"pending": np.int64, "available": np.int64}).sort_values("client_id")
    table = table[["client_id", "available", "pending"]]
    table["balance"] = table["available"] + table["pending"]
    return table.reset_index(drop=True)


def _driver_rows(connection: Connection, query: str, as_of: date) -> list[tuple]:
    """The rows of ``query`` (its ``:as_of`` the day) as the driver gives them, plain tuples: SQLAlchemy's
    Row objects, which pandas probes attribute by attribute, took most of the time for 100 000 clients."""
    marks = query.count(":as_of")
    if connection.dialect.name == "postgresql":
        statement, values = query.replace(":as_of", "%s"), (as_of,) * marks
    else:
        statement, values = query.replace(":as_of", "?"), (as_of.isoformat(),) * marks
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(statement, values)
        return cursor.fetchall()
    finally:
        cursor.close()


def _client_entries(connection: Connection, client_id: str) -> pd.DataFrame:
    """A client's entries with their lines, one row per line and kind (pieces of one debit summed)."""
    rows = connection.execute(text(
        "SELECT e.booked_on, e.kind, SUM(e.amount), MIN(e.available_on), MIN(e.expires_on), l.doc_id, l.doc_year, "
        "l.line, MIN(e.reward), r.source FROM (SELECT * FROM entries WHERE client_id = :client AND "
        f"{LOTS} UNION ALL SELECT * FROM entries WHERE client_id = :client AND {DEBITS}) e "
        "LEFT JOIN lines l ON l.id = e.line_id JOIN runs r ON r.id = e.run_id "
        "GROUP BY e.booked_on, e.kind, e.line_id, l.doc_id, l.doc_year, l.line, r.source, "
        "CASE WHEN e.line_id IS NULL THEN e.id ELSE 0 END "
        "ORDER BY e.booked_on, MIN(e.id)"), {"client": client_id}).all()
    frame = _records(rows, columns=["booked_on", "kind", "amount", "available_on", "expires_on", "doc_id",
                                        "doc_year", "line", "reward", "source"])
    frame["document"] = [r if r else (f"{d}, line {n}" if d is not None else "")  # the date says the year
                         for d, n, r in zip(frame["doc_id"], frame["line"], frame["reward"])]
    return frame


def _expiries(connection: Connection, client_id: str, until: date) -> pd.DataFrame:
    """The client's lots that expired by ``until``, each with what it gave up (> 0 only)."""
    rows = connection.execute(text(
        LOT_VALUES.format(where="AND e.client_id = :client").replace("SELECT e.client_id,", "SELECT e.client_id, e.id,")),
        {"as_of": until, "client": client_id}).all()
    frame = _records(rows, columns=["client_id", "id", "available_on", "expires_on", "held", "at_expiry"])
    frame = frame[frame["at_expiry"] > 0]
    return pd.DataFrame({"booked_on": pd.to_datetime(frame["expires_on"]).dt.date, "kind": "expiry",
                         "amount": -frame["at_expiry"].astype(np.int64)})


def history(engine: Engine, client_id: str, as_of: date | None = None) -> pd.DataFrame:
    """A client's entries in booking order, with the expiries of its lots up to ``as_of`` (default today)."""
    as_of = as_of or date.today()
    with reading(engine) as connection:
        moves = _client_entries(connection, client_id)
        gone = _expiries(connection, client_id, as_of)
    moves = moves[pd.to_datetime(moves["booked_on"]).dt.date <= as_of]
    frame = pd.concat([moves[["booked_on", "kind", "amount", "available_on", "document", "source"]],
                       gone.assign(available_on=None, document="", source="expired, unspent")], ignore_index=True)
    frame["booked_on"] = pd.to_datetime(frame["booked_on"]).dt.date
    order = np.lexsort([(frame["kind"] == "expiry").to_numpy(), pd.to_datetime(frame["booked_on"]).to_numpy()])
    frame = frame.iloc[order].reset_index(drop=True)
    frame["amount"] = frame["amount"].astype(np.int64)
    return frame.rename(columns={"document": "line"})


STATEMENT_HORIZON = 90  # days ahead for the points that will expire


@dataclass(frozen=True)
class Statement:
    client_id: str
    start: date
    end: date
    opening: int  # balance at the end of the day before ``start``
    movements: pd.DataFrame  # booked_on, kind, document, amount, balance (running)
    closing: int
    expiring: pd.DataFrame  # expires_on, amount: points that will expire in the next 90 days


def statement(engine: Engine, client_id: str, start: date, end: date) -> Statement:
    """What a sales manager sends a client: the opening balance, every movement from ``start`` to ``end``
    with its document, the closing balance, and the points expiring in the 90 days after ``end``."""
    if not _has_client(engine, client_id):
        raise InputError([Problem("ledger.client", msg("client {client_id} has no entries in the ledger; check "
                                                       "the client code (ledger balance lists every client)",
                                                       client_id=client_id))])
    opening = _balance_of(engine, client_id, start - timedelta(days=1))
    closing = _balance_of(engine, client_id, end)
    full = history(engine, client_id, end)
    day = pd.to_datetime(full["booked_on"]).dt.date
    moves = full[(day >= start) & (day <= end)].reset_index(drop=True)
    moves = moves.assign(balance=opening + np.cumsum(moves["amount"].to_numpy(dtype=np.int64)))
    horizon = end + timedelta(days=STATEMENT_HORIZON)
    later = _expiries_ahead(engine, client_id, end, horizon)
    return Statement(client_id, start, end, opening,
                     moves[["booked_on", "kind", "line", "amount", "balance"]].rename(columns={"line": "document"}),
                     closing, later)


def _has_client(engine: Engine, client_id: str) -> bool:
    with reading(engine) as connection:  # a client with entries has a lot or a debit
        return any(connection.execute(text(f"SELECT 1 FROM entries WHERE client_id = :client AND {kinds} LIMIT 1"),
                                      {"client": client_id}).first() for kinds in (LOTS, DEBITS))


def _balance_of(engine: Engine, client_id: str, as_of: date) -> int:
    table = balances(engine, as_of)
    mine = table[table["client_id"] == client_id]
    return int(mine["balance"].iat[0]) if len(mine) else 0


def _expiries_ahead(engine: Engine, client_id: str, end: date, horizon: date) -> pd.DataFrame:
    """Lots that will expire after ``end`` up to ``horizon``, with what they hold at ``end`` (> 0)."""
    with reading(engine) as connection:
        rows = connection.execute(text(
            LOT_VALUES.format(where="AND e.client_id = :client AND e.expires_on > :as_of AND e.expires_on <= :horizon")),
            {"as_of": end, "client": client_id, "horizon": horizon}).all()
    frame = _records(rows, columns=["client_id", "available_on", "expires_on", "held", "at_expiry"])
    frame = frame[frame["held"] > 0]
    out = frame.groupby("expires_on", as_index=False)["held"].sum().rename(columns={"held": "amount"})
    out["expires_on"] = pd.to_datetime(out["expires_on"]).dt.date
    return out.astype({"amount": np.int64})


def liability(engine: Engine, as_of: date, book, by: str = "month") -> pd.DataFrame:
    """The IFRS 15 liability per month (or year) up to ``as_of``: opening, deferred, recognised, closing.

    Each period uses the expected redemption in force on its last day (the tariff
    workbook's RedemptionEstimates, else its Setting): points expected to be redeemed
    to date = min(accrued to date × that estimate, accrued to date − expired to date).
    An earlier period is never restated: its figures are those of its own estimate.
    """
    columns = ["period", "opening", "deferred", "recognised", "closing"]
    with reading(engine) as connection:
        rows = connection.execute(select(lines_table.c.booked_on, lines_table.c.deferred, lines_table.c.bonus_accrued,
                                         lines_table.c.bonus_redeemed).where(lines_table.c.booked_on <= as_of)).all()
        gone = connection.execute(text(LOT_VALUES.format(where="AND e.kind <> 'reward'")), {"as_of": as_of}).all()
    frame = _records(rows, columns=["booked_on", "deferred", "accrued", "redeemed"])
    if frame.empty:
        return pd.DataFrame(columns=columns)
    freq = "M" if by == "month" else "Y"
    frame["period"] = pd.to_datetime(frame["booked_on"]).dt.to_period(freq)
    periods = pd.period_range(frame["period"].min(), pd.Timestamp(as_of).to_period(freq), freq=freq)
    sums = frame.groupby("period")[["deferred", "accrued", "redeemed"]].sum().reindex(periods, fill_value=0)
    expired = _records(gone, columns=["client_id", "available_on", "expires_on", "held", "at_expiry"])
    expired = expired[expired["at_expiry"] > 0]
    by_period = (expired.assign(period=pd.to_datetime(expired["expires_on"]).dt.to_period(freq))
                 .groupby("period")["at_expiry"].sum().reindex(periods, fill_value=0))
    accrued_to_date = np.cumsum(sums["accrued"].to_numpy(dtype=np.int64))
    expired_to_date = np.cumsum(by_period.to_numpy(dtype=np.int64))
    last_days = np.array([min(p.end_time.date(), as_of) for p in periods], dtype="datetime64[D]")
    from ..money import PCT_SCALE, mul_div_round

    estimate = book.expected_redemption_scaled(last_days)
    expected = np.minimum(mul_div_round(accrued_to_date, estimate, 100 * PCT_SCALE), accrued_to_date - expired_to_date)
    report = liability_report(pd.DataFrame({
        "period": [str(p) for p in periods], "deferred": sums["deferred"].to_numpy(dtype=np.int64),
        "redeemed": sums["redeemed"].to_numpy(dtype=np.int64), "expected": expected,
    }))
    return report[columns]


def post_rewards(engine: Engine, rewards: pd.DataFrame, source: str, expiry_months: int) -> int:
    """Post reward lots (reward key, client_id, day, amount), available at once; a key posted before is
    left as it is. Returns how many were added."""
    if rewards.empty:
        return 0
    with writing(engine) as c:
        return post_reward_lots(c, rewards, source, expiry_months)


def post_reward_lots(c: Connection, rewards: pd.DataFrame, source: str, expiry_months: int) -> int:
    """post_rewards inside the caller's transaction."""
    known = {key for (key,) in c.execute(select(entries.c.reward).where(entries.c.reward.is_not(None))).all()}
    fresh = rewards[~rewards["reward"].isin(known)]
    if fresh.empty:
        return 0
    run_id = c.execute(insert(runs).values(source=source, posted_at=datetime.now(), entries=0)).inserted_primary_key[0]
    first = int(c.execute(select(func.coalesce(func.max(entries.c.id), 0))).scalar()) + 1
    day = days(fresh["day"].to_numpy())
    rows = pd.DataFrame({
        "id": first + np.arange(len(fresh)), "kind": "reward", "client_id": fresh["client_id"].to_numpy(dtype=object),
        "booked_on": _dates(day), "amount": fresh["amount"].to_numpy(dtype=np.int64), "line_id": None,
        "lot_id": None, "available_on": _dates(day), "expires_on": _dates(add_months(day, expiry_months)),
        "reward": fresh["reward"].to_numpy(dtype=object), "run_id": run_id,
    })
    _append(c, "entries", rows[[col.name for col in entries.columns]])
    return len(rows)


def post(engine: Engine, priced: pd.DataFrame, source: str, book) -> Posted:
    """Post lines priced elsewhere (a batch script's frame) in one transaction of their own."""
    with session(engine, priced, book) as run:
        return run.post(priced, source, run.opening())
