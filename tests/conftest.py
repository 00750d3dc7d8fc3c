"""Builders for real .xlsx files: each test writes the workbook it reads, so the case reads at a glance."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

TODAY = date(2026, 11, 22)


def minimal_sheets() -> dict[str, list[list]]:
    """The smallest valid tariff workbook: BASE and PRO, one payment, one client."""
    return {
        "Tariffs": [
            ["tariff", "monthly_fee", "white", "green", "yellow", "red"],
            ["BASE", 0, 0, 1, 3, 5],
            ["PRO", 9990, 0, 2.5, 5, 8],
        ],
        "Options": [["option", "value", "weight_pct"], ["payment", "prepaid", 0], ["reservation_days", 7, 1]],
        "Clients": [["client_id", "tariff", "bonus_mode"], ["C1", "PRO", "bonus"]],
    }


def write_book(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def set_cached_value(path: Path, sheet_index: int, cell: str, value: str) -> None:
    """Give a formula cell the computed value Excel would have stored when saving."""
    member = f"xl/worksheets/sheet{sheet_index}.xml"
    with zipfile.ZipFile(path) as src:
        parts = {info.filename: src.read(info.filename) for info in src.infolist()}
    xml = parts[member].decode()
    xml, count = re.subn(rf'(<c r="{cell}"[^>]*>\s*<f>[^<]*</f>)\s*<v\s*/>', rf"\1<v>{value}</v>", xml)
    assert count == 1, f"no formula at {cell}"
    parts[member] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            dst.writestr(name, data)


@pytest.fixture
def book_path(tmp_path):
    """``book_path(sheets)`` writes the sheets to a fresh .xlsx and returns its path."""

    def make(sheets: dict[str, list[list]], name: str = "tariffs.xlsx") -> Path:
        return write_book(tmp_path / name, sheets)

    return make
