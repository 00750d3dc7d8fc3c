"""An .xlsx package measured before any parser reads it: what each part really holds.

A zip's headers may lie, and calamine trusts them: it inflates a part as far as
the stream goes, expands nothing but stops on a DOCTYPE only once inside it, and
allocates the whole rectangle a sheet's cells span (a single value at XFD1048576
asks for 512 GiB and aborts the process). So every part is inflated here first,
in 1 MiB pieces, and refused when it

* inflates past its limit (its share of this machine's memory, or 100 times its
  packed size once past 1 MiB: a zip bomb), or to another size than its header
  says, or is damaged (a bad deflate stream, a wrong checksum);
* declares a DOCTYPE (an entity bomb needs one), found by defusedxml's parser
  reading the part's prolog, and by a plain search for ``<!DOCTYPE`` or
  ``<!ENTITY`` in the rest;
* is a sheet whose cells span more cells (rows x columns, as calamine allocates
  them) than the caller allows.

A sheet's span is taken from its ``dimension`` and checked against every cell
reference by a few regular-expression searches, the same speed as inflating;
only a sheet whose dimension is wrong or whose cells are written unusually
(no ``r``, a namespace prefix) is measured cell by cell with expat.
"""

from __future__ import annotations

import copy
import os
import re
import xml.parsers.expat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, ParseError, fromstring

from .i18n import N_, Message, msg

CHUNK = 1024 * 1024  # bytes inflated at a time
MAX_RATIO = 100  # a part may inflate to 100x its packed size (Apache POI's default guard) ...
RATIO_GRACE = 1024 * 1024  # ... once past 1 MiB: small parts of repeated markup pack tighter
MAX_PARTS = 10_000  # a workbook of a thousand sheets has ~5 000 parts
# what zipfile and zlib raise for a part they cannot inflate: a damaged stream or header (BadZipFile, zlib.error,
# EOFError, OSError, ValueError). What zipfile does not do (another packing method, encryption, patched data)
# is refused from the central directory before any part is inflated (_check_directory)
INFLATE_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError)
ENCRYPTED, PATCHED, STRONGLY_ENCRYPTED = 0x01, 0x20, 0x40  # zip general purpose flag bits
DEFAULT_MEMORY = 8 * 1024**3  # when the machine does not say (no sysconf)
CELL_BYTES = 64  # memory a spanned cell takes: calamine's 32-byte cell and as much again for its text

_DANGER = re.compile(rb"<!(?i:doctype|entity)")
_DIMENSION = re.compile(rb'<(?:[^\s<>/!?:]+:)?dimension\s+ref="(?:[A-Z]{1,3}[1-9][0-9]{0,6}:)?([A-Z]{1,3})([1-9][0-9]{0,6})"')
_ODD_CELL = re.compile(rb'<c(?! r="[A-Z]{1,3}[1-9][0-9]{0,6}")[\s/>]')  # a cell written otherwise than <c r="A1" ...
_ANY_CELL = re.compile(rb"<c[\s/>]")
_PREFIXED_CELL = re.compile(rb":c[\s/>]")  # <x:c ...>: calamine reads it as a cell too
_CELL_COLUMNS = re.compile(rb'<c r="([A-Z]{1,3})')
_CELL_ROWS = re.compile(rb'<c r="[A-Z]{1,3}([1-9][0-9]{0,6})"')
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
           "http://purl.oclc.org/ooxml/officeDocument/relationships")


@dataclass(frozen=True)
class Limits:
    """What one package may hold here; ``limits()`` scales them to this machine."""

    part: int  # bytes one part may inflate to
    total: int  # bytes all parts together
    unpacked: int  # the caller's limit on all parts (check_workbook's max_unpacked)
    cells: int  # cells (rows x columns) the sheets may span, summed
    memory: int  # the memory they were scaled to


class Refused(Exception):
    """The package is refused before parsing: ``code`` and a sentence saying why (about ``part`` if given)."""

    def __init__(self, code: str, message: str, part: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.part = part


def memory_bytes() -> int:
    """The memory this process can hold: physical memory, less when an rlimit or a cgroup says so."""
    try:
        found = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        found = DEFAULT_MEMORY
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            found = min(found, soft)
    except (ImportError, ValueError, OSError):
        pass
    try:
        text = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if text.isdigit():
            found = min(found, int(text))
    except OSError:
        pass
    return found


def limits(max_unpacked: int, max_cells: int | None = None) -> Limits:
    """A part may inflate to an eighth of memory and all parts to a quarter (never past ``max_unpacked``):
    a parser holds a sheet's cells in about twice its XML. The sheets may span ``max_cells``, by default
    a quarter of memory at ``CELL_BYTES`` a cell."""
    memory = memory_bytes()
    cells = max_cells if max_cells is not None else memory // 4 // CELL_BYTES
    return Limits(part=memory // 8, total=min(max_unpacked, memory // 4), unpacked=max_unpacked, cells=cells,
                  memory=memory)


def scan(path: Path, archive: zipfile.ZipFile, allowed: Limits) -> None:
    """Inflate and look at every part of ``archive``; Refused at the first thing a parser must not meet."""
    try:
        _scan(path, archive, allowed)
    except Refused as refused:
        if refused.part:
            refused.message = f"{_where(archive, refused.part)} {refused.message}"
        raise


def _scan(path: Path, archive: zipfile.ZipFile, allowed: Limits) -> None:
    infos = archive.infolist()
    _check_directory(path, infos, allowed)
    spans: dict[str, tuple[int, int]] = {}
    loose = []  # sheets spanned by their dimension or with room to spare: the cells may reach less far
    inflated = 0
    try:
        for info in infos:
            if info.is_dir():
                continue
            part = _Part(info.filename, _Span(allowed.cells - _cells(spans)))
            inflated += _inflate(archive, info, part, inflated, allowed)
            span = part.span
            if span.odd:
                span = _measure_with_expat(archive, info, _Span(span.room))
            elif not span.exact:
                loose.append(info)
            if part.sheet and span.rows:
                spans[info.filename] = (span.rows, span.cols)
        for info in loose:
            if _cells(spans) <= allowed.cells:
                break
            del spans[info.filename]
            span = _measure(archive, info, _Span(allowed.cells - _cells(spans)))
            spans[info.filename] = (span.rows, span.cols)
    except _TooWide as exc:  # refused as soon as seen: the cells may reach farther still
        spans[exc.name] = (exc.span.rows, exc.span.cols)
        _refuse_spans(archive, spans, allowed, exc.name)
    if _cells(spans) > allowed.cells:
        _refuse_spans(archive, spans, allowed)


def _cells(spans: dict[str, tuple[int, int]]) -> int:
    return sum(rows * cols for rows, cols in spans.values())


def _check_directory(path: Path, infos: list[zipfile.ZipInfo], allowed: Limits) -> None:
    """What the zip's directory says, before inflating anything."""
    if len(infos) > MAX_PARTS:
        raise Refused("file.too_large", msg("holds {count:,} parts, more than the {most:,} allowed; this "
                                            "is not a normal workbook",
                                            count=len(infos), most=MAX_PARTS))
    names = set()
    for info in infos:
        if info.filename in names:
            raise Refused("file.corrupt", msg("holds part {filename} twice; save it again from Excel", filename=info.filename))
        names.add(info.filename)
    packed = sum(info.compress_size for info in infos)
    if packed > path.stat().st_size:
        raise Refused("file.corrupt", msg("is damaged: its parts claim {packed:,} packed bytes in a file of "
                                          "{size:,}; save it again from Excel",
                                          packed=packed, size=path.stat().st_size))
    declared = sum(info.file_size for info in infos)
    if declared > allowed.unpacked:  # the caller's own limit, said as it always was
        raise _too_large(declared, allowed.unpacked)
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Refused("file.corrupt", msg("is packed with zip method {compress_type}, which Excel never "
                                              "writes; save it again from Excel",
                                              compress_type=info.compress_type), part=info.filename)
        if info.flag_bits & (ENCRYPTED | STRONGLY_ENCRYPTED):
            raise Refused("file.encrypted", msg("is encrypted; save the workbook again from Excel without a password"), part=info.filename)
        if info.flag_bits & PATCHED:
            raise Refused("file.corrupt", msg("is packed as zip patch data, which Excel never writes; save it "
                                              "again from Excel"), part=info.filename)
        _check_size(info.filename, info.file_size, info, allowed)
    if declared > allowed.total:
        raise _too_large(declared, allowed.total)


def _too_large(size: int, limit: int) -> Refused:
    return Refused("file.too_large", msg("would unpack to {mib} MiB, more than the {allowed} MiB allowed; this is "
                                         "not a normal workbook",
                                         mib=_mib(size), allowed=_mib(limit)))


def _check_size(name: str, size: int, info: zipfile.ZipInfo, allowed: Limits) -> None:
    if size > max(RATIO_GRACE, MAX_RATIO * info.compress_size):
        raise Refused("file.too_large", msg("would unpack to {mib} MiB from {compress_size:,} bytes, more than "
                                            "{ratio} times its packed size: a zip bomb, not a workbook",
                                            mib=_mib(size), compress_size=info.compress_size, ratio=MAX_RATIO), part=name)
    if size > allowed.part:
        raise Refused("file.too_large", msg("would unpack to {mib} MiB, more than the {allowed} MiB one part may "
                                            "take on this machine (an eighth of its {memory} MiB of memory); "
                                            "this is not a normal workbook",
                                            mib=_mib(size), allowed=_mib(allowed.part), memory=_mib(allowed.memory)), part=name)


@dataclass
class _Part:
    """One part read through: DOCTYPEs looked for, and a sheet's cells measured by its ``span``."""

    name: str
    span: _Span
    sheet: bool = False  # holds sheetData: calamine reads cells from it
    prolog: _Prolog | None = None
    tail: bytes = b""  # an element cut by the end of a piece, kept for the next
    danger_tail: bytes = b""
    looked: bool = False

    def feed(self, chunk: bytes) -> None:
        self._danger(chunk)
        if not self.looked:
            self.looked = True
            if _looks_like_xml(chunk):
                self.prolog = _Prolog(self.name)
        if self.prolog is not None and not self.prolog.done:
            self.prolog.feed(chunk)
        data = self._whole(chunk)
        if not self.sheet:
            at = data.find(b"sheetData")
            if at < 0:
                return
            self.span.claim(data[:at])
            self.sheet, data = True, data[at:]
        self._measure(data)

    def finish(self) -> None:
        if self.tail and self.sheet:
            self._measure(self.tail)
        if self.prolog is not None and not self.prolog.done:
            self.prolog.close()

    def _whole(self, chunk: bytes) -> bytes:
        """The piece up to its last ``<``: no element is cut in two."""
        data = self.tail + chunk
        cut = data.rfind(b"<")
        data, self.tail = (data[:cut], data[cut:]) if cut >= 0 else (data, b"")
        return data

    def _measure(self, data: bytes) -> None:
        try:
            self.span.feed(data)
        except _TooWide as exc:
            exc.name = self.name
            raise

    def _danger(self, chunk: bytes) -> None:
        edge = self.danger_tail + chunk[:16]  # a <!DOCTYPE cut by the end of the last piece
        if (chunk.find(b"!") >= 0 and _DANGER.search(chunk)) or _DANGER.search(edge):  # find: memchr, fast
            raise Refused("file.unsafe", _doctype_message(), part=self.name)
        self.danger_tail = chunk[-16:]


@dataclass
class _Span:
    """How far a sheet's cells reach, read piece by piece as calamine would place them.

    It starts as the sheet's ``dimension``, and every piece is searched once for a cell outside it
    or written otherwise than ``<c r="A1"``. A piece with a cell outside has its references read one
    by one and the span widened (with rows to spare, so that ascending rows do not make every piece
    slow); a cell written otherwise (no ``r``, a namespace prefix) leaves the part to expat.
    """

    room: int  # cells the sheet may span: _TooWide once its cells are seen to span more
    rows: int = 0  # no cell lies past this row or this column (1-based)
    cols: int = 0
    seen_rows: int = 0  # the farthest row and column a cell was seen at
    seen_cols: int = 0
    exact: bool = True  # rows, cols are where cells were seen
    odd: bool = False  # some cell is written otherwise than <c r="A1" ...>
    outside: re.Pattern = field(default_factory=lambda: _ANY_CELL)

    def claim(self, head: bytes) -> None:
        """The sheet's own dimension, as the span to check every cell against."""
        found = _DIMENSION.search(head)
        if found:
            self._widen(int(found.group(2)), _column(found.group(1)), exact=False)

    def feed(self, data: bytes) -> None:
        if self.odd:
            return
        if _PREFIXED_CELL.search(data) or self.outside.search(data) and _ODD_CELL.search(data):
            self.odd = True
            return
        if self.outside is not _ANY_CELL and not self.outside.search(data):
            return
        self.seen_cols = max(self.seen_cols, *map(_column, set(_CELL_COLUMNS.findall(data))), 0)
        self.seen_rows = max(self.seen_rows, *map(int, _CELL_ROWS.findall(data)), 0)
        if self.seen_rows * self.seen_cols > self.room:
            self.rows, self.cols, self.exact = self.seen_rows, self.seen_cols, True
            raise _TooWide(self)
        rows, cols = max(self.rows, self.seen_rows), max(self.cols, self.seen_cols)
        spare = max(rows, min(2 * rows, self.room // max(cols, 1)))
        self._widen(spare, cols, exact=self.exact and (spare, cols) == (self.seen_rows, self.seen_cols))

    def _widen(self, rows: int, cols: int, exact: bool) -> None:
        self.rows, self.cols, self.exact = rows, cols, exact
        self.outside = re.compile(rb'<c(?! r="(?:' + _upto(_letters(cols).encode(), _LETTERS) + rb")(?:"
                                  + _upto(str(rows).encode(), _DIGITS) + rb')")[\s/>]')


class _TooWide(Exception):
    """A sheet's cells are seen to span more than it may: no need to read further."""

    def __init__(self, span: _Span):
        self.span = span
        self.name = ""


class _Reached(Exception):
    """The prolog is over: the root element starts."""


class _Prolog:
    """defusedxml's parser over a part's beginning, up to its root element: a DOCTYPE there is refused."""

    def __init__(self, name: str):
        self.name = name
        self.done = False
        self.parser = DefusedXMLParser(target=self, forbid_dtd=True)

    def start(self, tag, attrs) -> None:
        raise _Reached

    def feed(self, chunk: bytes) -> None:
        try:
            self.parser.feed(chunk)
        except _Reached:
            self.done = True
        except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden):
            raise Refused("file.unsafe", _doctype_message(), part=self.name) from None
        except ParseError as exc:
            raise Refused("file.corrupt", msg("is not XML; save it again from Excel (detail: {detail})", detail=str(exc)), part=self.name) from None

    def close(self) -> None:
        try:
            self.parser.close()
        except _Reached:
            pass
        except ParseError as exc:
            raise Refused("file.corrupt", msg("is not XML; save it again from Excel (detail: {detail})", detail=str(exc)), part=self.name) from None
        self.done = True


def _doctype_message() -> str:
    return (msg("declares a DOCTYPE or an entity, which workbooks never do and an XML bomb needs; refused unread"))


def _looks_like_xml(chunk: bytes) -> bool:
    start = chunk[:4]
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-16
    return chunk.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"<"


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, part: _Part, before: int, allowed: Limits) -> int:
    """Inflate one part through ``part``; its real size, which must be what its header says."""
    declared = info.file_size
    probe = copy.copy(info)
    probe.file_size = declared + 1  # zipfile stops at the declared size; one byte more shows a longer stream
    del probe.CRC  # checked here, after the size: a stream longer than it says is told as such
    size, crc = 0, 0
    try:
        with archive.open(probe) as stream:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > declared:
                    raise Refused("file.corrupt", msg("is damaged: it unpacks to more than the {declared:,} "
                                                      "bytes its header says; save it again from Excel",
                                                      declared=declared), part=info.filename)
                if before + size > allowed.total:
                    raise Refused("file.too_large", msg("would unpack to more than the {mib} MiB allowed; this "
                                                        "is not a normal workbook",
                                                        mib=_mib(allowed.total)))
                crc = zlib.crc32(chunk, crc)
                part.feed(chunk)
    except INFLATE_ERRORS as exc:
        raise Refused("file.corrupt", msg("is damaged; save it again from Excel (detail: {detail})", detail=_plain(exc)),
                      part=info.filename) from None
    if size != declared:
        raise Refused("file.corrupt", msg("is damaged: it unpacks to {size:,} bytes, its header says "
                                          "{declared:,}; save it again from Excel",
                                          size=size, declared=declared), part=info.filename)
    if crc != info.CRC:
        raise Refused("file.corrupt", msg("is damaged (its checksum does not match its content); save it again "
                                          "from Excel"),
                      part=info.filename)
    part.finish()
    return size


def _plain(exc: BaseException) -> str | Message:
    """The inflater's text, the library's words kept as a detail; a bad checksum said in the user's language."""
    text = str(exc)
    if "Bad CRC-32" in text:
        return N_("its checksum does not match its content")
    return text or type(exc).__name__


def _measure(archive: zipfile.ZipFile, info: zipfile.ZipInfo, span: _Span) -> _Span:
    """A sheet measured again, every cell reference read: its dimension said more than its cells reach."""
    part = _Part(info.filename, span)
    part.sheet, span.outside = False, _ANY_CELL
    with archive.open(info) as stream:
        while chunk := stream.read(CHUNK):
            data = part._whole(chunk)
            if not part.sheet:
                at = data.find(b"sheetData")
                if at < 0:
                    continue
                part.sheet, data = True, data[at:]
            part._measure(data)
    part._measure(part.tail)
    return _measure_with_expat(archive, info, _Span(span.room)) if span.odd else span


def _measure_with_expat(archive: zipfile.ZipFile, info: zipfile.ZipInfo, span: _Span) -> _Span:
    """A sheet measured cell by cell with expat, each cell placed as calamine places it.

    A cell without ``r`` takes the next column of its row, a row without ``r`` the row after the last;
    every cell counts, filled or not (calamine leaves empty ones out, so this may say more, never less).
    """
    at = {"row": 0, "col": 0}

    def start(name: str, attrs: dict) -> None:
        local = name.rpartition(":")[2]
        if local == "row":
            if "r" in attrs:
                at["row"] = _position(attrs["r"])[0]
        elif local == "c":
            if "r" in attrs:
                at["row"], at["col"] = _position(attrs["r"])
            span.rows, span.cols = max(span.rows, at["row"] + 1), max(span.cols, at["col"] + 1)
            if span.rows * span.cols > span.room:
                raise _TooWide(span)
            at["col"] += 1

    def end(name: str) -> None:
        if name.rpartition(":")[2] == "row":
            at["row"] += 1
            at["col"] = 0

    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except xml.parsers.expat.ExpatError as exc:
        raise Refused("file.corrupt", msg("is not XML; save it again from Excel (detail: {detail})", detail=str(exc)), part=info.filename) from None
    except _TooWide as exc:
        exc.name = info.filename
        raise
    span.seen_rows, span.seen_cols, span.exact = span.rows, span.cols, True
    return span


def _position(ref: str) -> tuple[int, int]:
    """``"B3"`` -> ``(2, 1)``, 0-based (row, column), read as calamine reads it (letters of any case)."""
    letters = ref.rstrip("0123456789")
    digits = ref[len(letters):]
    column = 0
    for char in letters.upper():
        column = column * 26 + ord(char) - 64
    return (int(digits) - 1 if digits else 0), max(column - 1, 0)


def _refuse_spans(archive: zipfile.ZipFile, spans: dict[str, tuple[int, int]], allowed: Limits,
                  unfinished: str | None = None) -> None:
    total = sum(rows * cols for rows, cols in spans.values())
    part, (rows, cols) = max(spans.items(), key=lambda item: item[1][0] * item[1][1])
    at_least = msg("at least ") if part == unfinished else ""
    alone = rows * cols
    others = msg(" ({total:,} with the other sheets)", total=total) if total != alone else ""
    raise Refused("file.too_large", msg("spans {at_least}A1:{corner}, {cells:,} cells{others}, more than the "
                                        "{allowed:,} allowed here; a stray value far from the data or rows of blank "
                                        "cells make it so (Ctrl+End in Excel goes to the last one): delete those rows "
                                        "and columns and save", at_least=at_least, corner=f"{_letters(cols)}{rows}",
                                        cells=alone, others=others, allowed=allowed.cells), part=part)


def _where(archive: zipfile.ZipFile, part: str) -> str:
    sheet = _sheet_names(archive).get(part)
    return f"sheet {sheet} ({part})" if sheet else f"part {part}"


def _sheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part -> sheet name, to say which sheet is refused; nothing when the workbook does not tell."""
    try:
        book = fromstring(archive.read("xl/workbook.xml"), forbid_dtd=True)
        rels = fromstring(archive.read("xl/_rels/workbook.xml.rels"), forbid_dtd=True)
    except Exception:  # the names only help the message; a workbook without them is refused all the same
        return {}
    targets = {}
    for rel in rels:
        target = rel.get("Target", "")
        targets[rel.get("Id")] = target.lstrip("/") if target.startswith("/") else "xl/" + target.removeprefix("./")
    names = {}
    for sheet in book.iter(f"{{{_MAIN_NS}}}sheet"):
        rid = next((sheet.get(f"{{{ns}}}id") for ns in _REL_NS if sheet.get(f"{{{ns}}}id")), None)
        if rid in targets:
            names[targets[rid]] = sheet.get("name")
    return names


_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = b"0123456789"


def _upto(numeral: bytes, alphabet: bytes) -> bytes:
    """A regular expression for the numerals of ``alphabet`` from the first one up to ``numeral``.

    Letters count A..Z with no zero (Excel's columns), digits have no leading zero: a shorter
    numeral is smaller, and of the same length the first differing place decides.
    """
    first, last = alphabet[:1], alphabet[-1:]
    lead = alphabet[1:2] if alphabet == _DIGITS else first
    options = [re.escape(numeral)]
    if len(numeral) > 1:
        options.append(b"[" + lead + b"-" + last + b"][" + first + b"-" + last + b"]{0,%d}" % (len(numeral) - 2))
    for at, place in enumerate(numeral):
        lower = alphabet[(alphabet.index(lead) if at == 0 else 0):alphabet.index(place)]
        if lower:
            rest = len(numeral) - at - 1
            options.append(re.escape(numeral[:at]) + b"[" + lower[:1] + b"-" + lower[-1:] + b"]"
                           + (b"[" + first + b"-" + last + b"]{%d}" % rest if rest else b""))
    return b"|".join(options)


def _column(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + char - 64
    return number


def _letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters or "A"


def _mib(size: int) -> str:
    return f"{size / 1024**2:,.0f}"
