"""The ledger's tables, in SQLAlchemy Core: posting runs, the lines they posted, and the point entries.

``lines`` keeps every posted export line with its identity (doc_id, the year of its
date, line_no or SKU and occurrence), its quantity and its money figures, so that a
later export's return can be matched to it and reverse exactly what it gave (SPEC §8).
``entries`` are points: lots (accrual, refund, reward; positive, with the day they
become available and the day they expire) and debits (redemption, reversal;
negative, each taken out of one lot, or of no lot: a debt). Expiries are not stored:
a lot's expiry is what it still holds on its expiry day, derived when asked.

The schema is versioned with Alembic (migrations/ beside this file): a ledger is
brought to the newest version when it is opened.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)

metadata = MetaData()

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(1000), nullable=False),  # the export the run posted
    Column("posted_at", DateTime, nullable=False),
    Column("entries", Integer, nullable=False),  # the lines it posted
)

LOTS = "kind IN ('accrual', 'refund', 'reward')"  # queries that use the partial indexes say it the same way
DEBITS = "kind IN ('redemption', 'reversal')"

# SQLite's own row id when the column is INTEGER (a BIGINT key would be one more index to keep), 64 bits elsewhere
ROW_ID = BigInteger().with_variant(Integer, "sqlite")

MONEY_FIGURES = ("gross", "kit_discount", "kit_bonus", "kit_price_discount", "promo_discount", "price_discount", "net",
                 "bonus_accrued", "reservation_cost", "vat", "bonus_redeemed", "deferred")

lines = Table(
    "lines", metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=False),  # given by the posting run (it holds the lock)
    Column("doc_id", String(200), nullable=False),
    Column("doc_year", Integer, nullable=False),
    Column("line", String(300), nullable=False),  # line_no, else "<sku>#<occurrence>"
    Column("client_id", String(200), nullable=False),
    Column("sku", String(200), nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("qty", BigInteger, nullable=False),  # thousandths of a unit; < 0 for a return
    *(Column(name, BigInteger, nullable=False) for name in MONEY_FIGURES),  # minor units
    Column("sale_id", BigInteger, nullable=True),  # a matched return: the sale line it returns
    Column("source_row", Integer, nullable=False),
    Column("run_id", Integer, nullable=False),
    UniqueConstraint("doc_id", "doc_year", "line", name="one_line_per_identity"),
    Index("ix_lines_client_sku", "client_id", "sku"),
    Index("ix_lines_sale", "sale_id", sqlite_where=text("sale_id IS NOT NULL"),
          postgresql_where=text("sale_id IS NOT NULL")),  # returns only
)

entries = Table(
    "entries", metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),  # accrual | refund | reward (lots) | redemption | reversal (debits)
    Column("client_id", String(200), nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("amount", BigInteger, nullable=False),  # points in minor units; debits negative
    Column("line_id", BigInteger, nullable=True),  # the line that made it (none for a reward)
    Column("lot_id", BigInteger, nullable=True),  # a debit: the lot it takes from (none: a debt)
    Column("available_on", Date, nullable=True),  # a lot: the end of its money-back window
    Column("expires_on", Date, nullable=True),  # a lot: the day it expires (none: never)
    Column("reward", String(300), nullable=True),  # a reward lot: rule, client, year, column (unique)
    Column("run_id", Integer, nullable=False),
    # balances read these partial indexes alone: the lots in client order, the lots by the end of their
    # money-back window, the debits (a few per cent of the entries) in client order; and debits by lot.
    # A client's entries are its lots and its debits: no index of all entries by client to keep up
    Index("ix_entries_lots", "client_id", "expires_on", "booked_on", "amount", "available_on",
          sqlite_where=text(LOTS), postgresql_where=text(LOTS)),
    Index("ix_entries_window", "available_on", "client_id", "booked_on", "expires_on", "amount",
          sqlite_where=text(LOTS), postgresql_where=text(LOTS)),
    Index("ix_entries_debits", "client_id", "lot_id", "booked_on", "amount",
          sqlite_where=text(DEBITS), postgresql_where=text(DEBITS)),
    Index("ix_entries_debits_lot", "lot_id", sqlite_where=text(DEBITS), postgresql_where=text(DEBITS)),
    Index("ix_entries_reward", "reward", unique=True, sqlite_where=text("reward IS NOT NULL"),
          postgresql_where=text("reward IS NOT NULL")),
)

coupons = Table(  # coupons issued (SPEC §7) and their use, so that a later export may redeem them
    "coupons", metadata,
    Column("code", String(300), primary_key=True),
    Column("rule_id", String(200), nullable=False),
    Column("client_id", String(200), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("issued_doc", String(200), nullable=False),
    Column("used_doc", String(200), nullable=True),
    Column("used_on", Date, nullable=True),
    Column("run_id", Integer, nullable=False),
)

coupon_documents = Table(  # each client's qualifying documents per coupon rule: a later export continues the count
    "coupon_documents", metadata,
    Column("rule_id", String(200), primary_key=True),
    Column("client_id", String(200), primary_key=True),
    Column("doc_id", String(200), primary_key=True),
    Column("doc_year", Integer, primary_key=True),
    Column("booked_on", Date, nullable=False),
    Column("run_id", Integer, nullable=False),
)
