"""Entries carry the revenue deferred on them (IFRS 15): the liability report needs it.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("deferred", sa.BigInteger, nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("deferred")
