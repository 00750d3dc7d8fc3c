"""Opening .xlsx files users hand us: refuse clearly what is not a readable workbook.

Checks happen before any parser touches the file, so a missing, foreign,
password-protected, damaged, hostile or absurdly large file gets one plain
sentence instead of a traceback (or an abort) from deep inside a library: every
part is inflated and looked at first (``xlsx_scan``: real sizes, DOCTYPEs, how
far each sheet's cells reach).
"""

from __future__ import annotations

import glob
import os
import re
import zipfile
from pathlib import Path

from .i18n import msg
from .problems import InputError, Problem
from .xlsx_scan import Refused, limits, scan

MAX_UNPACKED_BYTES = 4 * 1024**3  # a zip that unpacks past this is refused (a "zip bomb"); less on a smaller machine
_CFB_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # OLE compound file: encrypted xlsx or old .xls
_ENCRYPTED_MARK = "EncryptionInfo".encode("utf-16-le")


def check_workbook(path: Path, role: str = "workbook", max_unpacked: int = MAX_UNPACKED_BYTES,
                   max_cells: int | None = None) -> Problem | None:
    """None when ``path`` is a readable .xlsx/.xlsm, else the one problem that stops it.

    Every part is inflated and looked at (xlsx_scan.scan): the package is refused when a part is
    damaged, unpacks past its limit or to another size than its header says, declares a DOCTYPE,
    or its sheets span more than ``max_cells`` cells (rows x columns; by default what a quarter of
    this machine's memory holds).
    """
    file = str(path)

    def stop(code: str, message: str) -> Problem:
        return Problem(code, message, file=file)

    if not path.exists():
        return stop("file.missing", msg("no such file; check the path of the {role}", role=role))
    if path.is_dir():
        return stop("file.is_dir", msg("is a folder; expected an .xlsx {role}", role=role))
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
            if head == _CFB_MAGIC:
                handle.seek(0)
                if _ENCRYPTED_MARK in handle.read(1024 * 1024):
                    return stop(
                        "file.encrypted",
                        msg("is password-protected; open it in Excel, remove the password (File > Info > "
                            "Protect Workbook > Encrypt with Password, clear it) and save"),
                    )
                return stop(
                    "file.old_xls",
                    msg("is an old-format .xls workbook; open it in Excel and save it as .xlsx"),
                )
    except OSError as exc:
        return stop("file.unreadable", msg("cannot be read; check that it exists and that you may read it (detail: {detail})",
                                               detail=exc.strerror or str(exc)))
    if not zipfile.is_zipfile(path):
        return stop("file.not_xlsx", msg("is not an Excel workbook (.xlsx); save it from Excel as .xlsx"))
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
                return stop("file.not_xlsx", msg("is a zip archive but not an Excel workbook; expected an .xlsx file"))
            if "xl/workbook.bin" in names:
                return stop("file.xlsb", msg("is a binary .xlsb workbook; save it from Excel as .xlsx"))
            scan(path, archive, limits(max_unpacked, max_cells))
    except Refused as refused:
        return stop(refused.code, refused.message)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return stop("file.corrupt", msg("is damaged and cannot be opened; save it again from Excel (detail: {detail})",
                                           detail=str(exc)))
    return None


def library_failed(exc: BaseException) -> bool:
    """True for what a library raised reading a file, to be turned into a problem: any Exception, and a
    Rust panic (pyo3 raises it as a BaseException); never Ctrl+C or an exit."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


class TargetLocked(Exception):
    """Excel holds the target open; writing now would fail on Windows or be lost on save. Its args: the message,
    the target's path."""

    def __str__(self) -> str:
        message, path = self.args
        return f"{path}: {message}"


FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def lock_file(path: Path) -> Path:
    """The ``~$name`` file Excel keeps beside a workbook it has open."""
    return path.with_name("~$" + path.name)


def atomic_write(path: Path, write) -> None:
    """Call ``write(temp_path)`` then rename over ``path``: readers never see half a file."""
    atomic_write_all([(Path(path), write)])


def temp_path(path: Path, pid: int | None = None) -> Path:
    """The temp file a write to ``path`` goes through: hidden, beside it, named for the writing process."""
    return path.with_name(f".{path.name}.{os.getpid() if pid is None else pid}.tmp")


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove the temp files of ours beside ``path`` that a killed run left (their process is gone)."""
    removed = []
    for temp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = temp.name[len(path.name) + 2:-len(".tmp")]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        try:
            temp.unlink()
            removed.append(temp)
        except OSError:  # another user's, or gone meanwhile: not ours to insist on
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def atomic_write_all(jobs) -> None:
    """Write every ``(path, write)`` to a temp file beside it, then rename them all: all or nothing.

    Refuses (TargetLocked) before writing anything when Excel has a target open.
    Temp files sit in the target's folder, so the renames stay on one file system;
    they are removed on any failure (the command line turns SIGTERM into an exit,
    so a killed run removes them too), and a run removes the ones a killed run
    left. A failure of the file system (a full disk, a file-size limit, no
    permission) is an InputError naming the target, after the temp files are gone.
    """
    for path, _ in jobs:
        if lock_file(path).exists():
            raise TargetLocked(msg("is open in Excel (lock file {lock}); close it and run again",
                                   lock=lock_file(path).name), path)
    temps: list[Path] = []
    target = None
    try:
        for path, write in jobs:
            remove_stale_temps(path)
            target = path
            temp = temp_path(path)
            temps.append(temp)
            write(temp)
        for (path, _), temp in zip(jobs, temps):
            target = path
            os.replace(temp, path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError([Problem("out.write", msg("cannot be written, so nothing was written; check that its folder exists, that the disk has room and that you may write there (detail: {detail})", detail=reason), file=str(target))]) from exc
    finally:
        for temp in temps:
            if temp.exists():
                temp.unlink()


def save_workbook(workbook, path: Path, deterministic: bool = False) -> None:
    """Save an openpyxl workbook atomically.

    ``deterministic``: equal content gives equal bytes (fixed zip times and a fixed
    ``modified`` stamp, which openpyxl otherwise sets to the moment of saving), so
    generated sample files can be committed and checked against their generator.
    """

    def write(temp: Path) -> None:
        if not deterministic:
            workbook.save(temp)
            return
        raw = temp.with_suffix(".raw")
        try:
            workbook.save(raw)
            _pin(raw, temp)
        finally:
            if raw.exists():
                raw.unlink()

    atomic_write(Path(path), write)


def _pin(source: Path, target: Path) -> None:
    stamp = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z".format(*FIXED_ZIP_TIME)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
            fixed = zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, data)
