"""Reading a csv export: its encoding found over the whole file, its delimiter sniffed, then its rows in chunks.

The header row is found in the first lines as in a sheet; the rows below it
come as frames of text cells, one column per mapped field, ``_first`` and
``source_row``, as read_xlsx gives them.

The encoding (SPEC §6; docs/decisions.md, "CSV encodings"): a byte-order mark
says UTF-8 or UTF-16, and NUL bytes in every other place of the first bytes
say UTF-16 without one; a UTF-16 file is then decoded whole to check it.
Otherwise the whole file is checked as UTF-8, a block of whole lines at a
time (Arrow's validator; an ASCII block is only looked at): the usual case
costs one fast pass. Only a file that is not UTF-8 is scanned again, whole,
for what it is: one of the Cyrillic single-byte encodings Russian ERPs write
(Windows-1251, 1C's default; KOI8-R; CP866), chosen by charset-normalizer
from lines with non-ASCII bytes taken from every part of the file. A binary
file (NUL bytes), a file no supported encoding reads, or one that mixes UTF-8
with another encoding is one problem naming the byte offset and the line where
it goes wrong.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from ..i18n import N_, Message, msg
from ..lines import SOURCE_ROW
from ..problems import Problem
from .header import HEADER_SCAN_ROWS, ExportError, ExportSource, find_header, no_header

HEAD_BYTES = 256 * 1024  # the header is looked for in the lines of the file's first bytes
BLOCK_BYTES = 16 * 1024 * 1024  # the encoding is checked this much at a time
SAMPLE_BYTES_PER_BLOCK = 16 * 1024  # lines with non-ASCII bytes taken from each block for the detector
SAMPLE_LINE_BYTES = 4096  # at most this much of one line, around its first non-ASCII byte
SINGLE_BYTE = ("cp1251", "koi8-r", "cp866")  # the Cyrillic encodings Russian ERPs write; 1C's default first
SHOWN = {
    "utf-8": "UTF-8", "utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE",
    "cp1251": "Windows-1251", "koi8-r": "KOI8-R", "cp866": "CP866",
}
SUPPORTED = "UTF-8, UTF-16, Windows-1251, KOI8-R or CP866"

# Each byte's class in the scan of a file that is not UTF-8: NUL, newline, ASCII (.), a UTF-8
# continuation byte (C), a UTF-8 lead byte of Cyrillic (L: 0xD0, 0xD1) or another high byte (H).
_CLASSES = bytearray(b"." * 256)
_CLASSES[0], _CLASSES[0x0A] = 0, 0x0A
_CLASSES[0x80:0xC0] = b"C" * 0x40
_CLASSES[0xC0:0x100] = b"H" * 0x40
_CLASSES[0xD0:0xD2] = b"LL"
CLASSES = bytes(_CLASSES)
UTF8_CYRILLIC = b"LCLC"  # two Cyrillic letters in UTF-8; no real text in the single-byte encodings has these bytes


def _undefined(encoding: str) -> bytes:
    """The bytes ``encoding`` has no character for (Windows-1251: 0x98)."""
    found = bytearray()
    for value in range(256):
        try:
            bytes([value]).decode(encoding)
        except UnicodeDecodeError:
            found.append(value)
    return bytes(found)


UNDEFINED = {encoding: _undefined(encoding) for encoding in SINGLE_BYTE}


def detect_encoding(path: Path) -> str:
    """The file's encoding as a Python codec: utf-8, utf-8-sig, utf-16 (with its BOM), utf-16-le, utf-16-be
    (without one), cp1251, koi8-r or cp866; found and checked over the whole file.

    Raises ExportError: the file is binary, in no supported encoding, or mixes encodings.
    """
    file = str(path)
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
        for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
            if head.startswith(bom):
                _check_utf16(file, handle, codec, len(bom))
                return "utf-16"  # pandas reads the BOM and drops it
        if codec := _utf16_without_bom(head):
            _check_utf16(file, handle, codec, 0)
            return codec
        bom = head.startswith(codecs.BOM_UTF8)
        failed = _check_utf8(handle, len(codecs.BOM_UTF8) if bom else 0)
        if failed is None:
            return "utf-8-sig" if bom else "utf-8"
        what, first_bad = failed
        if what == "nul":
            raise _binary(file, handle, first_bad)
        scan = _scan(handle)  # not UTF-8: what is it, over the whole file?
        if scan.nul is not None:
            raise _binary(file, handle, scan.nul)
        if bom or scan.utf8 is not None:
            if not bom and scan.utf8 > first_bad:  # another encoding first, then UTF-8
                where = msg("it is not UTF-8 from {place} on, but turns UTF-8 at {utf8_place}",
                            place=_place(handle, first_bad), utf8_place=_place(handle, scan.utf8))
            else:
                where = msg("it is UTF-8 up to {place}, which is not", place=_place(handle, first_bad))
            raise _not_text(
                file, msg("mixes encodings: {where}; save the whole export again in one encoding (UTF-8 is "
                          "best)",
                          where=where)
            )
        chosen = _choose(scan.sample)
        if chosen is None:
            raise _not_text(
                file, msg("is not text in a supported encoding ({supported}): it is not UTF-8 from {place} on, "
                          "and reads as none of the others",
                          supported=SUPPORTED, place=_place(handle, first_bad))
            )
        if chosen in scan.undefined:
            raise _not_text(
                file, msg("reads as {encoding} text, but {place} is no {encoding} character; save the export again "
                          "as text in one encoding ({supported})",
                          encoding=SHOWN[chosen], place=_place(handle, scan.undefined[chosen]), supported=SUPPORTED)
            )
        return chosen


def _blocks(handle: BinaryIO, offset: int) -> Iterator[tuple[int, bytes]]:
    """The file from ``offset`` in blocks of whole lines, each with its offset; a line longer than a block
    is cut before a byte that begins a UTF-8 character."""
    handle.seek(offset)
    carry = b""
    while True:
        block = handle.read(BLOCK_BYTES)
        if not block:
            if carry:
                yield offset, carry
            return
        if not block.endswith(b"\n"):
            block += handle.readline(BLOCK_BYTES)  # to the end of its line
        if carry:
            block = carry + block
        carry = b""
        if not block.endswith(b"\n"):
            cut = len(block)
            while cut > max(len(block) - 4, 0) and 0x80 <= block[cut - 1] < 0xC0:
                cut -= 1
            if cut > 0 and block[cut - 1] >= 0xC0:
                cut -= 1
            if cut > 0:
                block, carry = block[:cut], block[cut:]
        yield offset, block
        offset += len(block)


def _check_utf8(handle: BinaryIO, offset: int) -> tuple[str, int] | None:
    """None when the file from ``offset`` on is UTF-8 with no NUL; else ("nul" or "undecodable", the offset
    of the first byte that fails). Arrow validates a block (no text is made); Python's decoder finds the byte."""
    import pyarrow as pa  # loaded already by the readers; its validator is several times Python's decoder

    for start, block in _blocks(handle, offset):
        if (nul := block.find(b"\x00")) >= 0:
            return "nul", start + nul
        if block.isascii():
            continue
        ends = pa.py_buffer(np.array([0, len(block)], dtype=np.int64))
        try:
            pa.Array.from_buffers(pa.large_string(), 1, [None, ends, pa.py_buffer(block)]).validate(full=True)
        except pa.ArrowInvalid:
            try:
                block.decode("utf-8")
            except UnicodeDecodeError as exc:
                return "undecodable", start + exc.start
    return None


def _check_utf16(file: str, handle: BinaryIO, codec: str, offset: int) -> None:
    """Raises ExportError when the file from ``offset`` on does not decode as ``codec`` or holds a NUL."""
    handle.seek(offset)
    decoder = codecs.getincrementaldecoder(codec)("strict")
    failed: tuple[str, int] | None = None
    while failed is None and (block := handle.read(BLOCK_BYTES)):
        pending = len(decoder.getstate()[0])  # bytes of a character cut by the previous block's end
        try:
            text = decoder.decode(block)
        except UnicodeDecodeError as exc:
            failed = msg("is not {encoding}", encoding=SHOWN[codec]), offset - pending + exc.start
            break
        if (nul := text.find("\x00")) >= 0:
            failed = msg("is a NUL character"), offset - pending + len(text[:nul].encode(codec))
        offset += len(block)
    if failed is None:
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:  # a character cut by the end of the file
            failed = msg("is not {encoding}", encoding=SHOWN[codec]), offset - pending + exc.start
    if failed is not None:
        problem, offset = failed
        raise _not_text(
            file, msg("begins as {encoding} text, but {place} {problem}; save the export again as text in one "
                      "encoding ({supported})",
                      encoding=SHOWN[codec], place=_place(handle, offset, codec), problem=problem, supported=SUPPORTED)
        )


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16LE/BE when the first bytes have NULs in every other place (a csv's ASCII) and not in the others."""
    units = len(head) // 2
    if units < 8:
        return None
    zeros = np.frombuffer(head[: 2 * units], dtype=np.uint8).reshape(units, 2) == 0
    even, odd = zeros.sum(axis=0) / units
    if odd >= 0.2 and even <= 0.01:
        return "utf-16-le"
    if even >= 0.2 and odd <= 0.01:
        return "utf-16-be"
    return None


@dataclass
class _Scan:
    """What a file that is not UTF-8 holds, seen over all of it."""

    nul: int | None = None  # first NUL byte
    utf8: int | None = None  # first two Cyrillic letters written in UTF-8
    undefined: dict[str, int] = field(default_factory=dict)  # encoding -> first byte it has no character for
    sample: list[bytes] = field(default_factory=list)  # lines with non-ASCII bytes, from every block


def _scan(handle: BinaryIO) -> _Scan:
    scan = _Scan()
    for offset, block in _blocks(handle, 0):
        classes = block.translate(CLASSES)
        if scan.nul is None and (at := classes.find(b"\x00")) >= 0:
            scan.nul = offset + at
        if scan.utf8 is None and (at := classes.find(UTF8_CYRILLIC)) >= 0:
            scan.utf8 = offset + at
        for encoding, undefined in UNDEFINED.items():
            places = [at for value in undefined if (at := block.find(bytes([value]))) >= 0]
            if places and encoding not in scan.undefined:
                scan.undefined[encoding] = offset + min(places)
        scan.sample.extend(_high_lines(block, classes, SAMPLE_BYTES_PER_BLOCK))
    return scan


def _high_lines(block: bytes, classes: bytes, budget: int) -> list[bytes]:
    """The first lines of ``block`` with a non-ASCII byte, up to ``budget`` bytes."""
    found: list[bytes] = []
    following = {kind: classes.find(kind) for kind in (b"C", b"H", b"L")}  # the next byte of each class
    position = taken = 0
    while taken < budget:
        for kind, at in following.items():
            if 0 <= at < position:
                following[kind] = classes.find(kind, position)
        ahead = [at for at in following.values() if at >= 0]
        if not ahead:
            break
        at = min(ahead)
        start = max(block.rfind(b"\n", 0, at) + 1, at - SAMPLE_LINE_BYTES // 2)
        end = block.find(b"\n", at)
        end = min(len(block) if end < 0 else end + 1, at + SAMPLE_LINE_BYTES // 2)
        found.append(block[start:end])
        taken += end - start
        position = end
    return found


def _choose(sample: list[bytes]) -> str | None:
    """The single-byte encoding the sampled lines read best in (charset-normalizer), None when none reads them."""
    # only a file that is not UTF-8 pays for the import
    from charset_normalizer import from_bytes

    text = b"".join(sample).translate(None, delete=b"".join(UNDEFINED.values()))  # a stray 0x98 is named after
    best = from_bytes(text, cp_isolation=[e.replace("-", "_") for e in SINGLE_BYTE]).best()
    return best.encoding.replace("_", "-") if best is not None else None


def _line_at(handle: BinaryIO, offset: int, codec: str) -> int:
    """The 1-based line of the file that byte ``offset`` is on."""
    handle.seek(0)
    decoder = codecs.getincrementaldecoder(codec)("replace") if codec.startswith("utf-16") else None
    lines, left = 1, offset
    while left > 0 and (block := handle.read(min(BLOCK_BYTES, left))):
        left -= len(block)
        lines += decoder.decode(block).count("\n") if decoder else block.count(b"\n")
    return lines


def _place(handle: BinaryIO, offset: int, codec: str = "latin-1") -> Message:
    """``byte N (line L, 0xHH)``: where a file goes wrong, as a user finds it in an editor."""
    handle.seek(offset)
    shown = handle.read(2 if codec.startswith("utf-16") else 1).hex(" ").upper()
    return msg("byte {offset} (line {line}, 0x{shown})", offset=offset, line=_line_at(handle, offset, codec), shown=shown)


def _not_text(file: str, message: Message) -> ExportError:
    return ExportError(Problem("export.encoding", message, file=file))


def _binary(file: str, handle: BinaryIO, offset: int) -> ExportError:
    return _not_text(
        file, msg("is not a text file: {place} is a NUL byte; export the sales as csv text ({supported}), xlsx "
                  "or parquet",
                  place=_place(handle, offset), supported=SUPPORTED)
    )


def _sniff_delimiter(lines: list[str]) -> str:
    counts = {d: sum(line.count(d) for line in lines) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: (counts[d], d == ";"))
    return best if counts[best] else ";"


def load_csv(path: Path, columns: Mapping[str, str], chunk_rows: int) -> tuple[ExportSource, Iterator[pd.DataFrame]]:
    """The file's ExportSource and its rows below the header, ``chunk_rows`` at a time."""
    file = str(path)
    encoding = detect_encoding(path)
    with path.open("rb") as handle:
        sample = handle.read(HEAD_BYTES)
    text = sample.decode(encoding, errors="replace")
    head_lines = text.splitlines()[:HEADER_SCAN_ROWS]
    delimiter = _sniff_delimiter(head_lines)
    try:
        scanned = list(csv.reader(io.StringIO("\n".join(head_lines)), delimiter=delimiter))
    except csv.Error as exc:  # a value longer than the csv module takes (128 KiB), a stray NUL: not an export's
        raise ExportError(Problem("export.csv", msg("cannot be read as {delimiter!r}-separated text within its "
                                                    "first {lines} lines; save it again as csv from the ERP or Excel "
                                                    "(detail: {detail})",
                                                    delimiter=delimiter, lines=HEADER_SCAN_ROWS, detail=str(exc)), file=file)) from None
    header_index, fields, complete = find_header(scanned, columns)
    if not complete:
        raise no_header(file, scanned, columns, N_("the file"))
    headers = list(scanned[header_index])
    source = ExportSource(path, "csv", None, header_index + 1, headers, len(headers), fields, encoding, delimiter,
                          _estimated_rows(path, sample, head_lines, header_index))
    return source, (mapped for _body, mapped in csv_bodies(path, source, chunk_rows))


def _estimated_rows(path: Path, sample: bytes, head_lines: list[str], header_index: int) -> int:
    """The rows below the header, estimated from the file's size and the first lines' length (for a progress
    bar only: the count read is what is true)."""
    size = path.stat().st_size
    if len(sample) >= size:  # the whole file was read: its lines are counted
        return max(sample.count(b"\n") + (not sample.endswith(b"\n")) - header_index - 1, 0)
    per_line = len(sample) / max(sample.count(b"\n"), 1)
    return max(int(size / per_line) - header_index - 1, len(head_lines) - header_index - 1, 0)


def csv_bodies(path: Path, source: ExportSource, chunk_rows: int) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """The rows below the header, ``chunk_rows`` at a time, two ways: every column of the file as text
    (columns numbered from 0, a short row's missing cells blank), and the mapped fields as load_csv gives
    them (with ``_first`` and ``source_row``)."""
    first_row = source.header_row + 1
    try:
        reader = pd.read_csv(
            path, sep=source.delimiter, encoding=source.encoding, header=None, skiprows=source.header_row, dtype=str,
            keep_default_na=False, skip_blank_lines=False, chunksize=chunk_rows,
        )
        for body in reader:
            n = len(body)
            data = {
                name: body[index].astype(object) if index in body.columns else pd.Series([""] * n, dtype=object)
                for name, index in source.fields.items()
            }
            frame = pd.DataFrame(data).reset_index(drop=True)
            frame["_first"] = body[0].astype(object).to_numpy() if 0 in body.columns else ""
            frame[SOURCE_ROW] = np.arange(first_row, first_row + n, dtype=np.int64)
            first_row += n
            yield body.reset_index(drop=True), frame
    except pd.errors.EmptyDataError:  # nothing below the header: no lines
        return
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        problem = Problem("export.csv", msg("cannot be read as {delimiter!r}-separated text; save it again as csv "
                                            "from the ERP or Excel (detail: {detail})", delimiter=source.delimiter,
                                            detail=str(exc)), file=str(path))
        raise ExportError(problem) from None
