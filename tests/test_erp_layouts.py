"""Sales exports as ERPs really write them (SPEC §6), each made here in its own layout and priced end to end
by the `erp-plugin` command with the tariff workbook `init` writes: no hand mapping.

The figures are written by hand from each fixture: the lines, documents and clients the command reports, and
the gross (the amount column when the export has one, else qty × unit price).
"""

import csv
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

ERP_PLUGIN = [sys.executable, "-m", "erp_plugin"]


@pytest.fixture(scope="module")
def tariffs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("programme")
    subprocess.run([*ERP_PLUGIN, "init", str(folder)], check=True, capture_output=True)
    return folder / "tariffs.xlsx"


def write_csv(path: Path, rows: list[list], delimiter: str = ",", encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def uk_wholesaler(folder: Path) -> Path:
    """The UK online wholesaler's invoice lines (UCI Online Retail's columns): CamelCase headers, US dates."""
    return write_csv(folder / "online_retail.csv", [
        ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"],
        ["536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "6", "12/1/2010 8:26", "2.55", "17850", "United Kingdom"],
        ["536365", "71053", "WHITE METAL LANTERN", "6", "12/1/2010 8:26", "3.39", "17850", "United Kingdom"],
        ["536366", "22633", "HAND WARMER UNION JACK", "6", "12/13/2010 8:28", "1.85", "17850", "United Kingdom"],
    ])


def sap_business_one(folder: Path) -> Path:
    """SAP Business One's A/R invoice rows (OINV/INV1 field names)."""
    return write_xlsx(folder / "sap_b1_inv1.xlsx", [
        ["DocNum", "DocDate", "CardCode", "CardName", "LineNum", "ItemCode", "Dscription", "Quantity", "Price",
         "LineTotal", "VatPrcnt"],
        [1001, "2026-03-02", "C20000", "Maxi-Teq", 0, "A00001", "IBM Infoprint 1312", 2, 400, 800, 20],
        [1001, "2026-03-02", "C20000", "Maxi-Teq", 1, "A00002", "IBM Infoprint 1222", 1, 250.5, 250.5, 20],
    ])


def odoo_account_move_line(folder: Path) -> Path:
    """Odoo 8's journal items list export: relation paths, the product's code in its name."""
    return write_xlsx(folder / "account.move.line.xlsx", [
        ["Journal Entry/Number", "Date", "Partner/Internal Reference", "Partner", "Product", "Quantity",
         "Unit Price", "Subtotal"],
        ["INV/2026/0001", "2026-03-02", "P0042", "Agrolait", "[E-COM11] Cabinet with Doors", 1, 140, 140],
        ["INV/2026/0001", "2026-03-02", "P0042", "Agrolait", "[E-COM12] Office Chair Black", 3, 120.5, 361.5],
    ])


def russian_shop(folder: Path) -> Path:
    """A Russian shop's order table as a BI course hands it out: ; and decimal commas, cp1251."""
    return write_csv(folder / "заказы.csv", [
        ["Дата заказа", "Номер заказа", "КодКлиента", "Клиент", "Код товара", "Товар", "Кол-во", "Цена", "Сумма"],
        ["02.03.2026", "З-0001", "К-017", "Иванов И. И.", "Т-100", "Чайник", "2", "1 490,00", "2 980,00"],
        ["02.03.2026", "З-0001", "К-017", "Иванов И. И.", "Т-200", "Кружка", "4", "250,50", "1 002,00"],
        ["05.03.2026", "З-0002", "К-020", "Петров П. П.", "Т-100", "Чайник", "1", "1 490,00", "1 490,00"],
    ], delimiter=";", encoding="cp1251")


def shopify_orders(folder: Path) -> Path:
    """Shopify's orders export: an order's further items on rows whose order fields are blank."""
    return write_csv(folder / "orders_export.csv", [
        ["Name", "Email", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku"],
        ["#1001", "anna@example.com", "2026-03-02 10:15:00 +0300", "2", "Kettle", "29.90", "KET-1"],
        ["", "", "", "1", "Mug", "5.00", "MUG-1"],
        ["#1002", "boris@example.com", "2026-03-03 09:00:00 +0300", "3", "Mug", "5.00", "MUG-1"],
    ])


def erpnext_sales_register(folder: Path) -> Path:
    """ERPNext's Sales Register report: one row per invoice with its item code, the customer's name beside
    its id."""
    return write_csv(folder / "Sales Register.csv", [
        ["Invoice", "Posting Date", "Customer", "Customer Name", "Item Code", "Qty", "Rate", "Net Total"],
        ["ACC-SINV-2026-00007", "2026-03-02", "CUST-0001", "Tech Corp", "SKU-001", "2", "1,250.00", "2,500.00"],
    ])


LAYOUTS = {  # layout: (its writer, lines, documents, clients, gross)
    "uk_wholesaler": (uk_wholesaler, 3, 2, 1, "46.74"),  # 6 × 2.55 + 6 × 3.39 + 6 × 1.85
    "sap_business_one": (sap_business_one, 2, 1, 1, "1 050.50"),
    "odoo_account_move_line": (odoo_account_move_line, 2, 1, 1, "501.50"),
    "russian_shop": (russian_shop, 3, 2, 2, "5 472.00"),
    "shopify_orders": (shopify_orders, 3, 2, 2, "79.80"),  # 2 × 29.90 + 5.00 + 3 × 5.00
    "erpnext_sales_register": (erpnext_sales_register, 1, 1, 1, "2 500.00"),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layout_reads_and_prices_without_a_hand_mapping(layout, tariffs, tmp_path):
    write, lines, documents, clients, gross = LAYOUTS[layout]
    export = write(tmp_path)
    read = subprocess.run([*ERP_PLUGIN, "read", str(export), "--tariffs", str(tariffs)], capture_output=True, text=True)
    assert read.returncode == 0, read.stdout + read.stderr
    summary = " ".join(read.stdout.split())
    assert f"{lines} lines, {documents} documents, {clients} clients, gross {gross}" in summary
    out = tmp_path / "priced.csv"
    priced = subprocess.run([*ERP_PLUGIN, "price", str(export), "--tariffs", str(tariffs), "--out", str(out)],
                            capture_output=True, text=True)
    assert priced.returncode == 0, priced.stdout + priced.stderr
    assert "Traceback" not in priced.stdout + priced.stderr
    with out.open(encoding="utf-8-sig") as handle:
        assert len(list(csv.DictReader(handle))) == lines


def test_the_shop_reads_the_client_code_not_the_name(tmp_path):
    """Both КодКлиента and Клиент: the code column is the client id (SPEC §6)."""
    from erp_plugin.erp.read import read_export

    export = read_export(russian_shop(tmp_path))
    assert export.lines["client_id"].astype(str).tolist() == ["К-017", "К-017", "К-020"]
    assert export.lines["date"].astype(str).tolist() == ["2026-03-02", "2026-03-02", "2026-03-05"]


def test_us_dates_are_read_month_first_when_the_column_shows_it(tmp_path):
    from erp_plugin.erp.read import read_export

    export = read_export(uk_wholesaler(tmp_path))
    assert export.lines["date"].astype(str).tolist() == ["2010-12-01", "2010-12-01", "2010-12-13"]
