"""Files that are not readable workbooks get one clear problem, never a traceback."""

import zipfile

from erp_plugin.tariffs import read_tariffs
from erp_plugin.xlsx import TargetLocked, atomic_write, check_workbook

from .conftest import TODAY, minimal_sheets, write_book


def only_problem(path):
    book, problems = read_tariffs(path, TODAY)
    assert book is None
    (problem,) = problems
    return problem


def test_missing_file(tmp_path):
    problem = only_problem(tmp_path / "nope.xlsx")
    assert (problem.code, str(problem)) == ("file.missing", f"{tmp_path / 'nope.xlsx'}: no such file; check the path of the tariff workbook")


def test_folder_and_text_file(tmp_path):
    assert only_problem(tmp_path).code == "file.is_dir"
    text = tmp_path / "t.xlsx"
    text.write_text("client;tariff\nC1;PRO\n", encoding="utf-8")
    assert str(only_problem(text)).endswith("is not an Excel workbook (.xlsx); save it from Excel as .xlsx")


def test_password_protected_and_old_xls(tmp_path):
    magic = bytes.fromhex("d0cf11e0a1b11ae1")
    encrypted = tmp_path / "secret.xlsx"
    encrypted.write_bytes(magic + b"\0" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 100)
    problem = only_problem(encrypted)
    assert problem.code == "file.encrypted" and "remove the password" in problem.message
    old = tmp_path / "old.xls"
    old.write_bytes(magic + b"\0" * 1000)
    assert str(only_problem(old)) == f"{old}: is an old-format .xls workbook; open it in Excel and save it as .xlsx"


def test_damaged_workbook(tmp_path):
    good = write_book(tmp_path / "good.xlsx", minimal_sheets())
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert only_problem(broken).code in ("file.not_xlsx", "file.corrupt")
    other = tmp_path / "other.xlsx"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    assert only_problem(other).message == "is a zip archive but not an Excel workbook; expected an .xlsx file"


def test_zip_bomb_is_refused(tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (3 * 1024 * 1024))  # 3 MiB of zeros, ~3 KiB packed
    assert bomb.stat().st_size < 20_000
    problem = check_workbook(bomb, max_unpacked=2 * 1024 * 1024)
    assert problem.code == "file.too_large"
    assert problem.message == "would unpack to 3 MiB, more than the 2 MiB allowed; this is not a normal workbook"


def test_atomic_write_refuses_a_workbook_open_in_excel(tmp_path):
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"original")
    (tmp_path / "~$out.xlsx").write_bytes(b"lock")
    try:
        atomic_write(target, lambda temp: temp.write_bytes(b"new"))
    except TargetLocked as exc:
        assert "is open in Excel" in str(exc)
    else:
        raise AssertionError("wrote over a workbook Excel holds open")
    assert target.read_bytes() == b"original"


def test_atomic_write_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"original")

    def failing(temp):
        temp.write_bytes(b"half")
        raise RuntimeError("disk full")

    try:
        atomic_write(target, failing)
    except RuntimeError:
        pass
    assert target.read_bytes() == b"original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.xlsx"]
