"""Damaged and hostile workbooks (SPEC §6, issue 16): one problem naming the file, exit 2, nothing written.

Every file is made here from the workbooks ``erp-plugin init`` writes, by rewriting
zip members or their bytes. Each case runs the real ``erp-plugin`` command in its
own process, under an address-space limit (RLIMIT_AS, 1.5 GiB) and a time-out, and
checks: exit code 2, the file (and sheet) named with what is wrong, no traceback,
no output written, the input untouched; the bombs also that the process stayed
under 1 GB and a few seconds. Without the protection each of these files ends
otherwise: a traceback (exit 1), an abort (a Rust allocation failure, exit 134),
or a clean exit 0 with a written file.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "erp-plugin"
ADDRESS_SPACE = 1536 * 1024**2  # the command runs under this much virtual memory
MAX_RSS_KB = 1024**2  # and must stay under 1 GB resident
MAX_SECONDS = 20  # "a few seconds" on a busy 2-core machine (start-up and imports take 1-2 s of it)
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@pytest.fixture(scope="module")
def programme(tmp_path_factory) -> Path:
    """``erp-plugin init``'s tariff workbook and sample export, made once for the module."""
    folder = tmp_path_factory.mktemp("programme")
    done = subprocess.run([str(SCRIPT), "init", str(folder)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return folder


# ------------------------------------------------------------------ running the command


class Run:
    def __init__(self, code: int, output: str, seconds: float, max_rss_kb: int):
        self.code, self.output, self.seconds, self.max_rss_kb = code, output, seconds, max_rss_kb


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run(*args, timeout: float = 90) -> Run:
    """``erp-plugin ARGS`` in its own process under the limits; its exit code, output, time and peak memory."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as output, open(os.devnull, "rb") as stdin:
        child = subprocess.Popen([str(SCRIPT), *map(str, args)], stdin=stdin, stdout=output, stderr=subprocess.STDOUT,
                                 preexec_fn=_limits)
        while True:  # os.wait4: this child's own peak memory, not the largest of every child so far
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > timeout:
                child.kill()
                os.wait4(child.pid, 0)
                child.returncode = -9
                raise AssertionError(f"erp-plugin {args[0]} ran past {timeout} s")
            time.sleep(0.02)
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    return Run(child.returncode, text, time.monotonic() - started, usage.ru_maxrss)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_refused(done: Run, path: Path, *says: str, bounded: bool = False) -> None:
    assert "Traceback" not in done.output and "panicked" not in done.output, done.output
    assert done.code == 2, f"exit {done.code}: {done.output[-2000:]}"
    text = " ".join(done.output.split())  # rich wraps long lines
    assert f"{path}:" in text, text
    for fragment in says:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    if bounded:
        assert done.seconds < MAX_SECONDS, f"took {done.seconds:.1f} s"
        assert done.max_rss_kb < MAX_RSS_KB, f"peak memory {done.max_rss_kb / 1024:.0f} MB"


def price(export: Path, tariffs: Path, tmp_path: Path, **checks) -> tuple[Run, Path]:
    out = tmp_path / "priced.xlsx"
    before = digest(export), digest(tariffs)
    done = run("price", export, "--tariffs", tariffs, "--out", out)
    assert not out.exists(), "an output was written"
    assert not list(tmp_path.glob(".priced.xlsx.*")), "a temp file was left"
    assert (digest(export), digest(tariffs)) == before, "an input was changed"
    return done, out


def validate(tariffs: Path) -> Run:
    before = digest(tariffs)
    listing = sorted(tariffs.parent.iterdir())
    done = run("validate", tariffs)
    assert digest(tariffs) == before and sorted(tariffs.parent.iterdir()) == listing
    return done


# ------------------------------------------------------------------ making the files


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info.filename) for info in archive.infolist()}


def sheet_part(parts: dict[str, bytes], sheet: str) -> str:
    """The worksheet part of ``sheet``, from the workbook and its relationships."""
    rid = re.search(rf'<sheet [^>]*name="{sheet}"[^>]*r:id="([^"]+)"', parts["xl/workbook.xml"].decode()).group(1)
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*/>', rels).group(0)
    target = re.search(r'Target="([^"]+)"', target).group(1)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def write_zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def write_raw_zip(path: Path, entries: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip of already deflated members ``(name, deflated, crc, size said)``, headers written by hand
    so that a member can hold more than it says (zipfile itself always writes the truth)."""
    out, directory = bytearray(), bytearray()
    for name, packed, crc, size in entries:
        raw = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(packed), size, len(raw), 0) + raw
        out += packed
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(packed), size,
                                 len(raw), 0, 0, 0, 0, 0, offset) + raw
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), len(out), 0)
    path.write_bytes(bytes(out + directory + end))
    return path


def deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def rebuilt(path: Path, replace: dict[str, tuple[bytes, int, int]], target: Path) -> Path:
    """``path`` written again by hand, members in ``replace`` given as (deflated, crc, size said)."""
    entries = []
    for name, data in members(path).items():
        entries.append((name, *replace[name]) if name in replace else (name, deflated(data), zlib.crc32(data), len(data)))
    return write_raw_zip(target, entries)


def bomb_sheet(size: int) -> tuple[bytes, int, int]:
    """A worksheet of ``size`` bytes (rows of cells without references, as some writers leave them),
    deflated in a few MB: one block compressed once after a full flush repeats as it is."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
    row = b"<row>" + b"<c><v>1</v></c>" * 64 + b"</row>"
    block = row * (1024 * 1024 // len(row))
    tail = b"</sheetData></worksheet>"
    count = (size - len(head) - len(tail)) // len(block)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    once = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    assert packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH) == once  # the block packs the same each time
    end = packer.compress(tail) + packer.flush()
    crc = zlib.crc32(head)
    for _ in range(count + 1):  # the +1: the block compressed twice above
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    total = len(head) + (count + 1) * len(block) + len(tail)
    return start + once * (count + 1) + end, crc, total


def damaged_deflate(path: Path, member: str) -> None:
    """Overwrite 16 bytes in the middle of ``member``'s deflate stream; the headers stay as they were."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    middle = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
    data[middle : middle + 16] = b"\xff" * 16
    path.write_bytes(bytes(data))


def with_rows(xml: bytes, rows: bytes) -> bytes:
    return xml.replace(b"</sheetData>", rows + b"</sheetData>", 1)


# ------------------------------------------------------------------ 1. damaged parts


def test_a_damaged_deflate_stream_in_a_sheet(programme, tmp_path):
    tariffs = tmp_path / "tariffs.xlsx"
    shutil.copy(programme / "tariffs.xlsx", tariffs)
    damaged_deflate(tariffs, sheet_part(members(tariffs), "Clients"))
    assert_refused(validate(tariffs), tariffs, "sheet Clients (xl/worksheets/", "is damaged", "save it again from Excel")

    export = tmp_path / "sales_export.xlsx"
    shutil.copy(programme / "sales_export.xlsx", export)
    damaged_deflate(export, sheet_part(members(export), "TDSheet"))
    done, _ = price(export, programme / "tariffs.xlsx", tmp_path)
    assert_refused(done, export, "sheet TDSheet (xl/worksheets/sheet1.xml) is damaged")


def with_flag(path: Path, member: str, bit: int) -> Path:
    """``member``'s general purpose flag ``bit`` set in the central directory, where zipfile reads it."""
    data = bytearray(path.read_bytes())
    end = data.rindex(b"PK\x05\x06")  # the end of central directory record says where the directory starts
    at = struct.unpack("<I", data[end + 16 : end + 20])[0]
    while True:
        flags_at, name_len = at + 8, struct.unpack("<H", data[at + 28 : at + 30])[0]
        extra_len, comment_len = struct.unpack("<HH", data[at + 30 : at + 34])
        if data[at + 46 : at + 46 + name_len].decode() == member:
            flags = struct.unpack("<H", data[flags_at : flags_at + 2])[0]
            data[flags_at : flags_at + 2] = struct.pack("<H", flags | bit)
            path.write_bytes(bytes(data))
            return path
        at += 46 + name_len + extra_len + comment_len


@pytest.mark.parametrize("bit, says", [(0x40, "is encrypted; save the workbook again from Excel without a password"),
                                       (0x20, "is packed as zip patch data, which Excel never writes")])
def test_a_part_flagged_with_what_zipfile_does_not_do(programme, tmp_path, bit, says):
    """Strong encryption (flag bit 6) or patched data (bit 5): zipfile raises NotImplementedError on opening
    the part; the scan refuses it from the directory first, naming the sheet."""
    export = tmp_path / "sales_export.xlsx"
    shutil.copy(programme / "sales_export.xlsx", export)
    part = sheet_part(members(export), "TDSheet")
    with_flag(export, part, bit)
    done, _ = price(export, programme / "tariffs.xlsx", tmp_path)
    assert_refused(done, export, f"sheet TDSheet ({part}) {says}")


def test_a_member_whose_header_says_less_than_it_holds(programme, tmp_path):
    """A member says 200 KB and unpacks to 1 GiB of cells: refused at the first byte past what it says."""
    source = programme / "sales_export.xlsx"
    part = sheet_part(members(source), "TDSheet")
    packed, crc, _ = bomb_sheet(1024**3)
    export = rebuilt(source, {part: (packed, crc, len(members(source)[part]))}, tmp_path / "liar.xlsx")
    done, _ = price(export, programme / "tariffs.xlsx", tmp_path)
    assert_refused(done, export, f"sheet TDSheet ({part}) is damaged: it unpacks to more than the",
                   "bytes its header says", bounded=True)


# ------------------------------------------------------------------ 2. DOCTYPEs and entity bombs


def test_an_entity_bomb_in_a_sheet(programme, tmp_path):
    source = programme / "tariffs.xlsx"
    parts = members(source)
    part = sheet_part(parts, "Clients")
    laughs = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    doctype = f'<!DOCTYPE worksheet [<!ENTITY l0 "lol">{laughs}]>'.encode()
    xml = re.sub(rb"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or b"") + doctype, parts[part], count=1)
    parts[part] = with_rows(xml, b'<row r="900"><c r="A900" t="inlineStr"><is><t>&l9;</t></is></c></row>')
    tariffs = write_zip(tmp_path / "tariffs.xlsx", parts)
    assert_refused(validate(tariffs), tariffs, f"sheet Clients ({part}) declares a DOCTYPE", bounded=True)

    export_parts = members(programme / "sales_export.xlsx")
    sheet = sheet_part(export_parts, "TDSheet")
    export_parts[sheet] = doctype + export_parts[sheet]
    export = write_zip(tmp_path / "export.xlsx", export_parts)
    done, _ = price(export, programme / "tariffs.xlsx", tmp_path)
    assert_refused(done, export, "sheet TDSheet (xl/worksheets/sheet1.xml) declares a DOCTYPE", bounded=True)


@pytest.mark.parametrize("where", ["xl/workbook.xml", "[Content_Types].xml", "docProps/core.xml"])
def test_a_doctype_anywhere_in_the_package(programme, tmp_path, where):
    """Harmless alone, but no workbook has one: refused when read, not after pricing, in the writer."""
    export_parts = members(programme / "sales_export.xlsx")
    export_parts[where] = b"<!DOCTYPE x>" + export_parts[where]
    export = write_zip(tmp_path / "export.xlsx", export_parts)
    done, _ = price(export, programme / "tariffs.xlsx", tmp_path)
    assert_refused(done, export, f"part {where} declares a DOCTYPE", "refused unread")

    tariff_parts = members(programme / "tariffs.xlsx")
    tariff_parts[where] = b"<!DOCTYPE x>" + tariff_parts[where]
    tariffs = write_zip(tmp_path / "tariffs.xlsx", tariff_parts)
    assert_refused(validate(tariffs), tariffs, f"part {where} declares a DOCTYPE")
    done, _ = price(programme / "sales_export.xlsx", tariffs, tmp_path)
    assert_refused(done, tariffs, f"part {where} declares a DOCTYPE")


# ------------------------------------------------------------------ 3. a stray cell far away


def test_a_stray_value_at_xfd1048576(programme, tmp_path):
    """51 KB of workbook whose used range is 17 billion cells: calamine would ask for 512 GiB and abort."""
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    parts = members(programme / "tariffs.xlsx")
    part = sheet_part(parts, "Clients")
    parts[part] = with_rows(parts[part], far)
    tariffs = write_zip(tmp_path / "tariffs.xlsx", parts)
    assert tariffs.stat().st_size < 100_000
    assert_refused(validate(tariffs), tariffs, f"sheet Clients ({part}) spans", "A1:XFD1048576",
                   "17,179,869,184 cells", "Ctrl+End", bounded=True)

    export_parts = members(programme / "sales_export.xlsx")
    sheet = sheet_part(export_parts, "TDSheet")
    export_parts[sheet] = with_rows(export_parts[sheet], far)
    export = write_zip(tmp_path / "export.xlsx", export_parts)
    done, _ = price(export, programme / "tariffs.xlsx", tmp_path)
    assert_refused(done, export, "sheet TDSheet (xl/worksheets/sheet1.xml) spans", "A1:XFD1048576", bounded=True)


def test_a_stray_cell_whose_dimension_lies_and_written_without_its_reference_first(programme, tmp_path):
    """The dimension says A1:A1 and the far cell is written ``<c s="0" r=...>``: measured, not trusted."""
    parts = members(programme / "sales_export.xlsx")
    sheet = sheet_part(parts, "TDSheet")
    xml = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', parts[sheet])
    parts[sheet] = with_rows(xml, b'<row r="1048576"><c s="0" r="XFD1048576"><v>1</v></c></row>')
    export = write_zip(tmp_path / "export.xlsx", parts)
    done, _ = price(export, programme / "tariffs.xlsx", tmp_path)
    assert_refused(done, export, "sheet TDSheet (xl/worksheets/sheet1.xml) spans", "A1:XFD1048576", bounded=True)


# ------------------------------------------------------------------ 4. a zip bomb


def test_a_zip_bomb_sheet(programme, tmp_path):
    """A sheet of 3.5 GB in a few MB, its headers honest: under the old 4 GiB check, refused by its ratio."""
    source = programme / "tariffs.xlsx"
    part = sheet_part(members(source), "Clients")
    packed, crc, size = bomb_sheet(3500 * 1024**2)
    tariffs = rebuilt(source, {part: (packed, crc, size)}, tmp_path / "tariffs.xlsx")
    assert tariffs.stat().st_size < 20 * 1024**2 and size < 4 * 1024**3
    assert_refused(validate(tariffs), tariffs, f"sheet Clients ({part}) would unpack to 3,500 MiB from",
                   "more than 100 times its packed size: a zip bomb", bounded=True)


# ------------------------------------------------------------------ 5. a million rows of spaces


def test_a_million_rows_of_single_spaces_in_the_tariff_workbook(programme, tmp_path):
    """A million rows holding a space each below six clients: refused from the XML, before any parser."""
    parts = members(programme / "tariffs.xlsx")
    part = sheet_part(parts, "Clients")
    spaces = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t xml:space="preserve"> </t></is></c></row>' % (n, n)
                      for n in range(20, 1_000_020))
    parts[part] = with_rows(parts[part], spaces)
    tariffs = write_zip(tmp_path / "tariffs.xlsx", parts)
    del parts, spaces
    assert_refused(validate(tariffs), tariffs, f"sheet Clients ({part}) spans at least", "more than the 3,000,000 allowed",
                   "rows of blank cells", bounded=True)


# ------------------------------------------------------------------ the limits themselves


def test_the_limits_scale_with_the_memory_the_process_may_hold(monkeypatch):
    from erp_plugin import xlsx_scan

    monkeypatch.setattr(xlsx_scan, "memory_bytes", lambda: 1024**3)
    small = xlsx_scan.limits(4 * 1024**3)
    assert (small.part, small.total, small.cells) == (128 * 1024**2, 256 * 1024**2, 1024**3 // 4 // xlsx_scan.CELL_BYTES)
    monkeypatch.setattr(xlsx_scan, "memory_bytes", lambda: 64 * 1024**3)
    big = xlsx_scan.limits(4 * 1024**3, max_cells=3_000_000)
    assert (big.part, big.total, big.cells) == (8 * 1024**3, 4 * 1024**3, 3_000_000)


def test_a_normal_workbook_passes_under_the_same_limits(programme, tmp_path):
    out = tmp_path / "priced.xlsx"
    done = run("price", programme / "sales_export.xlsx", "--tariffs", programme / "tariffs.xlsx", "--out", out)
    assert done.code == 0, done.output
    assert out.exists()
    assert run("validate", programme / "tariffs.xlsx").code == 0
