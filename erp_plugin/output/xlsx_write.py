"""Writing results back into the export's own .xlsx/.xlsm by rewriting only what must change.

openpyxl round trips drop cached formula values and cost minutes and gigabytes
on big sheets. Instead the package is copied part by part, unchanged, except:

* the lines sheet's XML, streamed row by row: result cells are appended to the
  header row and to each line's row (to the right of the used range), the
  ``dimension``, ``spans``, column widths and an ``autoFilter`` are widened;
* ``styles.xml``: a few cell formats are appended (money, quantity, percent,
  date), cloned from the style of the line cells so fonts and borders match;
* an Excel Table over the lines is widened with the new columns;
* result sheets are added as new parts (workbook, relationships, content types),
  with their charts (drawing and chart parts made by openpyxl's chart classes).

Running it again on its own output replaces the earlier results rather than
adding a second set: the header row then ends with the same result columns.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd
from defusedxml import ElementTree
from openpyxl.utils import column_index_from_string, get_column_letter

from ..i18n import header
from ..ooxml import MAIN_NS, PKG_REL, PKG_REL_NS, REL_NS, rels_of, resolve
from ..tables import ColumnKind
from .charts import Chart, openpyxl_chart
from .formats import number_format
from .render import (
    column_text,
    escape_formula,
    excel_serial,
    float_text,
    int_values,
    scaled_text,
    xml_text,
)

WORKSHEET_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
DRAWING_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing"
DRAWING_CT = "application/vnd.openxmlformats-officedocument.drawing+xml"
CHART_CT = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CHART_PAGE = (  # a sheet with a chart prints landscape, one page wide, so the chart is not cut in two
    b'<pageMargins left="0.5" right="0.5" top="0.5" bottom="0.5" header="0.3" footer="0.3"/>'
    b'<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
)
BUILTIN_FORMATS = {"0": 1, "#,##0": 3, "#,##0.00": 4}  # format codes Excel knows by id: no numFmt entry for them
BIG_PART = 8 * 1024 * 1024  # parts above this are recompressed fast rather than small
ROW_RE = re.compile(rb"<row\b([^>]*?)(/>|>(.*?)</row>)", re.DOTALL)
ROW_NUM_RE = re.compile(rb'\br="(\d+)"')
CELL_REF_RE = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)\d+"')


@dataclass(frozen=True)
class Column:
    """A result column: its header, its kind, and one value per written row."""

    name: str
    kind: ColumnKind
    values: object


@dataclass(frozen=True)
class Sheet:
    """A result table to add as a sheet."""

    title: str
    frame: pd.DataFrame
    kinds: dict[str, ColumnKind]
    charts: tuple[Chart, ...] = ()


class Package:
    """The parts of an .xlsx package, read once; changed parts are replaced before writing."""

    def __init__(self, path: Path):
        self.path = path
        with zipfile.ZipFile(path) as archive:
            self.infos = archive.infolist()
        self.changed: dict[str, bytes] = {}
        self.added: list[str] = []

    def read(self, name: str) -> bytes:
        if name in self.changed:
            return self.changed[name]
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(name)

    def has(self, name: str) -> bool:
        return name in self.changed or any(i.filename == name for i in self.infos)

    def put(self, name: str, data: bytes | Callable[[], Iterable[bytes]]) -> None:
        """Replace or add a part: bytes, or a function giving its pieces (streamed when saving)."""
        if not self.has(name):
            self.added.append(name)
        self.changed[name] = data

    def save(self, target: Path) -> None:
        with zipfile.ZipFile(self.path) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in self.infos:
                out = zipfile.ZipInfo(info.filename, info.date_time)
                out.external_attr = info.external_attr
                out.compress_type = info.compress_type
                self._write(dst, out, self.changed.get(info.filename), src)
            for name in self.added:
                self._write(dst, zipfile.ZipInfo(name, self.infos[0].date_time), self.changed[name], src)

    @staticmethod
    def _write(dst: zipfile.ZipFile, info: zipfile.ZipInfo, data, src: zipfile.ZipFile) -> None:
        if data is None:
            data = src.read(info.filename)  # an unchanged part: the same bytes, recompressed
        if isinstance(data, bytes):
            dst.writestr(info, data, compresslevel=1 if len(data) > BIG_PART else 6)
            return
        info.compress_type = zipfile.ZIP_DEFLATED
        info._compresslevel = 1  # a streamed part is a big sheet: fast compression
        with dst.open(info, "w", force_zip64=True) as stream:
            for piece in data():
                stream.write(piece)


def write_back(src: Path, target: Path, sheet: str, header_row: int, width: int, rows: np.ndarray,
               columns: list[Column], sheets: list[Sheet]) -> None:
    """Write ``columns`` into ``sheet`` of ``src`` (row ``rows[i]`` gets value ``i``) and add ``sheets``."""
    package = Package(src)
    workbook = _Workbook(package)
    part = workbook.sheet_part(sheet)
    styles = _Styles(package)
    xml = package.read(part)
    header_cells = _row_cells(xml, header_row)
    previous = _previous_results(header_cells, [header(c.name) for c in columns])
    start = previous or width + 1
    line_style = _last_style(_row_cells(xml, int(rows[0]))) if len(rows) else 0
    header_style = _last_style(header_cells)
    formats = {c.kind: styles.with_format(line_style, c.kind) for c in columns}
    new_cells = _line_cells(rows, columns, start, formats)
    new_cells[header_row] = _header_cells(header_row, [header(c.name) for c in columns], start, header_style)
    last = start + len(columns) - 1
    package.put(part, lambda: _rewrite_sheet(xml, new_cells, start, last, header_row, strip=previous is not None))
    _widen_tables(package, part, header_row, start, [header(c.name) for c in columns], previous is not None)
    header_format = {k: styles.with_format(header_style, k) for s in sheets for k in s.kinds.values()}
    for result in sheets:
        workbook.put_sheet(result, _table_sheet(result, header_style, header_format), replace=previous is not None)
    styles.save()
    workbook.save()
    package.save(target)


def new_workbook(target: Path, sheets: list[Sheet]) -> None:
    """A fresh workbook holding ``sheets``, the first one first (lines read from csv or parquet)."""
    from openpyxl import Workbook

    base = target.with_name(target.name + ".base.xlsx")
    blank = Workbook()
    blank.active.title = sheets[0].title
    blank.save(base)
    try:
        package = Package(base)
        workbook = _Workbook(package)
        styles = _Styles(package)
        formats = {k: styles.with_format(0, k) for s in sheets for k in s.kinds.values()}
        for sheet in sheets:
            workbook.put_sheet(sheet, _table_sheet(sheet, 0, formats), replace=sheet is sheets[0])
        styles.save()
        workbook.save()
        package.save(target)
    finally:
        base.unlink()


# ------------------------------------------------------------------ cells


def _line_cells(rows: np.ndarray, columns: list[Column], start: int, formats: dict[ColumnKind, int]) -> dict[int, bytes]:
    """The XML of every line's new cells, built column-wise, then joined per row."""
    row_text = rows.astype(str).astype(object)
    per_row = np.full(len(rows), "", dtype=object)
    for offset, column in enumerate(columns):
        letter = get_column_letter(start + offset)
        cells = _cells(letter, row_text, column.values, column.kind, formats[column.kind])
        per_row = per_row + cells
    joined = "\x00".join(per_row.tolist()).encode("utf-8").split(b"\x00")
    return dict(zip(rows.tolist(), joined))


def _cells(letter: str, row_text: np.ndarray, values, kind: ColumnKind, style: int) -> np.ndarray:
    prefix = f'<c r="{letter}'
    if kind.name == "text":
        text = pd.Series(values, copy=False).reset_index(drop=True).astype(object)
        blank = text.isna().to_numpy()
        text = text.where(~blank, "").astype(str)
        missing = blank | (text == "").to_numpy()
        body = xml_text(escape_formula(text)).to_numpy(dtype=object)
        cells = prefix + row_text + f'" s="{style}" t="inlineStr"><is><t xml:space="preserve">' + body + "</t></is></c>"
        return np.where(missing, "", cells)
    if kind.name == "date":
        ints, missing = excel_serial(values)
        text = ints.astype(str).astype(object)
    elif kind.name == "float":
        text = float_text(values)
        missing = pd.isna(text)
        text = np.where(missing, "", text)
    else:
        ints, missing = int_values(values)
        text = scaled_text(ints, kind.decimals).astype(object)
    cells = prefix + row_text + f'" s="{style}"><v>' + text + "</v></c>"
    return np.where(missing, "", cells)


def _header_cells(row: int, names: list[str], start: int, style: int) -> bytes:
    cells = []
    for offset, name in enumerate(names):
        escaped = name.replace("&", "&amp;").replace("<", "&lt;")
        cells.append(f'<c r="{get_column_letter(start + offset)}{row}" s="{style}" t="inlineStr"><is><t>{escaped}</t></is></c>')
    return "".join(cells).encode("utf-8")


def _row_cells(xml: bytes, row: int) -> bytes:
    match = re.search(rb'<row\b[^>]*?\br="' + str(row).encode() + rb'"[^>]*?(?:/>|>(.*?)</row>)', xml, re.DOTALL)
    return (match.group(1) or b"") if match else b""


def _last_style(cells: bytes) -> int:
    styles = re.findall(rb'<c\b[^>]*?\bs="(\d+)"', cells)
    return int(styles[-1]) if styles else 0


def _previous_results(header_cells: bytes, names: list[str]) -> int | None:
    """The column where an earlier run's result columns start, if the header ends with them."""
    texts = re.findall(rb'<c\b[^>]*?\br="([A-Z]+)\d+"[^>]*>(.*?)</c>', header_cells, re.DOTALL)
    if len(texts) < len(names):
        return None
    tail = texts[-len(names):]
    found = [re.sub(rb"<[^>]+>", b"", body).decode("utf-8") for _letter, body in tail]
    return column_index_from_string(tail[0][0].decode()) if found == names else None


# ------------------------------------------------------------------ the lines sheet


def _rewrite_sheet(xml: bytes, new_cells: dict[int, bytes], start: int, last: int, header_row: int,
                   strip: bool) -> Iterator[bytes]:
    """The sheet's XML in pieces, each row that gets results rewritten; the rest passes through as it was."""
    data_start = xml.find(b"<sheetData")
    data_end = xml.rfind(b"</sheetData>")
    if data_start < 0 or data_end < 0:
        raise ValueError("the lines sheet has no rows")
    yield _widen_sheet_head(xml[:data_start], start, last)
    position = data_start
    previous_row = 0
    written = 0
    pending: list[bytes] = []
    for match in ROW_RE.finditer(xml, data_start, data_end):
        number_match = ROW_NUM_RE.search(match.group(1))
        number = int(number_match.group(1)) if number_match else previous_row + 1
        previous_row = number
        cells = new_cells.get(number)
        if cells is None and not strip:
            continue
        body = match.group(3) or b""
        if strip:
            body = _cut(body, start)
        if cells is None and match.group(3) is not None and body == match.group(3):
            continue
        attrs = re.sub(rb'\bspans="(\d+):(\d+)"', lambda m: b'spans="%s:%d"' % (m.group(1), last), match.group(1))
        pending.append(xml[position:match.start()])
        pending.append(b"<row" + attrs + b">" + body + (cells or b"") + b"</row>")
        position = match.end()
        written += cells is not None
        if len(pending) >= 2000:
            yield b"".join(pending)
            pending = []
    pending.append(xml[position:data_end])
    yield b"".join(pending)
    if written != len(new_cells):
        raise ValueError(f"{len(new_cells) - written} rows to write were not found in the sheet")
    yield _widen_filter(xml[data_end:], last, header_row)


def _cut(body: bytes, start: int) -> bytes:
    """Cells of a row before column ``start`` (an earlier run's results dropped)."""
    for match in CELL_REF_RE.finditer(body):
        if column_index_from_string(match.group(1).decode()) >= start:
            return body[: match.start()]
    return body


def _widen_sheet_head(head: bytes, start: int, last: int) -> bytes:
    letter = get_column_letter(last).encode()
    head = _set_last_column(rb"<dimension\b[^>]*\bref=\"[A-Z]+\d+:", letter, head)
    existing = [(int(a), int(b)) for a, b in re.findall(rb'<col\b[^>]*?\bmin="(\d+)"[^>]*?\bmax="(\d+)"', head)]
    if any(high >= start for _low, high in existing):
        return head  # widths there already cover the new columns
    widths = b"".join(b'<col min="%d" max="%d" width="14" customWidth="1"/>' % (c, c) for c in range(start, last + 1))
    if b"</cols>" in head:
        return head.replace(b"</cols>", widths + b"</cols>", 1)
    return head + b"<cols>" + widths + b"</cols>"


def _widen_filter(tail: bytes, last: int, header_row: int) -> bytes:
    letter = get_column_letter(last).encode()
    return _set_last_column(rb"<autoFilter\b[^>]*\bref=\"[A-Z]+" + str(header_row).encode() + rb":", letter, tail)


def _set_last_column(prefix: bytes, letter: bytes, xml: bytes) -> bytes:
    """In the first ``ref="A1:R215"`` after ``prefix``, make the last column ``letter``."""
    return re.sub(b"(" + prefix + rb")[A-Z]+(\d+\")", lambda m: m.group(1) + letter + m.group(2), xml, count=1)


def _widen_tables(package: Package, sheet_part: str, header_row: int, start: int, names: list[str], replace: bool) -> None:
    rels_name = rels_of(sheet_part)
    if not package.has(rels_name):
        return
    for rel in ElementTree.fromstring(package.read(rels_name)).iter(PKG_REL):
        if not rel.get("Type", "").endswith("/table"):
            continue
        table_part = resolve(sheet_part, rel.get("Target", ""))
        xml = package.read(table_part)
        ref = re.search(rb'<table\b[^>]*\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"', xml)
        if not ref or int(ref.group(2)) != header_row:
            continue
        if replace:  # drop the columns an earlier run added
            xml = _drop_table_columns(xml, column_index_from_string(ref.group(1).decode()), start)
        last = get_column_letter(start + len(names) - 1).encode()
        xml = _set_last_column(rb"<table\b[^>]*\bref=\"[A-Z]+\d+:", last, xml)
        xml = _set_last_column(rb"<autoFilter\b[^>]*\bref=\"[A-Z]+\d+:", last, xml)
        ids = [int(i) for i in re.findall(rb'<tableColumn\b[^>]*?\bid="(\d+)"', xml)]
        first_id = max(ids, default=0) + 1
        added = b"".join(
            b'<tableColumn id="%d" name="%s"/>' % (first_id + i, name.encode("utf-8")) for i, name in enumerate(names)
        )
        xml = xml.replace(b"</tableColumns>", added + b"</tableColumns>", 1)
        count = len(re.findall(rb"<tableColumn\b", xml))
        xml = _set_count(b"tableColumns", count, xml)
        package.put(table_part, xml)


def _drop_table_columns(xml: bytes, first_col: int, start: int) -> bytes:
    keep = start - first_col
    columns = list(re.finditer(rb"<tableColumn\b.*?(?:/>|</tableColumn>)", xml, re.DOTALL))
    if len(columns) <= keep:
        return xml
    return xml[: columns[keep].start()] + xml[columns[-1].end():]


# ------------------------------------------------------------------ result sheets


def _table_sheet(sheet: Sheet, header_style: int, formats: dict[ColumnKind, int]) -> bytes:
    frame = sheet.frame.reset_index(drop=True)
    names = list(frame.columns)
    rows = np.arange(2, len(frame) + 2)
    row_text = rows.astype(str).astype(object)
    body = np.full(len(frame), "", dtype=object)
    for index, name in enumerate(names):
        kind = sheet.kinds.get(name, ColumnKind("text"))
        if kind.name == "text":
            values = pd.Series(column_text(frame[name], kind), dtype=object)
        else:
            values = frame[name]
        body = body + _cells(get_column_letter(index + 1), row_text, values, kind, formats.get(kind, 0))
    header_xml = _header_cells(1, [header(str(n)) for n in names], 1, header_style)
    data = b"".join(b'<row r="%d">' % r + cells.encode("utf-8") + b"</row>" for r, cells in zip(rows.tolist(), body.tolist()))
    widths = b"".join(
        b'<col min="%d" max="%d" width="%d" customWidth="1"/>' % (i, i, w)
        for i, w in enumerate(column_widths(frame, sheet.kinds), start=1)
    )
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<worksheet xmlns="' + MAIN_NS.encode() + b'" xmlns:r="' + REL_NS[0].encode() + b'">'
        + (b'<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' if sheet.charts else b"")
        + b'<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        b'state="frozen"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        + (b"<cols>" + widths + b"</cols>" if widths else b"")
        + b'<sheetData><row r="1">' + header_xml + b"</row>" + data + b"</sheetData>"
        + (CHART_PAGE + b'<drawing r:id="rId1"/>' if sheet.charts else b"") + b"</worksheet>"
    )


def column_widths(frame: pd.DataFrame, kinds: dict[str, ColumnKind]) -> list[int]:
    """Column widths that show every value: numbers by their largest value as formatted, text by a sample."""
    widths = []
    for name in frame.columns:
        kind = kinds.get(name, ColumnKind("text"))
        if kind.name in ("money", "qty", "price", "pct", "int") and len(frame):
            whole = int(np.abs(int_values(frame[name])[0]).max()) // 10**kind.decimals
            digits = len(str(whole))
            grouped = digits + (digits - 1) // 3 if kind.name != "pct" else digits + 2  # separators, or " %"
            longest = max(len(str(name)), 1 + grouped + (kind.decimals and kind.decimals + 1))
        else:
            sample = frame[name].head(200).astype(str)
            longest = max([len(str(name)), *sample.str.len().tolist()]) if len(sample) else len(str(name))
        widths.append(min(max(longest + 2, 10), 60))
    return widths


# ------------------------------------------------------------------ workbook parts


class _Workbook:
    """workbook.xml, its relationships and the content types: which part is which sheet, adding sheets."""

    def __init__(self, package: Package):
        self.package = package
        self.xml = package.read("xl/workbook.xml")
        self.rels = package.read("xl/_rels/workbook.xml.rels")
        self.types = package.read("[Content_Types].xml")
        root = ElementTree.fromstring(self.xml)
        self.sheets = []  # (name, sheetId, rId)
        for element in root.iter(f"{{{MAIN_NS}}}sheet"):
            rid = next((element.get(f"{{{ns}}}id") for ns in REL_NS if element.get(f"{{{ns}}}id")), None)
            self.sheets.append((element.get("name"), int(element.get("sheetId", 0)), rid))
        self.targets = {
            rel.get("Id"): resolve("xl/workbook.xml", rel.get("Target", ""))
            for rel in ElementTree.fromstring(self.rels).iter(PKG_REL)
        }

    def sheet_part(self, name: str) -> str:
        for sheet_name, _sid, rid in self.sheets:
            if sheet_name == name:
                return self.targets[rid]
        raise ValueError(f"no sheet {name!r} in the workbook")

    def put_sheet(self, sheet: Sheet, xml: bytes, replace: bool) -> None:
        """Add the sheet (or, with ``replace``, overwrite one of the same title) with its charts."""
        title = sheet.title
        names = {name for name, _sid, _rid in self.sheets}
        if title in names and replace:
            self.package.put(self.sheet_part(title), xml)
            self._put_charts(self.sheet_part(title), sheet)
            return
        unique, n = title, 2
        while unique in names:
            unique, n = f"{title} ({n})", n + 1
        number = 1
        while self.package.has(f"xl/worksheets/sheet{number}.xml"):
            number += 1
        part = f"xl/worksheets/sheet{number}.xml"
        self.package.put(part, xml)
        rid = self._new_rid()
        sheet_id = max((sid for _n, sid, _r in self.sheets), default=0) + 1
        prefix = self._rel_prefix()
        escaped = unique.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").encode("utf-8")
        entry = b'<sheet name="%s" sheetId="%d" %s:id="%s"/>' % (escaped, sheet_id, prefix, rid.encode())
        self.xml = self.xml.replace(b"</sheets>", entry + b"</sheets>", 1)
        rel = b'<Relationship Id="%s" Type="%s" Target="worksheets/sheet%d.xml"/>' % (rid.encode(), WORKSHEET_TYPE.encode(), number)
        self.rels = self.rels.replace(b"</Relationships>", rel + b"</Relationships>", 1)
        override = b'<Override PartName="/%s" ContentType="%s"/>' % (part.encode(), WORKSHEET_CT.encode())
        self.types = self.types.replace(b"</Types>", override + b"</Types>", 1)
        self.sheets.append((unique, sheet_id, rid))
        self.targets[rid] = part
        self._put_charts(part, sheet)

    def _put_charts(self, part: str, sheet: Sheet) -> None:
        """The drawing and chart parts of a result sheet, named after its part so a re-run overwrites them;
        the sheet's XML refers to the drawing as rId1 of its relationships."""
        if not sheet.charts:
            return
        from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
        from openpyxl.xml.functions import tostring

        key = "_erp" + re.sub(r"\D", "", part.rsplit("/", 1)[-1])
        drawing = SpreadsheetDrawing()
        drawing._id = key
        columns = [str(c) for c in sheet.frame.columns]
        for number, chart in enumerate(sheet.charts, start=1):
            made = openpyxl_chart(chart, sheet.title, columns, len(sheet.frame))
            made._id = f"{key}_{number}"
            drawing.charts.append(made)
            self._put_part(made.path, tostring(made._write()), CHART_CT)
        self._put_part(drawing.path, tostring(drawing._write()), DRAWING_CT)
        self.package.put(drawing.path[1:].replace("drawings/", "drawings/_rels/") + ".rels", tostring(drawing._write_rels()))
        folder, name = part.rsplit("/", 1)
        self.package.put(f"{folder}/_rels/{name}.rels", (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="' + PKG_REL_NS.encode()
            + b'"><Relationship Id="rId1" Type="' + DRAWING_TYPE.encode() + b'" Target="' + drawing.path.encode()
            + b'"/></Relationships>'))

    def _put_part(self, path: str, xml: bytes, content_type: str) -> None:
        self.package.put(path[1:], xml)
        if f'PartName="{path}"'.encode() not in self.types:
            override = b'<Override PartName="%s" ContentType="%s"/>' % (path.encode(), content_type.encode())
            self.types = self.types.replace(b"</Types>", override + b"</Types>", 1)

    def _new_rid(self) -> str:
        used = set(self.targets)
        number = len(used) + 1
        while f"rId{number}" in used:
            number += 1
        return f"rId{number}"

    def _rel_prefix(self) -> bytes:
        for ns in REL_NS:
            match = re.search(rb'xmlns:(\w+)="' + re.escape(ns.encode()) + rb'"', self.xml)
            if match:
                return match.group(1)
        self.xml = self.xml.replace(b"<workbook ", b'<workbook xmlns:r="' + REL_NS[0].encode() + b'" ', 1)
        return b"r"

    def save(self) -> None:
        self.package.put("xl/workbook.xml", self.xml)
        self.package.put("xl/_rels/workbook.xml.rels", self.rels)
        self.package.put("[Content_Types].xml", self.types)


class _Styles:
    """Appends cell formats to styles.xml: a base cell style with another number format."""

    def __init__(self, package: Package):
        self.package = package
        self.xml = package.read("xl/styles.xml")
        block = re.search(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", self.xml, re.DOTALL)
        self.xfs = re.findall(rb"<xf\b[^>]*?(?:/>|>.*?</xf>)", block.group(1), re.DOTALL) if block else []
        self.added: list[bytes] = []
        self.cache: dict[tuple[int, str], int] = {}
        self.custom: dict[str, int] = {}  # format code -> the id of the numFmt entry added for it

    def with_format(self, base: int, kind: ColumnKind) -> int:
        """The index of a style like ``base`` but showing ``kind``'s number format (formats.py); text keeps ``base``."""
        code = number_format(kind)
        if code is None:
            return base
        key = (base, code)
        if key not in self.cache:
            fmt = BUILTIN_FORMATS.get(code) or self._custom(code)
            xf = self.xfs[base] if base < len(self.xfs) else b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            xf = re.sub(rb'\snumFmtId="\d+"', b"", xf)
            xf = re.sub(rb'\sapplyNumberFormat="\w+"', b"", xf)
            xf = re.sub(rb"<xf\b", lambda m: b'<xf numFmtId="%d" applyNumberFormat="1"' % fmt, xf, count=1)
            known = self.xfs + self.added
            if xf in known:  # an earlier run added it already
                self.cache[key] = known.index(xf)
            else:
                self.added.append(xf)
                self.cache[key] = len(known)
        return self.cache[key]

    def _custom(self, code: str) -> int:
        """The id of a custom number format: an existing one with the same code, else a new one."""
        existing = re.search(rb'<numFmt\b[^>]*?\bnumFmtId="(\d+)"[^>]*?\bformatCode="' + re.escape(_attribute(code)) + b'"',
                             self.xml)
        if existing:
            return int(existing.group(1))
        if code not in self.custom:
            used = [int(i) for i in re.findall(rb'<numFmt\b[^>]*?\bnumFmtId="(\d+)"', self.xml)]
            self.custom[code] = max([163, *used, *self.custom.values()]) + 1
        return self.custom[code]

    def save(self) -> None:
        if not self.added:
            return
        xml = self.xml
        if self.custom:
            entries = b"".join(
                b'<numFmt numFmtId="%d" formatCode="%s"/>' % (number, _attribute(code)) for code, number in self.custom.items()
            )
            xml = re.sub(rb"<numFmts\b([^>]*?)\s*/>", rb"<numFmts\1></numFmts>", xml, count=1)  # openpyxl's empty one
            if re.search(rb"<numFmts\b", xml):
                xml = xml.replace(b"</numFmts>", entries + b"</numFmts>", 1)
                xml = _set_count(b"numFmts", len(re.findall(rb"<numFmt\b", xml)), xml)
            else:
                block = b'<numFmts count="%d">' % len(self.custom) + entries + b"</numFmts>"
                xml = re.sub(rb"<styleSheet\b[^>]*>", lambda m: m.group(0) + block, xml, count=1)
        xml = xml.replace(b"</cellXfs>", b"".join(self.added) + b"</cellXfs>", 1)
        xml = _set_count(b"cellXfs", len(self.xfs) + len(self.added), xml)
        self.package.put("xl/styles.xml", xml)


def _attribute(code: str) -> bytes:
    """A number format code as an XML attribute value."""
    return code.replace('"', "&quot;").encode()


def _set_count(element: bytes, count: int, xml: bytes) -> bytes:
    return re.sub(rb"(<" + element + rb'\b[^>]*\bcount=")\d+"', lambda m: m.group(1) + b'%d"' % count, xml, count=1)
