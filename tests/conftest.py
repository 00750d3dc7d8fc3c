"""Builders for real .xlsx files: each test writes the workbook it reads, so the case reads at a glance."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

TODAY = date(2026, 11, 22)


@pytest.fixture(autouse=True, scope="session")
def english_locale():
    """The tests read the command line's English words: the locale says English (Russian is the default without
    one; tests/test_i18n.py runs the commands in Russian with --lang and LANG). For the whole session, so that
    module fixtures' commands (run before any test's own fixtures) speak English too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("LC_ALL", raising=False)  # LC_MESSAGES decides; the character type (LANG) stays the machine's,
        patch.setenv("LC_MESSAGES", "en_US.UTF-8")  # so LibreOffice still names its files in UTF-8
        yield


def minimal_sheets() -> dict[str, list[list]]:
    """The smallest valid tariff workbook: BASE and PRO, one payment, one client."""
    return {
        "Tariffs": [
            ["tariff", "monthly_fee", "white", "green", "yellow", "red"],
            ["BASE", 0, 0, 1, 3, 5],
            ["PRO", 9990, 0, 2.5, 5, 8],
        ],
        "Options": [["option", "value", "weight_pct"], ["payment", "prepaid", 0], ["reservation_days", 7, 1]],
        "Clients": [["client_id", "tariff", "bonus_mode"], ["C1", "PRO", "bonus"]],
    }


def write_book(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def set_cached_value(path: Path, sheet_index: int, cell: str, value: str) -> None:
    """Give a formula cell the computed value Excel would have stored when saving."""
    member = f"xl/worksheets/sheet{sheet_index}.xml"
    with zipfile.ZipFile(path) as src:
        parts = {info.filename: src.read(info.filename) for info in src.infolist()}
    xml = parts[member].decode()
    xml, count = re.subn(rf'(<c r="{cell}"[^>]*>\s*<f>[^<]*</f>)\s*<v\s*/>', rf"\1<v>{value}</v>", xml)
    assert count == 1, f"no formula at {cell}"
    parts[member] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            dst.writestr(name, data)


@pytest.fixture
def book_path(tmp_path):
    """``book_path(sheets)`` writes the sheets to a fresh .xlsx and returns its path."""

    def make(sheets: dict[str, list[list]], name: str = "tariffs.xlsx") -> Path:
        return write_book(tmp_path / name, sheets)

    return make


def _postgres_binary(name: str) -> str | None:
    import glob
    import os
    import shutil

    for candidate in [*sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True), shutil.which(name)]:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on loopback for this test session, from Debian's binaries.

    ERP_PLUGIN_TEST_POSTGRES (an SQLAlchemy URL) uses a server of yours instead. Without the
    binaries (apt-get install postgresql) or the driver the PostgreSQL tests are skipped, saying why.
    """
    import os
    import shlex
    import shutil
    import socket
    import subprocess
    import tempfile

    given = os.environ.get("ERP_PLUGIN_TEST_POSTGRES")
    if given:
        yield given
        return
    pytest.importorskip("psycopg", reason="the psycopg driver is not installed (pip install -e '.[dev]')")
    initdb, pg_ctl = _postgres_binary("initdb"), _postgres_binary("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("no PostgreSQL server here (apt-get install postgresql): PostgreSQL tests skipped")
    data = tempfile.mkdtemp(prefix="erp-plugin-pg-")
    as_root = os.geteuid() == 0
    if as_root:  # the server refuses to run as root: it runs as the postgres user
        os.chmod(data, 0o700)
        shutil.chown(data, "postgres", "postgres")

    def run(*args: str) -> subprocess.CompletedProcess:
        command = list(args)
        if as_root:
            command = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
        # the server's own locale the machine's (the tests' English LC_MESSAGES may not be installed here)
        env = {k: v for k, v in os.environ.items() if k != "LC_MESSAGES"}
        return subprocess.run(command, capture_output=True, text=True, timeout=180, env=env)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    made = run(initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
    if made.returncode:
        shutil.rmtree(data, ignore_errors=True)
        pytest.skip(f"initdb failed, PostgreSQL tests skipped: {made.stderr.strip()[:300]}")
    options = f"-p {port} -k {data} -h 127.0.0.1 -c fsync=off"
    started = run(pg_ctl, "-D", data, "-o", options, "-l", f"{data}/server.log", "-w", "start")
    if started.returncode:
        shutil.rmtree(data, ignore_errors=True)
        pytest.skip(f"the PostgreSQL server did not start, tests skipped: {started.stderr.strip()[:300]}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        run(pg_ctl, "-D", data, "-m", "immediate", "stop")
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def postgres_ledger(postgres_server, request):
    """A fresh, empty PostgreSQL database for one test: its SQLAlchemy URL."""
    import re

    import psycopg

    name = "t_" + re.sub(r"\W", "_", request.node.name).lower()[:50]
    plain = postgres_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{postgres_server}/{name}"
