"""Opening the bonus ledger (SPEC §8): an SQLite file or an SQLAlchemy URL, its schema brought up to date.

``open_ledger`` never lets a database error out as a traceback: every way a ledger cannot
be opened is an InputError with one Problem (code ``ledger.open``, ``file`` the path, or the
URL with its password masked) saying what is wrong and what would be right. Nothing is
changed in a file or database that is refused, and a read-only command (``create=False``)
never creates a ledger.

Runs on one ledger take turns (each transaction holds the write lock from its start); a run
waits for the other at most ERP_PLUGIN_LEDGER_WAIT seconds (default 600). Use ``writing``
and ``reading`` around the ledger's transactions so that a wait that runs out, or a server
that went away, is an InputError too.
"""

from __future__ import annotations

import os
import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from ..i18n import N_, Message, msg
from ..problems import InputError, Problem

MIGRATIONS = Path(__file__).with_name("migrations")
LOCK_ID = 0x6C6564676572  # "ledger": the PostgreSQL advisory lock every posting run takes
WAIT_VARIABLE = "ERP_PLUGIN_LEDGER_WAIT"  # seconds a run waits for another run's lock
DEFAULT_WAIT = 600
CONNECT_TIMEOUT = 5  # seconds to reach a ledger server
SQLITE_HEADER = b"SQLite format 3\x00"
Fail = Callable[[Message], InputError]  # a message about the ledger -> the InputError naming it
FIRST_POST = N_("a ledger is created by the first `erp-plugin price --ledger …`")


def open_ledger(where: str | Path, create: bool = True) -> Engine:
    """An engine on the ledger at ``where`` (an SQLite file path, or a URL with ``://``), its schema
    upgraded when it is older; InputError (code ``ledger.open``) when it cannot be opened.

    ``create=False`` (read-only commands): a missing or empty ledger is an error, not created.
    """
    text = str(where)
    shown = _masked(text)

    def fail(message: Message) -> InputError:
        return InputError([Problem("ledger.open", message, file=shown)])

    wait = ledger_wait(fail)
    if "://" in text:
        try:
            url = make_url(text)
        except (ArgumentError, ValueError):
            raise fail(msg("is not a database URL; give an SQLite file path or a URL such as "
                           "postgresql+psycopg://user@host/database")) from None
        shown = url.render_as_string(hide_password=True)
    else:
        url = URL.create("sqlite", database=str(Path(text).resolve()))
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") and "uri" not in url.query:
        _check_file(Path(url.database), create, fail)
    engine = _engine(url, wait, shown, fail)
    try:
        with _translated(engine, shown, generic=True), engine.begin() as connection:
            _bring_up_to_date(connection, create, fail)
    except BaseException:
        engine.dispose()  # no connection left open on a ledger that was refused
        raise
    return engine


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """``engine.begin()`` (one transaction, committed at the end) whose lock wait running out, or an
    unreachable server, is an InputError rather than a database error."""
    with _translated(engine, _place(engine)), engine.begin() as connection:
        yield connection


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """``engine.connect()`` with the same translation as ``writing``: the lock is taken at the first
    statement (each transaction starts holding it), so the wait may run out there."""
    with _translated(engine, _place(engine)), engine.connect() as connection:
        yield connection


def ledger_wait(fail: Fail | None = None) -> float:
    """Seconds a run waits for another run's lock on the ledger: ERP_PLUGIN_LEDGER_WAIT, default 600."""
    given = os.environ.get(WAIT_VARIABLE, "").strip()
    try:
        seconds = float(given) if given else DEFAULT_WAIT
    except ValueError:
        seconds = -1
    if not 0 <= seconds < 10**9:
        message = msg("{variable}={given} is not a number of seconds; set it to e.g. {default} (the default)",
                      variable=WAIT_VARIABLE, given=given, default=DEFAULT_WAIT)
        raise (fail(message) if fail else InputError([Problem("ledger.open", message)]))
    return seconds


def _check_file(path: Path, create: bool, fail: Fail) -> None:
    """Refuse, before SQLite touches it, a path that is not (and will not become) a ledger file."""
    if path.is_dir():
        raise fail(msg("is a folder, not a ledger file; give a file path, e.g. {path}", path=path / 'ledger.sqlite'))
    if not path.exists():
        if not path.parent.is_dir():
            what = (N_("create it first, or give a path in an existing folder") if create
                    else msg("check the path ({first_post})", first_post=FIRST_POST))
            raise fail(msg("the folder {parent} does not exist; {what}", parent=path.parent, what=what))
        if not create:
            raise fail(msg("no ledger here; {first_post}", first_post=FIRST_POST))
        return
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise fail(msg("cannot be read; give a ledger file you may read and write (detail: {detail})",
                       detail=exc.strerror or str(exc))) from None
    if head and head != SQLITE_HEADER:
        raise fail(msg("is not a ledger database (not SQLite); give the file `erp-plugin price --ledger` writes{or_new}",
                       or_new=N_(", or a new file name to start a ledger") if create else ""))


def _engine(url: URL, wait: float, shown: str, fail: Fail) -> Engine:
    """An engine with the writers' lock and the timeouts, or InputError for an unknown kind or driver."""
    connect_args = {}
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2") \
            and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    try:
        engine = create_engine(url, connect_args=connect_args)
    except NoSuchModuleError:
        raise fail(msg("unknown kind of database '{drivername}'; give an SQLite file path or a URL such as "
                       "postgresql+psycopg://user@host/database",
                       drivername=url.drivername)) from None
    except ImportError as exc:
        raise fail(msg("the database driver for '{drivername}' is not installed; install it, or use "
                       "postgresql+psycopg://… (detail: {detail})",
                       drivername=url.drivername, detail=str(exc))) from None
    except (ArgumentError, TypeError, ValueError) as exc:
        raise fail(msg("is not a usable database URL; give an SQLite file path or a URL such as "
                       "postgresql+psycopg://user@host/database (detail: {detail})",
                       detail=_first_line(exc))) from None
    _serialise_writers(engine, wait, shown)
    return engine


def _bring_up_to_date(connection: Connection, create: bool, fail: Fail) -> None:
    """Check that the database is a ledger (or empty) and upgrade an older one, inside the locked transaction."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    tables = set(inspect(connection).get_table_names())
    versions = []
    if "alembic_version" in tables:
        versions = [row[0] for row in connection.exec_driver_sql("SELECT version_num FROM alembic_version")]
    others = sorted(tables - {"alembic_version"})
    if not others and not versions:  # an empty file or database
        if not create:
            raise fail(msg("no ledger here (the database is empty); {first_post}", first_post=FIRST_POST))
    elif not versions or "entries" not in tables:
        listed = ", ".join(others[:5]) + (", …" if len(others) > 5 else "")
        what = (N_("or a new file or an empty database to start one") if create
                else msg("or see: {first_post}", first_post=FIRST_POST))
        raise fail(msg("is a database but not a ledger (it holds the tables {listed}); give a ledger, {what}",
                       listed=listed, what=what))
    else:
        known = {revision.revision for revision in script.walk_revisions()}
        unknown = [version for version in versions if version not in known]
        if unknown:
            raise fail(msg("was written by a newer erp-plugin (schema revision {unknown}); upgrade erp-plugin "
                           "(this one knows revisions up to {heads})",
                           unknown=', '.join(unknown), heads=', '.join(script.get_heads())))
        if set(versions) == set(script.get_heads()):
            return
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


@contextmanager
def _translated(engine: Engine, shown: str, generic: bool = False) -> Iterator[None]:
    """Database errors as one ``ledger.open`` Problem: a lock wait that ran out, a server out of reach;
    with ``generic``, any other database error too (its first line)."""
    try:
        yield
    except (SQLAlchemyError, CommandError) as exc:
        message = _meaning(exc, engine.url)
        if message is None and not generic:
            raise
        if message is None:
            message = msg("cannot be opened as a ledger; check the path or URL and your rights to it (detail: {detail})",
                          detail=_scrubbed(_first_line(getattr(exc, "orig", None) or exc), engine.url))
        raise InputError([Problem("ledger.open", message, file=shown)]) from None


def _meaning(exc: Exception, url: URL) -> Message | None:
    """What a database error means for the user, or None when it is none of the known cases."""
    orig = getattr(exc, "orig", None)
    if not isinstance(exc, DBAPIError) or orig is None:
        return None
    reason = str(orig)
    if (isinstance(orig, sqlite3.OperationalError) and "locked" in reason) \
            or getattr(orig, "sqlstate", None) == "55P03":  # lock_not_available
        return (msg("the ledger is in use by another run (locked for {ledger_wait:g} s); try again when it "
                    "finishes, or set {variable} to wait longer (seconds)",
                    ledger_wait=ledger_wait(), variable=WAIT_VARIABLE))
    if isinstance(orig, sqlite3.DatabaseError) and ("not a database" in reason or "malformed" in reason):
        return msg("is not a ledger database (not SQLite, or damaged); restore the ledger from a backup "
                   "(detail: {detail})",
                   detail=reason)
    if url.get_backend_name() != "sqlite" and (exc.connection_invalidated or _connecting(reason)):
        where = f"{url.host or 'localhost'}:{url.port or (5432 if url.get_backend_name() == 'postgresql' else '')}"
        said = _scrubbed(_first_line(reason).rsplit("failed: ", 1)[-1], url)
        said = re.sub(r"^(FATAL|ERROR):\s+", "", said)
        said = said[:1].lower() + said[1:]
        if "timeout expired" in said:
            return msg("the ledger server at {where} gave no answer within {seconds} s; check the host and port, and "
                       "that the server runs", where=where, seconds=CONNECT_TIMEOUT)
        if "Name or service not known" in said or "failed to resolve host" in said:
            return msg("there is no host {host} for the ledger server; correct the URL", host=url.host)
        if said.startswith("database") and "does not exist" in said:
            return (msg("the ledger server at {where} has no database {database}; create it (createdb "
                        "{database}) or correct the URL",
                        where=where, database=url.database))
        if "does not exist" in said or "authentication" in said or "no pg_hba.conf" in said:
            return msg("the ledger server at {where} refused the connection; correct the URL (user, password, "
                       "database) (detail: {detail})",
                       where=where, detail=said)
        return msg("cannot reach the ledger server at {where}; check the host and port, and that the server runs "
                   "(detail: {detail})",
                   where=where, detail=said)
    return None


def _connecting(reason: str) -> bool:
    return reason.startswith(("connection failed", "connection is bad", "failed to resolve host",
                              "could not connect", "could not translate host", "server closed the connection",
                              "consuming input failed", "connection to server"))


def _place(engine: Engine) -> str:
    """The ledger as a user names it: the SQLite file, else the URL without its password."""
    if engine.url.get_backend_name() == "sqlite" and engine.url.database:
        return engine.url.database
    return engine.url.render_as_string(hide_password=True)


def _masked(text: str) -> str:
    """A URL as given, its password (``scheme://user:password@``) replaced by ***."""
    return re.sub(r"(://[^/@:]*:)[^@/]*@", r"\1***@", text)


def _scrubbed(text: str, url: URL) -> str:
    return text.replace(url.password, "***") if url.password else text


def _first_line(exc) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _serialise_writers(engine: Engine, wait: float, shown: str) -> None:
    """Two runs on one ledger take turns: each transaction holds the write lock from its start,
    waiting at most ``wait`` seconds for the other run, then an InputError (whoever began it).

    SQLite starts a transaction lazily, at the first write, so two runs could both read
    before either writes; ``BEGIN IMMEDIATE`` takes the lock at once (the other run waits).
    PostgreSQL takes a transaction-scoped advisory lock.
    """
    def take(connection: Connection, *statements: str) -> None:
        try:
            for statement in statements:
                connection.exec_driver_sql(statement)
        except DBAPIError as exc:
            message = _meaning(exc, engine.url)
            if message is None:
                raise
            raise InputError([Problem("ledger.open", message, file=shown)]) from None

    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _no_implicit_transactions(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # pysqlite must not begin on its own
            dbapi_connection.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")  # wait for the other run

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection):
            take(connection, "BEGIN IMMEDIATE")
    elif engine.dialect.name == "postgresql":
        @event.listens_for(engine, "begin")
        def _advisory_lock(connection):
            take(connection, f"SET LOCAL lock_timeout = {max(1, int(wait * 1000))}",  # 0 would be: for ever
                 f"SELECT pg_advisory_xact_lock({LOCK_ID})", "SET LOCAL lock_timeout = DEFAULT")
