"""How every result sheet looks, in one place for every writer.

The streaming .xlsx writer (xlsx_write.py: a command's result sheets), the
openpyxl adapter of the one-click jobs (excel/book.py: the year-end workbook, the
Preview) and Excel itself through xlwings (excel/xlwings_book.py) take the look of
a result table from here:

* the header row: bold dark text on a light grey-blue fill, a thin line under it,
  wrapped and centred; frozen, with an autofilter over the table;
* data cells plain (the workbook's default font, no fill, no border; text indented
  by one so it never runs into a figure on its left), each with its kind's number
  format: money ``#,##0.00`` (Russian Excel shows ``1 234,56``), percentages with
  two decimals (``2.50 %``; the cell holds 2.5), dates ``DD.MM.YYYY``, quantities
  and model figures as formats.py says;
* every column as wide as its longest value (header included), at most
  ``MAX_WIDTH`` characters; a text column with longer values wraps in its own
  column (a Warnings message, a greeting) instead of running over its neighbours;
* a highlighted row (the Preview's best option per tariff) on a light green fill,
  by the one-click jobs' writers (the Preview is written only there);
* printed landscape, one page wide.

The colours are pale on purpose: a printed table stays black on white, and the
charts' series are the only strong colours on a page.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..tables import ColumnKind
from .formats import number_format
from .render import int_values

HEADER_FILL = "DDE3EC"  # light grey-blue
HEADER_FONT_COLOUR = "1F2D3D"
HEADER_LINE = "7F8C9A"  # the thin line under the header
HIGHLIGHT_FILL = "E2EFDA"  # light green: a row to look at first
RESULT_PCT_FORMAT = '0.00" %"'  # every percentage of a result sheet with the same two decimals
MIN_WIDTH, MAX_WIDTH, PADDING = 6, 60, 3  # characters; the padding keeps a value off the column's edges
HIGHLIGHT_COLUMN = "best"  # a result column whose non-blank cells mark the row to highlight
NUMERIC = ("money", "qty", "price", "pct", "percent", "int")


def cell_format(kind: ColumnKind) -> str | None:
    """The number format of a result cell of ``kind``; None for text (General)."""
    if kind.name in ("pct", "percent"):
        return RESULT_PCT_FORMAT
    return number_format(kind)


def column_widths(frame: pd.DataFrame, kinds: dict[str, ColumnKind]) -> list[int]:
    """Each column's width in characters: its longest value as formatted, or its header's longest word (a
    header wraps), between MIN_WIDTH and MAX_WIDTH."""
    widths = []
    for name in frame.columns:
        kind = kinds.get(name, ColumnKind("text"))
        header = max((len(word) for word in str(name).split()), default=1)
        if kind.name in NUMERIC and len(frame):
            whole = int(np.abs(int_values(frame[name])[0]).max()) // 10**kind.decimals
            digits = len(str(whole))
            if kind.name in ("pct", "percent"):
                longest = digits + 5  # "-12.34 %"
            else:
                longest = 1 + digits + (digits - 1) // 3 + (kind.decimals and kind.decimals + 1)  # sign, separators
        elif kind.name == "date":
            longest = 11  # 31.12.2026 with room
        else:
            longest = _text_length(frame[name])
        widths.append(min(max(longest, header, MIN_WIDTH) + PADDING, MAX_WIDTH))
    return widths


def data_alignment(kind: ColumnKind, wrap: bool) -> dict:
    """A data cell's alignment: text left with an indent of one, so that it never runs into a right-aligned
    figure or date in the column before it ("17gold"); long text wrapped; numbers and dates as the
    application aligns them (right)."""
    settings: dict = {"horizontal": "left", "indent": 1} if kind.name == "text" else {}
    if wrap:
        settings["wrap_text"] = True
    return settings


def wrapped(frame: pd.DataFrame, kinds: dict[str, ColumnKind]) -> list[bool]:
    """Per column: True for text longer than MAX_WIDTH, which wraps inside its column."""
    return [kinds.get(name, ColumnKind("text")).name in ("text", "float") and _text_length(frame[name]) + PADDING > MAX_WIDTH
            for name in frame.columns]


def text_lines(frame: pd.DataFrame, kinds: dict[str, ColumnKind], widths: list[int], wraps: list[bool]) -> np.ndarray:
    """Each data row's lines of text: 1, or more where a wrapped column's text needs them (about 1.1 characters
    a width unit). Neither Excel nor LibreOffice grows a row on opening, so the writers set the height."""
    lines = np.ones(len(frame), dtype=np.int64)
    for name, width, wrap in zip(frame.columns, widths, wraps):
        if wrap:
            lengths = frame[name].astype(object).where(frame[name].notna(), "").astype(str).str.len().to_numpy()
            lines = np.maximum(lines, -(-lengths // int(width * 1.1)))
    return lines


def label_widths(labels: list[str], widths: list[int]) -> list[int]:
    """Each column at least as wide as its header's longest word needs, the header being the chosen language's
    label (the widths were measured on the canonical names)."""
    return [min(max(width, max((len(word) for word in label.split()), default=1) + PADDING), MAX_WIDTH)
            for label, width in zip(labels, widths)]


def header_lines(frame: pd.DataFrame, widths: list[int]) -> int:
    """The header row's lines of text (a header wraps within its column)."""
    return max((-(-len(str(name)) // max(width - PADDING, 1)) for name, width in zip(frame.columns, widths)), default=1)


LINE_HEIGHT = 15  # points a line of text takes


def highlighted(frame: pd.DataFrame) -> list[int]:
    """The data rows (0-based) to highlight: those with a mark in the HIGHLIGHT_COLUMN."""
    if HIGHLIGHT_COLUMN not in frame.columns:
        return []
    marks = frame[HIGHLIGHT_COLUMN].astype(object)
    return np.flatnonzero(marks.notna().to_numpy() & (marks.astype(str) != "").to_numpy()).tolist()


def _text_length(values: pd.Series) -> int:
    """The longest text among the first 1 000 values (a big table's first rows show what it holds)."""
    sample = pd.Series(values, copy=False).head(1000).dropna().astype(str)
    return int(sample.str.len().max()) if len(sample) else 0


# ------------------------------------------------------------------ openpyxl (the one-click jobs' files)


def openpyxl_header(cell) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    cell.font = Font(name=cell.font.name, size=cell.font.sz, family=cell.font.family, scheme=cell.font.scheme,
                     bold=True, color="FF" + HEADER_FONT_COLOUR)  # the workbook's font; opaque as the streaming writer
    cell.fill = PatternFill("solid", fgColor="FF" + HEADER_FILL)
    cell.border = Border(bottom=Side(style="thin", color="FF" + HEADER_LINE))
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def openpyxl_data(cell, kind: ColumnKind, wrap: bool) -> None:
    """A data cell's alignment (data_alignment), when it has one."""
    from openpyxl.styles import Alignment

    settings = data_alignment(kind, wrap)
    if settings:
        cell.alignment = Alignment(**settings)


def openpyxl_highlight(cell) -> None:
    from openpyxl.styles import PatternFill

    cell.fill = PatternFill("solid", fgColor="FF" + HIGHLIGHT_FILL)


# ------------------------------------------------------------------ styles.xml pieces (the streaming writer)

def header_font_xml(default_font: bytes) -> bytes:
    """The header's font as a styles.xml ``<font>``: the workbook's default font (its name and size), bold, dark."""
    import re

    inner = re.sub(rb"<(b|color)\b[^>]*?/>|<(b|color)\b[^>]*>.*?</\2>", b"", default_font[default_font.find(b">") + 1:])
    inner = inner[:inner.rfind(b"</font>")] if b"</font>" in inner else b""
    return b'<font><b val="1"/><color rgb="FF%s"/>' % HEADER_FONT_COLOUR.encode() + inner + b"</font>"


HEADER_FILL_XML = b'<fill><patternFill patternType="solid"><fgColor rgb="FF%s"/><bgColor indexed="64"/></patternFill></fill>' \
    % HEADER_FILL.encode()
HEADER_BORDER_XML = b'<border><left/><right/><top/><bottom style="thin"><color rgb="FF%s"/></bottom><diagonal/></border>' \
    % HEADER_LINE.encode()
HEADER_ALIGNMENT_XML = b'<alignment horizontal="center" vertical="center" wrapText="1"/>'


def alignment_xml(kind: ColumnKind, wrap: bool) -> bytes:
    """data_alignment as a styles.xml ``<alignment>`` (empty when the cell has none)."""
    settings = data_alignment(kind, wrap)
    if not settings:
        return b""
    names = {"horizontal": "horizontal", "indent": "indent", "wrap_text": "wrapText"}
    return b"<alignment " + b" ".join(b'%s="%s"' % (names[k].encode(), str(int(v) if isinstance(v, bool) else v).encode())
                                      for k, v in settings.items()) + b"/>"


PAGE_XML = (  # printed landscape, one page wide, as many pages down as it takes
    b'<pageMargins left="0.5" right="0.5" top="0.5" bottom="0.5" header="0.3" footer="0.3"/>'
    b'<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
)
