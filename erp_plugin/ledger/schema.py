"""The ledger's tables, in SQLAlchemy Core: one row per posted entry, one per posting run.

The schema is versioned with Alembic (migrations/ beside this file): a ledger is
brought to the newest version when it is opened, so a later change ships as one
more migration rather than SQL strings scattered around.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, ForeignKey, Integer, MetaData, String, Table, UniqueConstraint

metadata = MetaData()

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(1000), nullable=False),  # the export the run posted
    Column("posted_at", DateTime, nullable=False),
    Column("entries", Integer, nullable=False),
)

entries = Table(
    "entries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("line_key", String(500), nullable=False),  # the export line: document and line within it
    Column("kind", String(16), nullable=False),  # accrual | reversal | redemption | refund
    Column("client_id", String(200), nullable=False, index=True),
    Column("booked_on", Date, nullable=False),
    Column("available_on", Date, nullable=False),  # accruals: the end of the money-back window
    Column("amount", BigInteger, nullable=False),  # points in minor units; what leaves the account is negative
    Column("deferred", BigInteger, nullable=False, server_default="0"),  # IFRS 15 revenue deferred (accruals)
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    UniqueConstraint("line_key", "kind", name="one_entry_per_line_and_kind"),
)
