"""Posted lines with their identity and figures, points as lots and debits, and coupons (SPEC §8 as rewritten).

The line identity gains the year of the line's date (1C numbers documents afresh each
year). Entries of an older ledger are kept: each line key becomes a line (its points
and deferral, no quantity or SKU, so no later return can match it), accruals and
refunds become lots that never expire (the older ledger did not store an expiry), and
redemptions and reversals become debits of no particular lot.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LOTS = "kind IN ('accrual', 'refund', 'reward')"
DEBITS = "kind IN ('redemption', 'reversal')"
ROW_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite's own row id, 64 bits elsewhere
MONEY = ("gross", "kit_discount", "kit_bonus", "kit_price_discount", "promo_discount", "price_discount", "net",
         "bonus_accrued", "reservation_cost", "vat", "bonus_redeemed", "deferred")


def upgrade():
    op.rename_table("entries", "entries_0002")
    op.create_table(
        "lines",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=False),
        sa.Column("doc_id", sa.String(200), nullable=False),
        sa.Column("doc_year", sa.Integer, nullable=False),
        sa.Column("line", sa.String(300), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("sku", sa.String(200), nullable=False),
        sa.Column("booked_on", sa.Date, nullable=False),
        sa.Column("qty", sa.BigInteger, nullable=False),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in MONEY),
        sa.Column("sale_id", sa.BigInteger, nullable=True),
        sa.Column("source_row", sa.Integer, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.UniqueConstraint("doc_id", "doc_year", "line", name="one_line_per_identity"),
    )
    op.create_index("ix_lines_client_sku", "lines", ["client_id", "sku"])
    returns = sa.text("sale_id IS NOT NULL")
    op.create_index("ix_lines_sale", "lines", ["sale_id"], sqlite_where=returns, postgresql_where=returns)
    op.create_table(
        "entries",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("booked_on", sa.Date, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("line_id", sa.BigInteger, nullable=True),
        sa.Column("lot_id", sa.BigInteger, nullable=True),
        sa.Column("available_on", sa.Date, nullable=True),
        sa.Column("expires_on", sa.Date, nullable=True),
        sa.Column("reward", sa.String(300), nullable=True),
        sa.Column("run_id", sa.Integer, nullable=False),
    )
    lots, debits = sa.text(LOTS), sa.text(DEBITS)
    op.create_index("ix_entries_lots", "entries", ["client_id", "expires_on", "booked_on", "amount", "available_on"],
                    sqlite_where=lots, postgresql_where=lots)
    op.create_index("ix_entries_window", "entries", ["available_on", "client_id", "booked_on", "expires_on", "amount"],
                    sqlite_where=lots, postgresql_where=lots)
    op.create_index("ix_entries_debits", "entries", ["client_id", "lot_id", "booked_on", "amount"],
                    sqlite_where=debits, postgresql_where=debits)
    op.create_index("ix_entries_debits_lot", "entries", ["lot_id"], sqlite_where=debits, postgresql_where=debits)
    rewards = sa.text("reward IS NOT NULL")
    op.create_index("ix_entries_reward", "entries", ["reward"], unique=True, sqlite_where=rewards,
                    postgresql_where=rewards)
    op.create_table(
        "coupons",
        sa.Column("code", sa.String(300), primary_key=True),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=False),
        sa.Column("issued_doc", sa.String(200), nullable=False),
        sa.Column("used_doc", sa.String(200), nullable=True),
        sa.Column("used_on", sa.Date, nullable=True),
        sa.Column("run_id", sa.Integer, nullable=False),
    )
    op.create_table(
        "coupon_documents",
        sa.Column("rule_id", sa.String(200), primary_key=True),
        sa.Column("client_id", sa.String(200), primary_key=True),
        sa.Column("doc_id", sa.String(200), primary_key=True),
        sa.Column("doc_year", sa.Integer, primary_key=True),
        sa.Column("booked_on", sa.Date, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
    )
    _carry_over(op.get_bind())
    op.drop_table("entries_0002")


def _carry_over(bind) -> None:
    old = bind.execute(sa.text(
        "SELECT line_key, kind, client_id, booked_on, available_on, amount, deferred, run_id FROM entries_0002 ORDER BY id"
    ).columns(booked_on=sa.Date, available_on=sa.Date)).all()
    line_ids: dict[tuple, int] = {}
    figures: dict[int, dict] = {}
    new_entries = []
    for line_key, kind, client, booked, available, amount, deferred, run in old:
        doc, _, within = line_key.partition("\x1f")
        key = (doc, booked.year, within)
        if key not in line_ids:
            line_ids[key] = len(line_ids) + 1
            figures[line_ids[key]] = dict(
                id=line_ids[key], doc_id=doc, doc_year=booked.year, line=within, client_id=client, sku="",
                booked_on=booked, qty=0, **{name: 0 for name in MONEY}, sale_id=None, source_row=0, run_id=run)
        line = figures[line_ids[key]]
        if kind in ("accrual", "reversal"):
            line["bonus_accrued"] += amount
            line["deferred"] += deferred
        else:
            line["bonus_redeemed"] -= amount
        lot = kind in ("accrual", "refund")
        new_entries.append(dict(id=len(new_entries) + 1, kind=kind, client_id=client, booked_on=booked, amount=amount,
                                line_id=line_ids[key], lot_id=None, available_on=available if lot else None,
                                expires_on=None, reward=None, run_id=run))
    meta = sa.MetaData()
    meta.reflect(bind, only=["lines", "entries"])
    if figures:
        bind.execute(meta.tables["lines"].insert(), list(figures.values()))
    if new_entries:
        bind.execute(meta.tables["entries"].insert(), new_entries)


def downgrade():
    """Back to one entry per line and kind: a debit's pieces summed, lots and expiries as 0002 kept them
    (no expiry dates, no returns' link to their sale, no coupons or rewards: those are dropped)."""
    op.create_table(
        "entries_0002",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("line_key", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("booked_on", sa.Date, nullable=False),
        sa.Column("available_on", sa.Date, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("deferred", sa.BigInteger, nullable=False, server_default="0"),
        sa.UniqueConstraint("line_key", "kind", name="one_entry_per_line_and_kind"),
    )
    key = "l.doc_id || CAST(:separator AS VARCHAR(1)) || l.line"
    op.get_bind().execute(sa.text(f"""
        INSERT INTO entries_0002 (line_key, kind, client_id, booked_on, available_on, amount, run_id, deferred)
        SELECT {key}, e.kind, e.client_id, MIN(e.booked_on), COALESCE(MIN(e.available_on), MIN(e.booked_on)),
               SUM(e.amount), MIN(e.run_id),
               CASE WHEN e.kind IN ('accrual', 'reversal') THEN MIN(l.deferred) ELSE 0 END
        FROM entries e JOIN lines l ON l.id = e.line_id
        GROUP BY {key}, e.kind, e.client_id"""), {"separator": "\x1f"})
    for table in ("coupon_documents", "coupons", "entries", "lines"):
        op.drop_table(table)
    op.rename_table("entries_0002", "entries")
    op.create_index("ix_entries_client_id", "entries", ["client_id"])
