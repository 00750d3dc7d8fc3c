"""Writing results back into the export's own .xlsx/.xlsm by rewriting only what must change.

openpyxl round trips drop cached formula values and cost minutes and gigabytes
on big sheets. Instead the package is copied part by part, unchanged, except:

* the lines sheet's XML, streamed row by row: result cells are appended to the
  header row and to each line's row (to the right of the used range), the
  ``dimension``, ``spans``, column widths and an ``autoFilter`` are widened;
* ``styles.xml``: a few cell formats are appended: for the lines sheet's result
  cells (money, quantity, percent, date) cloned from the style of the line cells
  so fonts and borders match; for the result sheets the look of style.py (a
  header font, fill and line, plain data cells, wrapped text);
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
from . import style
from .charts import Chart, openpyxl_chart
from .render import (
    FORMULA_START,
    column_text,
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
    labels = [header(c.name) for c in columns]
    previous = _previous_results(header_cells, labels)
    start = previous or width + 1
    line_style = _last_style(_row_cells(xml, int(rows[0]))) if len(rows) else 0
    header_style = _last_style(header_cells)
    formats = {c.kind: styles.with_format(line_style, c.kind) for c in columns}
    new_cells = _line_cells(rows, columns, start, formats, lambda: styles.quoted(line_style))
    new_cells[header_row] = _header_cells(header_row, labels, start, header_style)
    last = start + len(columns) - 1
    widths = style.label_widths(labels, style.column_widths(
        pd.DataFrame({c.name: pd.Series(c.values, copy=False).reset_index(drop=True) for c in columns}),
        {c.name: c.kind for c in columns}))
    package.put(part, lambda: _rewrite_sheet(xml, new_cells, start, last, header_row, strip=previous is not None,
                                             widths=widths))
    _widen_tables(package, part, header_row, start, labels, previous is not None)
    look = _Look(styles) if sheets else None
    for result in sheets:
        workbook.put_sheet(result, _table_sheet(result, look), replace=previous is not None)
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
        look = _Look(_Styles(package))
        for sheet in sheets:
            workbook.put_sheet(sheet, _table_sheet(sheet, look), replace=sheet is sheets[0])
        look.styles.save()
        workbook.save()
        package.save(target)
    finally:
        base.unlink()


# ------------------------------------------------------------------ cells


def _line_cells(rows: np.ndarray, columns: list[Column], start: int, formats: dict[ColumnKind, int],
                quoted: Callable[[], int]) -> dict[int, bytes]:
    """The XML of every line's new cells, built column-wise, then joined per row; text that a spreadsheet
    would take for a formula gets the ``quoted`` style."""
    row_text = rows.astype(str).astype(object)
    per_row = np.full(len(rows), "", dtype=object)
    for offset, column in enumerate(columns):
        letter = get_column_letter(start + offset)
        cells = _cells(letter, row_text, column.values, column.kind, formats[column.kind], quoted)
        per_row = per_row + cells
    joined = "\x00".join(per_row.tolist()).encode("utf-8").split(b"\x00")
    return dict(zip(rows.tolist(), joined))


def _cells(letter: str, row_text: np.ndarray, values, kind: ColumnKind, style: int,
           quoted: Callable[[], int] | None = None) -> np.ndarray:
    """One column's cells. Text is an inline string, never run as a formula; text that Excel would take for
    one when the cell is edited (``+7 916…``, ``=…``) gets the style ``quoted()`` gives (quotePrefix: Excel's
    leading apostrophe, kept out of the text and not shown), added to the workbook only when needed."""
    prefix = f'<c r="{letter}'
    if kind.name == "text":
        text = pd.Series(values, copy=False).reset_index(drop=True).astype(object)
        blank = text.isna().to_numpy()
        text = text.where(~blank, "").astype(str)
        missing = blank | (text == "").to_numpy()
        body = xml_text(text).to_numpy(dtype=object)
        styles = np.full(len(text), f'" s="{style}"', dtype=object)
        formula_like = text.str[:1].isin(FORMULA_START).to_numpy()
        if quoted is not None and formula_like.any():
            styles[formula_like] = f'" s="{quoted()}"'
        cells = prefix + row_text + styles + ' t="inlineStr"><is><t xml:space="preserve">' + body + "</t></is></c>"
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
                   strip: bool, widths: list[int]) -> Iterator[bytes]:
    """The sheet's XML in pieces, each row that gets results rewritten; the rest passes through as it was."""
    data_start = xml.find(b"<sheetData")
    data_end = xml.rfind(b"</sheetData>")
    if data_start < 0 or data_end < 0:
        raise ValueError("the lines sheet has no rows")
    yield _widen_sheet_head(xml[:data_start], start, last, widths)
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


def _widen_sheet_head(head: bytes, start: int, last: int, widths: list[int]) -> bytes:
    """The sheet's dimension to the last result column, and the result columns as wide as their content
    (style.column_widths) unless the sheet sets widths there already."""
    letter = get_column_letter(last).encode()
    head = _set_last_column(rb"<dimension\b[^>]*\bref=\"[A-Z]+\d+:", letter, head)
    existing = [(int(a), int(b)) for a, b in re.findall(rb'<col\b[^>]*?\bmin="(\d+)"[^>]*?\bmax="(\d+)"', head)]
    if any(high >= start for _low, high in existing):
        return head  # widths there already cover the new columns
    cols = b"".join(b'<col min="%d" max="%d" width="%d" customWidth="1"/>' % (c, c, w)
                    for c, w in zip(range(start, last + 1), widths))
    if b"</cols>" in head:
        return head.replace(b"</cols>", cols + b"</cols>", 1)
    return head + b"<cols>" + cols + b"</cols>"


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


def _table_sheet(sheet: Sheet, look: _Look) -> bytes:
    """A result table as a sheet in the look of style.py: the header frozen under an autofilter, plain
    cells with their kind's format, widths from the content, long text wrapped in its own column."""
    frame = sheet.frame.reset_index(drop=True)
    names = list(frame.columns)
    rows = np.arange(2, len(frame) + 2)
    row_text = rows.astype(str).astype(object)
    body = np.full(len(frame), "", dtype=object)
    labels = [header(str(n)) for n in names]
    widths = style.label_widths(labels, style.column_widths(frame, sheet.kinds))
    wraps = style.wrapped(frame, sheet.kinds)
    lines = style.text_lines(frame, sheet.kinds, widths, wraps)
    for index, (name, wrap) in enumerate(zip(names, wraps)):
        kind = sheet.kinds.get(name, ColumnKind("text"))
        if kind.name == "text":
            values = pd.Series(column_text(frame[name], kind), dtype=object)
        else:
            values = frame[name]
        cell_style = look.data(kind, wrap)
        body = body + _cells(get_column_letter(index + 1), row_text, values, kind, cell_style,
                             lambda k=kind, w=wrap: look.data(k, w, quote=True))
    header_xml = _header_cells(1, labels, 1, look.header)
    heights = [b' ht="%d" customHeight="1"' % (style.LINE_HEIGHT * n) if n > 1 else b"" for n in lines.tolist()]
    data = b"".join(b'<row r="%d"%s>' % (r, h) + cells.encode("utf-8") + b"</row>"
                    for r, h, cells in zip(rows.tolist(), heights, body.tolist()))
    cols = b"".join(b'<col min="%d" max="%d" width="%d" customWidth="1"/>' % (i, i, w) for i, w in enumerate(widths, start=1))
    last = get_column_letter(max(len(names), 1))
    head_row = b'<row r="1" ht="%d" customHeight="1">' % (
        style.LINE_HEIGHT * style.header_lines(pd.DataFrame(columns=labels), widths) + 3)
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<worksheet xmlns="' + MAIN_NS.encode() + b'" xmlns:r="' + REL_NS[0].encode() + b'">'
        b'<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        b'<dimension ref="A1:%s%d"/>' % (last.encode(), len(frame) + 1)
        + b'<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        b'state="frozen"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        + (b"<cols>" + cols + b"</cols>" if cols else b"")
        + b"<sheetData>" + head_row + header_xml + b"</row>" + data + b"</sheetData>"
        + (b'<autoFilter ref="A1:%s%d"/>' % (last.encode(), len(frame) + 1) if names else b"")
        + style.PAGE_XML + (b'<drawing r:id="rId1"/>' if sheet.charts else b"") + b"</worksheet>"
    )


class _Look:
    """The styles of result sheets (style.py) as indexes into one workbook's styles.xml, added once."""

    def __init__(self, styles: _Styles):
        self.styles = styles
        font = styles.append(b"font", style.header_font_xml(styles.first(b"font")))
        fill = styles.append(b"fill", style.HEADER_FILL_XML)
        border = styles.append(b"border", style.HEADER_BORDER_XML)
        self.header = styles.xf(None, font, fill, border, style.HEADER_ALIGNMENT_XML)

    def data(self, kind: ColumnKind, wrap: bool = False, quote: bool = False) -> int:
        """A plain data cell of ``kind`` (the workbook's default font, no fill, no border)."""
        return self.styles.xf(style.cell_format(kind), 0, 0, 0, style.alignment_xml(kind, wrap), quote)


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
            made = openpyxl_chart(chart, sheet.title, columns, len(sheet.frame), frame=sheet.frame)
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
        self.cache: dict[tuple[int, str], int] = {}  # (base style, format code or "quotePrefix") -> index
        self.custom: dict[str, int] = {}  # format code -> the id of the numFmt entry added for it
        self.touched = False  # a font, fill or border was added

    def with_format(self, base: int, kind: ColumnKind) -> int:
        """The index of a style like ``base`` but showing ``kind``'s number format (style.py); text keeps ``base``."""
        code = style.cell_format(kind)
        if code is None:
            return base
        key = (base, code)
        if key not in self.cache:
            fmt = BUILTIN_FORMATS.get(code) or self._custom(code)
            xf = self.xfs[base] if base < len(self.xfs) else b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            xf = re.sub(rb'\snumFmtId="\d+"', b"", xf)
            xf = re.sub(rb'\sapplyNumberFormat="\w+"', b"", xf)
            xf = re.sub(rb"<xf\b", lambda m: b'<xf numFmtId="%d" applyNumberFormat="1"' % fmt, xf, count=1)
            self.cache[key] = self._index(xf)
        return self.cache[key]

    def quoted(self, base: int) -> int:
        """The index of a style like ``base`` with quotePrefix: Excel keeps the cell's text as text when edited."""
        key = (base, "quotePrefix")
        if key not in self.cache:
            xf = self.xfs[base] if base < len(self.xfs) else b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            xf = re.sub(rb'\squotePrefix="\w+"', b"", xf)
            self.cache[key] = self._index(re.sub(rb"<xf\b", b'<xf quotePrefix="1"', xf, count=1))
        return self.cache[key]

    def first(self, element: bytes) -> bytes:
        """The first entry of the ``<fonts>``, ``<fills>`` or ``<borders>`` list: the workbook's default."""
        block = re.search(rb"<%ss\b[^>]*>(.*?)</%ss>" % (element, element), self.xml, re.DOTALL)
        entry = block and re.search(rb"<%s\b[^>]*?(?:/>|>.*?</%s>)" % (element, element), block.group(1), re.DOTALL)
        return entry.group(0) if entry else b"<%s/>" % element

    def append(self, element: bytes, entry: bytes) -> int:
        """The index of ``entry`` in the ``<fonts>``, ``<fills>`` or ``<borders>`` list (``element`` is font, fill
        or border), appended when it is not there yet."""
        block = re.search(rb"<%ss\b[^>]*>(.*?)</%ss>" % (element, element), self.xml, re.DOTALL)
        if block is None:
            return 0  # a styles part without the list: the workbook's default
        existing = re.findall(rb"<%s\b[^>]*?(?:/>|>.*?</%s>)" % (element, element), block.group(1), re.DOTALL)
        if entry in existing:
            return existing.index(entry)
        self.xml = self.xml[:block.end(1)] + entry + self.xml[block.end(1):]
        self.xml = _set_count(element + b"s", len(existing) + 1, self.xml)
        self.touched = True
        return len(existing)

    def xf(self, code: str | None, font: int, fill: int, border: int, alignment: bytes = b"", quote: bool = False) -> int:
        """The index of a cell format with number format ``code`` (None: General) and these parts."""
        fmt = 0 if code is None else BUILTIN_FORMATS.get(code) or self._custom(code)
        attrs = b'numFmtId="%d" fontId="%d" fillId="%d" borderId="%d" xfId="0"' % (fmt, font, fill, border)
        attrs += b' applyNumberFormat="1"' * bool(fmt) + b' applyFont="1"' * bool(font) + b' applyFill="1"' * bool(fill)
        attrs += b' applyBorder="1"' * bool(border) + b' applyAlignment="1"' * bool(alignment) + b' quotePrefix="1"' * quote
        return self._index(b"<xf " + attrs + (b">" + alignment + b"</xf>" if alignment else b"/>"))

    def _index(self, xf: bytes) -> int:
        known = self.xfs + self.added
        if xf in known:  # an earlier run added it already
            return known.index(xf)
        self.added.append(xf)
        return len(known)

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
        if not self.added and not self.touched:
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
