"""Opening the ledger (SPEC §8, §9): every way it cannot be opened is one ``ledger.open`` problem, on real
files and a real server, and nothing is created or changed where it is refused."""

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from erp_plugin.cli import main
from erp_plugin.ledger.connect import LOCK_ID, MIGRATIONS, open_ledger, reading, writing
from erp_plugin.problems import InputError

FIRST_POST = "a ledger is created by the first `erp-plugin price --ledger …`"


def _refused(where, create=True) -> str:
    """The one problem open_ledger raises, as the user reads it (``file: message``)."""
    with pytest.raises(InputError) as raised:
        open_ledger(where, create=create)
    [problem] = raised.value.problems
    assert problem.code == "ledger.open"
    return str(problem)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _head() -> str:
    [head] = ScriptDirectory.from_config(_config()).get_heads()
    return head


def _version(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return db.execute("select version_num from alembic_version").fetchone()[0]


@pytest.mark.parametrize("create", [True, False])
def test_a_text_file_or_a_workbook_is_not_a_ledger_and_stays_as_it_was(tmp_path, create):
    from openpyxl import Workbook

    notes = tmp_path / "notes.txt"
    notes.write_text("client,points\nC1,100\n")
    workbook = tmp_path / "tariffs.xlsx"
    book = Workbook()
    book.active["A1"] = "Tariffs"
    book.save(workbook)
    for path in (notes, workbook):
        before = path.read_bytes()
        assert _refused(path, create).startswith(f"{path}: is not a ledger database (not SQLite); give the file")
        assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "tariffs.xlsx"]  # no -journal either


def test_a_missing_ledger_is_an_error_for_a_report_and_is_created_by_posting(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    assert _refused(ledger, create=False) == f"{ledger}: no ledger here; {FIRST_POST}"
    assert not ledger.exists()
    open_ledger(ledger, create=True)
    assert _version(ledger) == _head()
    open_ledger(ledger, create=False)  # now it is there


@pytest.mark.parametrize("create", [True, False])
def test_a_missing_folder_is_named_and_not_created(tmp_path, create):
    ledger = tmp_path / "no" / "such" / "ledger.sqlite"
    assert _refused(ledger, create).startswith(f"{ledger}: the folder {tmp_path / 'no' / 'such'} does not exist; ")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_not_a_ledger_file(tmp_path):
    assert _refused(tmp_path) == f"{tmp_path}: is a folder, not a ledger file; give a file path, e.g. " \
                                 f"{tmp_path / 'ledger.sqlite'}"


@pytest.mark.parametrize("create", [True, False])
def test_someone_elses_sqlite_database_is_refused_and_left_alone(tmp_path, create):
    shop = tmp_path / "shop.sqlite"
    with sqlite3.connect(shop) as db:
        db.execute("create table customers (id integer primary key, name text)")
        db.execute("insert into customers (name) values ('Romashka LLC')")
    db.close()
    # another application's Alembic database: its revision is not ours, and it has no entries table
    migrated = tmp_path / "migrated.sqlite"
    with sqlite3.connect(migrated) as db:
        db.execute("create table alembic_version (version_num varchar(32) not null primary key)")
        db.execute("insert into alembic_version values ('0001')")  # a revision id we use too
        db.execute("create table invoices (id integer primary key)")
    db.close()
    for path, tables in ((shop, "customers"), (migrated, "invoices")):
        before = path.read_bytes()
        assert _refused(path, create).startswith(
            f"{path}: is a database but not a ledger (it holds the tables {tables}); give a ledger, ")
        assert path.read_bytes() == before


def test_an_empty_file_becomes_a_ledger_only_when_posting(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    assert _refused(empty, create=False) == f"{empty}: no ledger here (the database is empty); {FIRST_POST}"
    assert empty.read_bytes() == b""
    open_ledger(empty, create=True)
    assert _version(empty) == _head()
    tableless = tmp_path / "tableless.sqlite"  # an SQLite database with a header but no tables
    with sqlite3.connect(tableless) as db:
        db.execute("pragma user_version = 7")
    db.close()
    assert tableless.stat().st_size > 0
    open_ledger(tableless, create=True)
    assert _version(tableless) == _head()


def test_a_ledger_written_by_a_newer_erp_plugin_is_refused_unchanged(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    open_ledger(ledger).dispose()
    with sqlite3.connect(ledger) as db:  # what a later release with one more migration leaves
        db.execute("update alembic_version set version_num = '0099'")
        db.execute("alter table entries add column campaign text")
    db.close()
    before = ledger.read_bytes()
    for create in (True, False):
        assert _refused(ledger, create) == (
            f"{ledger}: was written by a newer erp-plugin (schema revision 0099); upgrade erp-plugin "
            f"(this one knows revisions up to {_head()})")
    assert ledger.read_bytes() == before


def test_an_older_ledger_is_upgraded_by_any_command_and_a_current_one_is_not_touched(tmp_path):
    ledger = tmp_path / "old.sqlite"
    engine = create_engine(f"sqlite:///{ledger}")
    config = _config()
    with engine.begin() as connection:  # a ledger as the first version made it
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    engine.dispose()
    open_ledger(ledger, create=False).dispose()  # a report on an old ledger brings it up to date (SPEC §8)
    assert _version(ledger) == _head()
    before = ledger.read_bytes()
    open_ledger(ledger, create=False).dispose()
    assert ledger.read_bytes() == before


def test_a_wait_that_is_not_a_number_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("ERP_PLUGIN_LEDGER_WAIT", "ten minutes")
    assert _refused(tmp_path / "l.sqlite") == f"{tmp_path / 'l.sqlite'}: ERP_PLUGIN_LEDGER_WAIT=ten minutes is not " \
                                              "a number of seconds; set it to e.g. 600 (the default)"


LOCKED = "the ledger is in use by another run (locked for 1 s); try again when it finishes"


def test_a_ledger_locked_by_another_run_is_an_error_when_the_wait_runs_out(tmp_path, monkeypatch):
    monkeypatch.setenv("ERP_PLUGIN_LEDGER_WAIT", "1")
    ledger = tmp_path / "ledger.sqlite"
    engine = open_ledger(ledger)
    other = sqlite3.connect(ledger, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")  # another run, in the middle of its posting
    watchdog = threading.Timer(20, other.rollback)  # without the wait's limit the test fails, not hangs
    watchdog.start()
    try:
        started = time.monotonic()
        assert _refused(ledger).startswith(f"{ledger}: {LOCKED}")
        for use in (writing, reading):
            with pytest.raises(InputError) as raised:
                with use(engine) as connection:
                    connection.execute(text("select count(*) from entries"))
            [problem] = raised.value.problems
            assert (problem.code, problem.file) == ("ledger.open", str(ledger))
            assert problem.message.startswith(LOCKED)
        with pytest.raises(InputError, match="in use by another run"):  # code not using the helpers too
            with engine.connect() as connection:
                connection.execute(text("select count(*) from entries"))
        assert 4 <= time.monotonic() - started < 12  # four waits of 1 s, not 600 s
    finally:
        watchdog.cancel()
        other.rollback()
        other.close()
    with writing(engine) as connection:  # the other run finished: the ledger is usable again
        assert connection.execute(text("select count(*) from entries")).scalar() == 0


def test_an_unreachable_server_is_one_line_without_the_password():
    started = time.monotonic()
    message = _refused("postgresql+psycopg://postgres:s3cret@127.0.0.1:1/ledger")
    assert time.monotonic() - started < 5
    assert message == ("postgresql+psycopg://postgres:***@127.0.0.1:1/ledger: cannot reach the ledger server at "
                       "127.0.0.1:1; check the host and port, and that the server runs (detail: connection refused)")


@pytest.mark.parametrize("url, says", [
    ("nosuchdb://x/ledger", "unknown kind of database 'nosuchdb'; give an SQLite file path or a URL such as "
                            "postgresql+psycopg://user@host/database"),
    ("mysql://u:s3cret@db/ledger", "the database driver for 'mysql' is not installed"),
    ("postgres ql://u:s3cret@db/ledger", "is not a database URL; give an SQLite file path or a URL such as "),
    ("postgresql+psycopg://u:s3cret@db:99999/ledger", "there is no host db for the ledger server; correct the URL"),
])
def test_an_unknown_driver_or_a_garbled_url_is_named(url, says):
    message = _refused(url)
    assert says in message and "s3cret" not in message


def test_a_postgresql_ledger_from_a_newer_erp_plugin_is_refused_unchanged(postgres_ledger):
    open_ledger(postgres_ledger).dispose()
    engine = create_engine(postgres_ledger)
    with engine.begin() as connection:
        connection.execute(text("update alembic_version set version_num = 'abc123'"))
    assert _refused(postgres_ledger, create=False) == (
        f"{postgres_ledger}: was written by a newer erp-plugin (schema revision abc123); upgrade erp-plugin "
        f"(this one knows revisions up to {_head()})")
    with engine.connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).scalar() == "abc123"
    engine.dispose()


def test_a_missing_postgresql_database_is_named(postgres_server):
    url = f"{postgres_server}/no_such_ledger"
    host_port = postgres_server.rsplit("@", 1)[1]
    assert _refused(url) == (f"{url}: the ledger server at {host_port} has no database no_such_ledger; create it "
                             "(createdb no_such_ledger) or correct the URL")


def test_a_postgresql_ledger_locked_by_another_run_is_an_error_when_the_wait_runs_out(postgres_ledger, monkeypatch):
    import psycopg

    monkeypatch.setenv("ERP_PLUGIN_LEDGER_WAIT", "1")
    open_ledger(postgres_ledger).dispose()
    with psycopg.connect(postgres_ledger.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as other:
        other.execute(f"select pg_advisory_lock({LOCK_ID})")  # another run, in the middle of its posting
        started = time.monotonic()
        assert _refused(postgres_ledger).startswith(f"{postgres_ledger}: {LOCKED}")
        assert time.monotonic() - started < 5
    engine = open_ledger(postgres_ledger)  # released: usable again, and the wait no longer applies
    with writing(engine) as connection:
        assert connection.execute(text("show lock_timeout")).scalar() == "0"
    engine.dispose()


@pytest.mark.parametrize("report", [["balance"], ["history", "--client", "C1"], ["liability"]])
def test_a_report_on_a_mistyped_ledger_path_is_one_line_and_creates_nothing(tmp_path, monkeypatch, report):
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(main, ["ledger", *report, "--ledger", "typo.sqlite"])
    assert done.exit_code == 2, done.output
    assert done.stderr == f"typo.sqlite: no ledger here; {FIRST_POST}\n"
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_the_installed_command_says_it_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "erp_plugin", "ledger", "balance", "--ledger", "typo.sqlite"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == f"typo.sqlite: no ledger here; {FIRST_POST}\n"
    assert list(tmp_path.iterdir()) == []
