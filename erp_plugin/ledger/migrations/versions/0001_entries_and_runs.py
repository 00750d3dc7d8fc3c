"""The first ledger: posting runs and their entries.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("posted_at", sa.DateTime, nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
    )
    op.create_table(
        "entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("line_key", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("booked_on", sa.Date, nullable=False),
        sa.Column("available_on", sa.Date, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.UniqueConstraint("line_key", "kind", name="one_entry_per_line_and_kind"),
    )
    op.create_index("ix_entries_client_id", "entries", ["client_id"])


def downgrade():
    op.drop_index("ix_entries_client_id", "entries")
    op.drop_table("entries")
    op.drop_table("runs")
