"""Small readers of an .xlsx package's XML parts: which part is which sheet, tables, styles, formulas.

Used where a full spreadsheet library is too slow or hides what we need: the
tariff reader takes cell values from calamine and asks these functions only for
what calamine does not tell (formulas never calculated, Excel percent formats,
Excel Tables); the writer uses them to find the parts it rewrites.
"""

from __future__ import annotations

import re
import zipfile

from defusedxml import ElementTree

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "http://purl.oclc.org/ooxml/officeDocument/relationships")
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
PKG_REL = f"{{{PKG_REL_NS}}}Relationship"
PERCENT_BUILTIN_FORMATS = {9, 10}  # 0%  0.00%


def resolve(base_part: str, target: str) -> str:
    """A relationship target as a package part name."""
    if target.startswith("/"):
        return target.lstrip("/")
    folder = base_part.rpartition("/")[0].split("/") if "/" in base_part else []
    for piece in target.split("/"):
        if piece == "..":
            folder = folder[:-1]
        elif piece and piece != ".":
            folder.append(piece)
    return "/".join(folder)


def rels_of(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels"


def relationships(archive: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """(Id, Type, target part) of ``part``'s relationships; none when it has no .rels part."""
    name = rels_of(part)
    if name not in archive.namelist():
        return []
    root = ElementTree.fromstring(archive.read(name))
    return [(r.get("Id", ""), r.get("Type", ""), resolve(part, r.get("Target", ""))) for r in root.iter(PKG_REL)]


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its worksheet part, in workbook order."""
    root = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    targets = {rid: part for rid, _type, part in relationships(archive, "xl/workbook.xml")}
    parts = {}
    for element in root.iter(f"{{{MAIN_NS}}}sheet"):
        rid = next((element.get(f"{{{ns}}}id") for ns in REL_NS if element.get(f"{{{ns}}}id")), None)
        if rid in targets:
            parts[element.get("name")] = targets[rid]
    return parts


def tables(archive: zipfile.ZipFile, sheet_part: str) -> list[tuple[str, str]]:
    """(name, ref) of the Excel Tables on a sheet."""
    found = []
    for _rid, kind, part in relationships(archive, sheet_part):
        if kind.endswith("/table"):
            root = ElementTree.fromstring(archive.read(part))
            found.append((root.get("name") or root.get("displayName") or "", root.get("ref") or ""))
    return found


def percent_styles(archive: zipfile.ZipFile) -> set[int]:
    """Indices of the cell styles whose number format is Excel's percent (5 % stored as 0.05)."""
    if "xl/styles.xml" not in archive.namelist():
        return set()
    xml = archive.read("xl/styles.xml")
    custom = {
        int(number): is_percent_format(code.decode("utf-8"))
        for number, code in re.findall(rb'<numFmt\b[^>]*?\bnumFmtId="(\d+)"[^>]*?\bformatCode="([^"]*)"', xml)
    }
    block = re.search(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", xml, re.DOTALL)
    if not block:
        return set()
    styles = set()
    for index, xf in enumerate(re.findall(rb"<xf\b[^>]*?(?:/>|>)", block.group(1))):
        number = re.search(rb'\bnumFmtId="(\d+)"', xf)
        fmt = int(number.group(1)) if number else 0
        if fmt in PERCENT_BUILTIN_FORMATS or custom.get(fmt, False):
            styles.add(index)
    return styles


def is_percent_format(code: str | None) -> bool:
    """True for Excel's percent formats (``0%``, ``0.00%``), where 5 % is stored as 0.05.

    A ``%`` inside quotes or escaped (``0.0" %"``, ``0\\%``) is only shown, not applied.
    """
    code = (code or "").replace("&quot;", '"')
    return "%" in re.sub(r'"[^"]*"|\\.', "", code)


def percent_cells(sheet_xml: bytes, styles: set[int]) -> set[str]:
    """References of the cells styled with one of ``styles``."""
    if not styles:
        return set()
    alternatives = b"|".join(str(s).encode() for s in sorted(styles))
    pattern = rb'<c\b[^>]*?\br="([A-Z]+\d+)"[^>]*?\bs="(?:' + alternatives + rb')"'
    return {m.decode() for m in re.findall(pattern, sheet_xml)}


def uncomputed_formulas(sheet_xml: bytes) -> dict[str, str]:
    """Formula cells without a cached value, reference -> ``=formula``: the file was never recalculated."""
    found = {}
    for match in re.finditer(rb"<f\b", sheet_xml):
        start = sheet_xml.rfind(b"<c ", 0, match.start())
        end = sheet_xml.find(b"</c>", match.start())
        cell = sheet_xml[start:end]
        value = re.search(rb"<v>([^<]*)</v>", cell)
        if value and value.group(1):
            continue
        ref = re.search(rb'\br="([A-Z]+\d+)"', cell)
        text = re.search(rb"<f\b[^>]*>([^<]*)</f>", cell)
        if ref:
            found[ref.group(1).decode()] = "=" + (text.group(1).decode("utf-8") if text else "…")
    return found
