"""Opening the bonus ledger (SPEC §8): an SQLite file or an SQLAlchemy URL, its schema brought up to date."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

MIGRATIONS = Path(__file__).with_name("migrations")
LOCK_ID = 0x6C6564676572  # "ledger": the PostgreSQL advisory lock every posting run takes


def open_ledger(where: str | Path) -> Engine:
    """An engine on the ledger, its schema brought to the newest version."""
    text = str(where)
    url = text if "://" in text else f"sqlite:///{Path(text).resolve()}"
    engine = create_engine(url)
    _serialise_writers(engine)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return engine


def _serialise_writers(engine: Engine) -> None:
    """Two runs on one ledger take turns: each transaction holds the write lock from its start.

    SQLite starts a transaction lazily, at the first write, so two runs could both read
    before either writes; ``BEGIN IMMEDIATE`` takes the lock at once (the other run waits).
    PostgreSQL takes a transaction-scoped advisory lock.
    """
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _no_implicit_transactions(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # pysqlite must not begin on its own
            dbapi_connection.execute("PRAGMA busy_timeout = 600000")  # wait up to 10 minutes for the other run

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif engine.dialect.name == "postgresql":
        @event.listens_for(engine, "begin")
        def _advisory_lock(connection):
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK_ID})")
