"""The bonus ledger in a real database: opening it, posting a priced export, balances (SPEC §8).

A path means an SQLite file; anything with ``://`` is an SQLAlchemy URL (PostgreSQL
for a shared ledger). Opening brings the schema to the newest Alembic version.

Posting is idempotent and all or nothing: each export line is known by its document
and its line within it (``line_no``, else the SKU and its occurrence in the document).
A line posted before with the same figures adds nothing; with different figures it is
a conflict, and the run posts nothing. Entries: an accrual (pending until its
money-back window ends), a reversal (a return's negative accrual, at once), a
redemption (points spent), a refund (points given back on a return).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, case, create_engine, event, func, insert, select, tuple_

from ..problems import InputError, Problem
from .connect import MIGRATIONS, open_ledger
from .schema import entries, runs

KEY_BATCH = 500  # line keys looked up per query


def line_keys(lines: pd.DataFrame) -> np.ndarray:
    """Each export line's identity: its document and its line number (else the SKU and its occurrence)."""
    doc = lines["doc_id"].astype(str).to_numpy()
    if "line_no" in lines.columns and lines["line_no"].notna().all():
        within = lines["line_no"].astype(np.int64).astype(str).to_numpy()
    else:  # no line numbers: the SKU and its occurrence within the document
        sku = lines["sku"].astype(str)
        nth = sku.groupby([lines["doc_id"].astype(str), sku]).cumcount().to_numpy()
        within = (sku.to_numpy() + "#" + nth.astype(str)).astype(object)
    return np.char.add(np.char.add(doc.astype(str), "\x1f"), within.astype(str))


def stored_points(engine: Engine, lines: pd.DataFrame, expiry_months: int = 0) -> pd.DataFrame:
    """The entries the ledger holds for the export's clients, except this export's own lines (a re-run),
    with the dated expiries of those points."""
    clients = lines["client_id"].astype(str).unique().tolist()
    own = set(line_keys(lines).tolist())
    rows = []
    with engine.connect() as connection:
        for start in range(0, len(clients), KEY_BATCH):
            rows.extend(connection.execute(
                select(entries.c.line_key, entries.c.client_id, entries.c.kind, entries.c.booked_on,
                       entries.c.available_on, entries.c.amount)
                .where(entries.c.client_id.in_(clients[start:start + KEY_BATCH]))
            ).all())
    frame = pd.DataFrame(rows, columns=["line_key", "client_id", "kind", "booked_on", "available_on", "amount"])
    frame = frame[~frame["line_key"].isin(own)].drop(columns="line_key").reset_index(drop=True)
    gone = expiry_events(frame, expiry_months, date.max)  # the ledger's own points that expire, dated
    if gone.empty:
        return frame.drop(columns="kind")
    days = pd.to_datetime(gone["day"]).dt.date
    expiries = pd.DataFrame({"client_id": gone["client_id"], "kind": "expiry", "booked_on": days,
                             "available_on": days, "amount": gone["amount"]})
    return pd.concat([frame, expiries], ignore_index=True).drop(columns="kind")


def ledger_entries(lines: pd.DataFrame, expected_redemption_pct=80) -> pd.DataFrame:
    """The entries a priced export posts: one per line and kind, with the line's export row.

    Accruals and reversals carry the revenue deferred on the line (IFRS 15), mirrored on returns.
    """
    from .ifrs15 import deferred_revenue

    key = line_keys(lines)
    day = lines["date"].to_numpy(dtype="datetime64[D]")
    mb = lines["moneyback_days"].to_numpy(dtype=np.int64, na_value=0) if "moneyback_days" in lines else 0
    accrued, redeemed = lines["bonus_accrued"].to_numpy(), lines["bonus_redeemed"].to_numpy()
    if "net" in lines.columns:
        net = lines["net"].to_numpy()
        deferred = np.sign(accrued) * deferred_revenue(np.abs(net), np.abs(accrued), expected_redemption_pct)
    else:
        deferred = np.zeros(len(lines), dtype=np.int64)
    base = {"client_id": lines["client_id"].astype(str).to_numpy(), "booked_on": day, "row": lines["source_row"].to_numpy()}
    parts = []
    none = np.zeros(len(lines), dtype=np.int64)
    for kind, mask, amount, available, revenue in (
        ("accrual", accrued > 0, accrued, day + np.asarray(mb, dtype="timedelta64[D]"), deferred),
        ("reversal", accrued < 0, accrued, day, deferred),
        ("redemption", redeemed > 0, -redeemed, day, none),
        ("refund", redeemed < 0, -redeemed, day, none),
    ):
        if mask.any():
            parts.append(pd.DataFrame({
                "line_key": key[mask], "kind": kind, **{k: v[mask] for k, v in base.items()},
                "available_on": np.broadcast_to(available, day.shape)[mask], "amount": amount[mask],
                "deferred": revenue[mask],
            }))
    columns = ["line_key", "kind", "client_id", "booked_on", "available_on", "amount", "deferred", "row"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


@dataclass(frozen=True)
class Posted:
    added: int
    unchanged: int


def post(engine: Engine, lines: pd.DataFrame, source: str, then=None, expected_redemption_pct=80) -> Posted:
    """Post a priced export's entries in one transaction; InputError (nothing posted) on any conflict.

    ``then()`` runs inside the transaction after the entries are in (writing the output files):
    if it fails, nothing is posted.
    """
    new = ledger_entries(lines, expected_redemption_pct)
    with engine.begin() as connection:
        known = _known(connection, new)
        merged = new.merge(known, on=["line_key", "kind"], how="left", suffixes=("", "_posted"))
        seen = merged["amount_posted"].notna()
        same = seen & (merged["amount"] == merged["amount_posted"]) & (merged["client_id"] == merged["client_id_posted"]) \
            & (pd.to_datetime(merged["booked_on"]) == pd.to_datetime(merged["booked_on_posted"]))
        conflicts = merged[seen & ~same]
        if len(conflicts):
            raise InputError([
                Problem("ledger.conflict",
                        f"this line was posted before with other figures ({c.kind} {int(c.amount_posted)} for "
                        f"{c.client_id_posted}, now {int(c.amount)} for {c.client_id}); the ledger keeps what was "
                        "posted: correct the export, or post corrections as new lines", row=int(c.row))
                for c in conflicts.itertuples(index=False)
            ])
        fresh = merged[~seen]
        run_id = connection.execute(
            insert(runs).values(source=source, posted_at=datetime.now(), entries=len(fresh))
        ).inserted_primary_key[0]
        if len(fresh):
            connection.execute(insert(entries), [
                {"line_key": r.line_key, "kind": r.kind, "client_id": r.client_id, "booked_on": _day(r.booked_on),
                 "available_on": _day(r.available_on), "amount": int(r.amount), "deferred": int(r.deferred),
                 "run_id": run_id}
                for r in fresh.itertuples(index=False)
            ])
        if then is not None:
            then()
    return Posted(len(fresh), int(same.sum()))


def _known(connection, new: pd.DataFrame) -> pd.DataFrame:
    found = []
    pairs = list(zip(new["line_key"], new["kind"]))
    for start in range(0, len(pairs), KEY_BATCH):
        batch = pairs[start:start + KEY_BATCH]
        rows = connection.execute(
            select(entries.c.line_key, entries.c.kind, entries.c.amount, entries.c.client_id, entries.c.booked_on)
            .where(tuple_(entries.c.line_key, entries.c.kind).in_(batch))
        ).all()
        found.extend(rows)
    return pd.DataFrame(found, columns=["line_key", "kind", "amount", "client_id", "booked_on"])


def _day(value) -> date:
    return pd.Timestamp(value).date()


def expiry_events(frame: pd.DataFrame, months: int, until: date) -> pd.DataFrame:
    """Dated expiries (client_id, day, amount < 0) of the entries in ``frame``, FIFO, ``months`` after accrual.

    Spending takes the oldest points first and points expire oldest first, so the points
    expired by T are max(0, max over expiry days t <= T of (points expiring by t − points
    spent or returned by t)): a running maximum per client. Each rise of it is an expiry
    on that day. 0 months: points never expire.
    """
    columns = ["client_id", "day", "amount"]
    if months <= 0 or frame.empty:
        return pd.DataFrame(columns=columns)
    booked = pd.to_datetime(frame["booked_on"])
    accrual = (frame["kind"] == "accrual").to_numpy()
    lots = frame[accrual].assign(day=booked[accrual] + pd.DateOffset(months=months))
    lots = lots[lots["day"] <= pd.Timestamp(until)]
    if lots.empty:
        return pd.DataFrame(columns=columns)
    spent = frame[~accrual].assign(day=booked[~accrual])
    events = pd.concat([
        pd.DataFrame({"client_id": lots["client_id"], "day": lots["day"], "expiring": lots["amount"], "spent": 0}),
        pd.DataFrame({"client_id": spent["client_id"], "day": spent["day"], "expiring": 0, "spent": -spent["amount"]}),
    ])
    # at the same day, spending comes first: points spent on their last day had not expired yet
    events = events.assign(order=(events["expiring"] > 0).astype(int)).sort_values(["client_id", "day", "order"])
    grouped = events.groupby("client_id", sort=False)
    events["gap"] = grouped["expiring"].cumsum() - grouped["spent"].cumsum()
    at_expiry = events[events["expiring"] > 0].copy()
    at_expiry["expired"] = at_expiry.groupby("client_id")["gap"].cummax().clip(lower=0)
    at_expiry["amount"] = -at_expiry.groupby("client_id")["expired"].diff().fillna(at_expiry["expired"])
    changes = at_expiry[at_expiry["amount"] != 0]
    return changes[columns].reset_index(drop=True)


def _entries_with_old_points(engine: Engine, as_of: date, months: int) -> pd.DataFrame:
    """The entries up to ``as_of`` of the clients holding an accrual old enough to have expired by then."""
    oldest_live = (pd.Timestamp(as_of) - pd.DateOffset(months=months) + pd.Timedelta(days=3)).date()  # month-end slack
    old = select(entries.c.client_id).where((entries.c.kind == "accrual") & (entries.c.booked_on <= oldest_live))
    query = select(entries.c.client_id, entries.c.kind, entries.c.booked_on, entries.c.amount).where(
        (entries.c.booked_on <= as_of) & entries.c.client_id.in_(old.distinct()))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return pd.DataFrame(rows, columns=["client_id", "kind", "booked_on", "amount"])


def expired(engine: Engine, as_of: date, months: int) -> pd.DataFrame:
    """Points expired by ``as_of`` per client (see expiry_events)."""
    if months <= 0:
        return pd.DataFrame(columns=["client_id", "expired"])
    events = expiry_events(_entries_with_old_points(engine, as_of, months), months, as_of)
    totals = (-events.groupby("client_id")["amount"].sum()).rename("expired").reset_index()
    return totals.astype({"expired": np.int64}) if len(totals) else pd.DataFrame(columns=["client_id", "expired"])


def balances(engine: Engine, as_of: date, expiry_months: int = 0) -> pd.DataFrame:
    """Per client as of a day: available (money-back windows ended, spent, returned and expired points
    taken off), pending (accruals still inside their window), and balance = available + pending."""
    ready = entries.c.available_on <= as_of
    reversal = entries.c.kind == "reversal"
    query = (
        select(entries.c.client_id,
               func.sum(case((reversal, 0), (ready, entries.c.amount), else_=0)).label("available"),
               func.sum(case((reversal, 0), (ready, 0), else_=entries.c.amount)).label("pending"),
               func.sum(case((reversal, entries.c.amount), else_=0)).label("returned"))
        .where(entries.c.booked_on <= as_of).group_by(entries.c.client_id).order_by(entries.c.client_id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    table = pd.DataFrame(rows, columns=["client_id", "available", "pending", "returned"])
    table[["available", "pending", "returned"]] = table[["available", "pending", "returned"]].astype(np.int64)
    # a return cancels pending points first (those of a sale still inside its money-back window),
    # then available ones
    after = table["pending"] + table["returned"]
    table["pending"] = after.clip(lower=0)
    table["available"] += after.clip(upper=0)
    table = table.drop(columns="returned")
    gone = expired(engine, as_of, expiry_months)
    if len(gone):
        lost = table["client_id"].map(gone.set_index("client_id")["expired"]).fillna(0).astype(np.int64)
        table["available"] -= lost
    table["balance"] = table["available"] + table["pending"]
    return table


def history(engine: Engine, client_id: str, expiry_months: int = 0, as_of: date | None = None) -> pd.DataFrame:
    """A client's entries in booking order, with the expiries of its points (FIFO) up to ``as_of``."""
    as_of = as_of or date.today()
    with engine.connect() as connection:
        rows = connection.execute(
            select(entries.c.booked_on, entries.c.kind, entries.c.amount, entries.c.available_on, entries.c.line_key,
                   runs.c.source).join(runs, runs.c.id == entries.c.run_id)
            .where(entries.c.client_id == client_id).order_by(entries.c.booked_on, entries.c.id)
        ).all()
    frame = pd.DataFrame(rows, columns=["booked_on", "kind", "amount", "available_on", "line", "source"])
    frame["line"] = frame["line"].str.replace("\x1f", " / ", regex=False)
    if expiry_months > 0 and len(frame):
        mine = frame.assign(client_id=client_id)[["client_id", "kind", "booked_on", "amount"]]
        gone = expiry_events(mine, expiry_months, as_of)
        if len(gone):
            days = pd.to_datetime(gone["day"]).dt.date
            expiries = pd.DataFrame({"booked_on": days, "kind": "expiry", "amount": gone["amount"].astype(np.int64),
                                     "available_on": days, "line": "", "source": f"{expiry_months} months after accrual"})
            frame = pd.concat([frame, expiries], ignore_index=True).sort_values("booked_on", kind="stable")
    return frame.reset_index(drop=True)


def liability(engine: Engine, as_of: date, expected_redemption_pct=80, by: str = "month",
              expiry_months: int = 0) -> pd.DataFrame:
    """The IFRS 15 liability per month (or year) up to ``as_of``: opening, deferred, recognised, closing.

    Points expected to be redeemed: those accrued to date × expected_redemption_pct (today's
    estimate), but never more than the points not yet expired (breakage): once the rest has
    expired, what was deferred is recognised in full.
    """
    from ..money import parse_decimal, pct_to_scaled, percent_of
    from .ifrs15 import liability_report

    with engine.connect() as connection:
        rows = connection.execute(
            select(entries.c.kind, entries.c.booked_on, entries.c.amount, entries.c.deferred)
            .where(entries.c.booked_on <= as_of)
        ).all()
    frame = pd.DataFrame(rows, columns=["kind", "booked_on", "amount", "deferred"])
    columns = ["period", "opening", "deferred", "recognised", "closing"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    freq = "M" if by == "month" else "Y"
    frame["period"] = pd.to_datetime(frame["booked_on"]).dt.to_period(freq)
    earning = frame["kind"].isin(["accrual", "reversal"])
    frame["accrued"] = np.where(earning, frame["amount"], 0)
    frame["redeemed"] = np.where(earning, 0, -frame["amount"])
    periods = pd.period_range(frame["period"].min(), pd.Timestamp(as_of).to_period(freq), freq=freq)
    sums = frame.groupby("period")[["deferred", "accrued", "redeemed"]].sum().reindex(periods, fill_value=0)
    accrued_to_date = np.cumsum(sums["accrued"].to_numpy(dtype=np.int64))
    gone = expiry_events(_entries_with_old_points(engine, as_of, expiry_months), expiry_months, as_of) \
        if expiry_months > 0 else pd.DataFrame(columns=["day", "amount"])
    expired_by_period = (-pd.Series(gone["amount"].to_numpy(dtype=np.int64),
                                    index=pd.to_datetime(gone["day"]).dt.to_period(freq) if len(gone) else [])
                         .groupby(level=0).sum()).reindex(periods, fill_value=0)
    expired_to_date = np.cumsum(expired_by_period.to_numpy(dtype=np.int64))
    expected = np.minimum(percent_of(accrued_to_date, pct_to_scaled(parse_decimal(expected_redemption_pct))),
                          accrued_to_date - expired_to_date)
    report = liability_report(pd.DataFrame({
        "period": [str(p) for p in periods], "deferred": sums["deferred"].to_numpy(dtype=np.int64),
        "redeemed": sums["redeemed"].to_numpy(dtype=np.int64), "expected": expected,
    }))
    return report[columns]
