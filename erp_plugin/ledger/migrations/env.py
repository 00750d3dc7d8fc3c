"""Alembic environment for the ledger: the connection comes from the caller (store.open_ledger)."""

from alembic import context

from erp_plugin.ledger.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
