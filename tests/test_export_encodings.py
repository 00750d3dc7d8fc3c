"""CSV exports in the encodings ERPs write (SPEC §6 "Encodings", issue 16), found over the whole file.

Each test writes its export's bytes in the encoding under test and reads them both through
``read_export`` and through the real ``erp-plugin price`` command; the Cyrillic client codes, documents
and SKUs must come out exactly. A file in no supported encoding is one problem naming the file and the
byte and line where it goes wrong, exit code 2, never a traceback. Expected values are written by hand.
"""

from __future__ import annotations

import csv
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from erp_plugin.erp.read import read_export

ROWS = [  # 1C's "Продажи по номенклатуре" columns; Ё is a different byte in each Cyrillic encoding
    ["Дата", "Документ", "Код контрагента", "Артикул", "Количество", "Цена"],
    ["02.03.2026", "РТУ-1", "Ромашка", "АВТ-C16", "10", "289,90"],
    ["02.03.2026", "РТУ-1", "Ромашка", "КАБ-ВВГнг", "2,5", "98,40"],
    ["03.03.2026", "РТУ-2", "ИП Ёлкин", "Щит ЩРН-12", "1", "1 250,00"],
]
CLIENTS = ["Ромашка", "Ромашка", "ИП Ёлкин"]
DOCS = ["РТУ-1", "РТУ-1", "РТУ-2"]
SKUS = ["АВТ-C16", "КАБ-ВВГнг", "Щит ЩРН-12"]
QTY = [10_000, 2_500, 1_000]  # thousandths
PRICES = [2_899_000, 984_000, 12_500_000]  # ten-thousandths


def text(rows: list[list[str]], delimiter: str) -> str:
    return "".join(delimiter.join(row) + "\r\n" for row in rows)  # as 1C writes: CRLF


# name: (the file's bytes, the encoding the reader reports)
CASES = {
    "utf-8, semicolons": (text(ROWS, ";").encode("utf-8"), "utf-8"),
    "utf-8 with BOM, tabs": (text(ROWS, "\t").encode("utf-8-sig"), "utf-8-sig"),
    "utf-16 LE with BOM, semicolons": (b"\xff\xfe" + text(ROWS, ";").encode("utf-16-le"), "utf-16"),
    "utf-16 BE with BOM, tabs": (b"\xfe\xff" + text(ROWS, "\t").encode("utf-16-be"), "utf-16"),
    "utf-16 LE without BOM, semicolons": (text(ROWS, ";").encode("utf-16-le"), "utf-16-le"),
    "cp1251, semicolons": (text(ROWS, ";").encode("cp1251"), "cp1251"),
    "cp1251, tabs": (text(ROWS, "\t").encode("cp1251"), "cp1251"),
    "koi8-r, semicolons": (text(ROWS, ";").encode("koi8-r"), "koi8-r"),
    "cp866, semicolons": (text(ROWS, ";").encode("cp866"), "cp866"),
}


@pytest.fixture(scope="module")
def erp_plugin():
    script = shutil.which("erp-plugin", path=str(Path(sys.executable).parent))
    assert script, "erp-plugin is not installed beside this Python"
    return script


@pytest.fixture(scope="module")
def tariffs(erp_plugin, tmp_path_factory):
    folder = tmp_path_factory.mktemp("programme")
    subprocess.run([erp_plugin, "init", str(folder)], check=True, capture_output=True)
    return folder / "tariffs.xlsx"


def price(erp_plugin: str, export: Path, tariffs: Path) -> tuple[subprocess.CompletedProcess, list[dict]]:
    out = export.with_name("priced.csv")
    done = subprocess.run([erp_plugin, "price", str(export), "--tariffs", str(tariffs), "--out", str(out)],
                          capture_output=True, text=True, check=False)
    assert "Traceback" not in done.stdout + done.stderr
    if done.returncode != 0:
        return done, []
    with out.open(encoding="utf-8-sig", newline="") as handle:
        return done, list(csv.DictReader(handle))


@pytest.mark.parametrize("case", CASES)
def test_each_encoding_reads_the_cyrillic_exactly(case, tmp_path):
    data, encoding = CASES[case]
    path = tmp_path / "sales.csv"
    path.write_bytes(data)
    export = read_export(path)
    assert [str(p) for p in export.problems] == []
    assert export.source.encoding == encoding
    assert export.source.delimiter == ("\t" if "tabs" in case else ";")
    lines = export.lines
    assert lines["client_id"].astype(str).tolist() == CLIENTS
    assert lines["doc_id"].astype(str).tolist() == DOCS
    assert lines["sku"].astype(str).tolist() == SKUS
    assert lines["qty"].tolist() == QTY
    assert lines["unit_price"].tolist() == PRICES
    assert lines["source_row"].tolist() == [2, 3, 4]


@pytest.mark.parametrize("case", CASES)
def test_each_encoding_is_priced_by_the_command(case, erp_plugin, tariffs, tmp_path):
    path = tmp_path / "sales.csv"
    path.write_bytes(CASES[case][0])
    done, priced = price(erp_plugin, path, tariffs)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [row["client_id"] for row in priced] == CLIENTS
    assert [row["doc_id"] for row in priced] == DOCS
    assert [row["sku"] for row in priced] == SKUS
    assert [row["gross"] for row in priced] == ["2899.00", "246.00", "1250.00"]


def cp1251_with_its_first_cyrillic_deep() -> bytes:
    """An ASCII header and 12 000 ASCII lines (over 300 KB), then the Cyrillic lines: the reader that
    decided on the first 256 KB took this valid Windows-1251 file for UTF-8 and refused it."""
    head = "date;doc_id;client_id;sku;qty;unit_price\r\n"
    padding = "".join(f"02.03.2026;D{i:05d};C0001;SKU-1;1;10,00\r\n" for i in range(12_000))
    data = (head + padding).encode("ascii") + text(ROWS[1:], ";").encode("cp1251")
    assert data.index(b"\xd0") > 300 * 1024  # Р of РТУ-1: the first non-ASCII byte
    return data


def test_cp1251_whose_first_cyrillic_byte_is_past_300_kb(erp_plugin, tariffs, tmp_path):
    path = tmp_path / "deep.csv"
    path.write_bytes(cp1251_with_its_first_cyrillic_deep())
    export = read_export(path)
    assert [str(p) for p in export.problems] == []
    assert export.source.encoding == "cp1251"
    lines = export.lines
    assert len(lines) == 12_003
    assert lines["client_id"].astype(str).tolist()[-4:] == ["C0001", *CLIENTS]
    assert lines["sku"].astype(str).tolist()[-3:] == SKUS
    assert lines["source_row"].tolist()[-1] == 12_004
    done, priced = price(erp_plugin, path, tariffs)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(priced) == 12_003
    assert [row["client_id"] for row in priced[-3:]] == CLIENTS
    assert [row["sku"] for row in priced[-3:]] == SKUS


def garbage() -> bytes:
    return random.Random(16).randbytes(8192)


def test_a_binary_file_is_one_problem_with_exit_2(erp_plugin, tariffs, tmp_path):
    path = tmp_path / "garbage.csv"
    data = garbage()
    path.write_bytes(data)
    first_nul = data.index(b"\x00")
    done, _ = price(erp_plugin, path, tariffs)
    assert done.returncode == 2
    assert str(path) in done.stderr
    assert f"is not a text file: byte {first_nul} (line " in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


MIXED_HEAD = "date;doc_id;client_id;sku;qty;unit_price\n"  # 41 bytes
MIXED_LINE = "02.03.2026;D1;Ёлка;S1;1;10\n"  # 31 bytes in UTF-8 (Ё and л, к, а take two each), 27 in cp1251


def test_a_file_that_turns_from_utf8_to_cp1251_names_where(erp_plugin, tariffs, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(MIXED_HEAD.encode() + MIXED_LINE.encode("utf-8") + MIXED_LINE.encode("cp1251"))
    # line 3 starts at byte 41 + 31 = 72; its Ё (0xA8 in Windows-1251) is 14 bytes in
    message = (
        f"{path}: mixes encodings: it is UTF-8 up to byte 86 (line 3, 0xA8), which is not; "
        "save the whole export again in one encoding (UTF-8 is best)"
    )
    assert [str(p) for p in read_export(path).problems] == [message]
    done, _ = price(erp_plugin, path, tariffs)
    assert done.returncode == 2
    assert " ".join(done.stderr.split()) == message


def test_a_file_that_turns_from_cp1251_to_utf8_names_where(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(MIXED_HEAD.encode() + MIXED_LINE.encode("cp1251") + MIXED_LINE.encode("utf-8"))
    # the cp1251 Ё at 41 + 14 = 55; line 3 starts at 41 + 27 = 68, its UTF-8 Ё (0xD0 0x81) at 68 + 14 = 82
    assert [str(p) for p in read_export(path).problems] == [(
        f"{path}: mixes encodings: it is not UTF-8 from byte 55 (line 2, 0xA8) on, but turns UTF-8 at "
        "byte 82 (line 3, 0xD0); save the whole export again in one encoding (UTF-8 is best)"
    )]


def test_a_byte_windows_1251_lacks_is_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(text(ROWS, ";").encode("cp1251") + b"04.03.2026;\x98;C1;S1;1;10\r\n")
    # the four lines before take 55 + 44 + 46 + 49 = 194 bytes in Windows-1251; 0x98 is 11 bytes into line 5
    assert [str(p) for p in read_export(path).problems] == [(
        f"{path}: reads as Windows-1251 text, but byte 205 (line 5, 0x98) is no Windows-1251 character; "
        "save the export again as text in one encoding (UTF-8, UTF-16, Windows-1251, KOI8-R or CP866)"
    )]


def test_a_utf16_file_with_a_nul_character_is_refused(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"\xff\xfe" + (MIXED_HEAD + "02.03.2026;D1;C\x001;S1;1;10\n").encode("utf-16-le"))
    # the BOM (2) and the header (41 characters, 82 bytes), then 15 characters of line 2: 2 + 82 + 30 = 114
    assert [str(p) for p in read_export(path).problems] == [(
        f"{path}: begins as UTF-16LE text, but byte 114 (line 2, 0x00 00) is a NUL character; "
        "save the export again as text in one encoding (UTF-8, UTF-16, Windows-1251, KOI8-R or CP866)"
    )]


def test_a_utf8_file_with_a_bom_and_a_line_in_another_encoding(tmp_path):
    path = tmp_path / "bom.csv"
    line_2 = b"02.03.2026;D1;C1;S1;1;10\n"
    path.write_bytes(b"\xef\xbb\xbf" + MIXED_HEAD.encode() + line_2 + MIXED_LINE.encode("cp1251"))
    # the BOM (3), the header (41) and line 2 (25), then 14 bytes of line 3 before its Ё: 83
    assert [str(p) for p in read_export(path).problems] == [(
        f"{path}: mixes encodings: it is UTF-8 up to byte 83 (line 3, 0xA8), which is not; "
        "save the whole export again in one encoding (UTF-8 is best)"
    )]


@pytest.mark.parametrize("block", [7, 64])
def test_blocks_cut_inside_lines_and_characters_change_nothing(block, monkeypatch, tmp_path):
    """Small blocks: a character cut by a block's end, a line longer than two blocks (the last one with no
    newline), in UTF-8, Windows-1251 and UTF-16; then the first bad byte is still named exactly."""
    from erp_plugin.erp import read_csv

    monkeypatch.setattr(read_csv, "BLOCK_BYTES", block)
    long_line = "Ромашка-" * 40
    body = text(ROWS, ";") + f"03.03.2026;РТУ-3;{long_line};Щит;1;1,00"
    for encoding, found in (("utf-8", "utf-8"), ("cp1251", "cp1251"), ("utf-16", "utf-16")):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(body.encode(encoding))
        assert read_csv.detect_encoding(path) == found
    path = tmp_path / "mixed.csv"
    path.write_bytes(body.encode("utf-8") + "\nЁ".encode("cp1251"))
    with pytest.raises(read_csv.ExportError) as raised:
        read_csv.detect_encoding(path)
    offset = len(body.encode("utf-8")) + 1  # past the newline
    assert f"it is UTF-8 up to byte {offset} (line 6, 0xA8), which is not" in str(raised.value)
