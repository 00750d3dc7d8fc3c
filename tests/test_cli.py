"""The erp-plugin command line as a user runs it."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from erp_plugin.cli import main

from .conftest import minimal_sheets, write_book


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def test_init_then_validate_is_clean(tmp_path):
    result = run("init", tmp_path / "prog")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "prog" / "tariffs.xlsx").exists() and (tmp_path / "prog" / "sales_export.xlsx").exists()
    result = run("validate", tmp_path / "prog" / "tariffs.xlsx")
    assert result.exit_code == 0
    assert "0 errors, 0 warnings" in result.output
    assert "ok: 6 tariffs, 4 markers, 6 clients, 7 promotions" in result.output


def test_init_refuses_to_overwrite_unless_forced(tmp_path):
    assert run("init", tmp_path).exit_code == 0
    (tmp_path / "tariffs.xlsx").write_bytes(b"my edited programme")
    result = run("init", tmp_path)
    assert result.exit_code == 2
    assert f"{tmp_path / 'tariffs.xlsx'}: already exists; use --force to replace it" in result.output
    assert (tmp_path / "tariffs.xlsx").read_bytes() == b"my edited programme"
    assert run("init", tmp_path, "--force").exit_code == 0
    assert (tmp_path / "tariffs.xlsx").read_bytes()[:2] == b"PK"


def test_validate_groups_problems_by_sheet_and_exits_2(tmp_path):
    sheets = minimal_sheets()
    sheets["Tariffs"][2][4] = 7
    sheets["Clients"].append(["C2", "GOLD", ""])
    sheets["Settings"] = [["key", "value"], ["rebate_mod", "stepped"]]
    path = write_book(tmp_path / "t.xlsx", sheets)
    result = run("validate", path)
    assert result.exit_code == 2
    lines = [line.rstrip() for line in result.output.splitlines()]
    assert lines[0] == f"{path}: 2 errors, 1 warning"
    assert lines.index("Tariffs") < lines.index("Clients")
    assert "  error   Tariffs!E3: yellow discount 7 is outside the yellow range 3–6  [tariff.discount_range]" in lines
    assert "  error   Clients!B3: tariff 'GOLD' is not in Tariffs; expected one of BASE, PRO  [ref.tariff]" in lines
    assert "  warning Settings!A2: unknown setting 'rebate_mod' is ignored; did you mean rebate_mode?  [settings.unknown_key]" in lines


def test_validate_json_for_scripts(tmp_path):
    sheets = minimal_sheets()
    sheets["Tariffs"][2][4] = 7
    result = run("validate", write_book(tmp_path / "t.xlsx", sheets), "--json")
    assert result.exit_code == 2
    payload = json.loads(result.output)
    assert (payload["ok"], payload["errors"], payload["warnings"]) == (False, 1, 0)
    assert payload["problems"] == [{
        "where": "Tariffs!E3", "code": "tariff.discount_range", "message": "yellow discount 7 is outside the yellow range 3–6",
        "severity": "error", "sheet": "Tariffs", "cell": "E3",
    }]


def test_bad_files_get_one_line(tmp_path):
    not_xlsx = tmp_path / "export.xlsx"
    not_xlsx.write_text("Дата;Сумма\n", encoding="cp1251")
    result = run("validate", not_xlsx)
    assert result.exit_code == 2
    assert result.output == f"{not_xlsx}: is not an Excel workbook (.xlsx); save it from Excel as .xlsx\n"
    result = run("validate", tmp_path / "missing.xlsx", "--json")
    assert result.exit_code == 2 and json.loads(result.output)["problems"][0]["code"] == "file.missing"


def test_installed_console_script(tmp_path):
    """The real `erp-plugin` entry point, in a subprocess, as a shell user runs it."""
    script = shutil.which("erp-plugin", path=str(Path(sys.executable).parent))
    assert script, "erp-plugin is not installed beside this Python"
    done = subprocess.run([script, "init", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([script, "validate", str(tmp_path / "sales_export.xlsx")], capture_output=True, text=True)
    assert done.returncode == 2  # an export is not a tariff workbook: says which sheet is missing
    assert "missing sheet Tariffs" in done.stdout and "Traceback" not in done.stdout + done.stderr
    done = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and "0.1.0" in done.stdout


def test_read_the_sample_export_and_write_gross_back(tmp_path):
    out = tmp_path / "priced.xlsx"
    result = run("read", "workbooks/sales_export.xlsx", "--tariffs", "workbooks/tariffs.xlsx", "--out", out)
    assert result.exit_code == 0, result.output
    assert "sheet TDSheet, header on row 5" in result.output
    assert "  client_id         <- Код контрагента" in result.output
    # the export's own Итого row says 36 305 197,50
    assert "209 lines, 81 documents, 6 clients, gross 36 305 197.50" in result.output
    assert openpyxl_value(out, "S5") == "Gross"  # the command's language (English here) labels the result column


def test_read_a_broken_export_exits_2_with_every_bad_cell(tmp_path):
    import openpyxl

    broken = tmp_path / "broken.xlsx"
    wb = openpyxl.load_workbook("workbooks/sales_export.xlsx")
    wb.active["J6"] = "пять"
    wb.active["A9"] = "32.01.2026"
    wb.save(broken)
    result = run("read", broken, "--out", tmp_path / "out.xlsx")
    assert result.exit_code == 2
    assert "export row 6, field qty: qty 'пять' is not a quantity, e.g. 5 or 2,5" in result.output
    assert "export row 9, field date: date '32.01.2026' is not a date, e.g. 31.12.2026" in result.output
    assert not (tmp_path / "out.xlsx").exists()
    result = run("read", broken, "--out", tmp_path / "out.xlsx", "--skip-bad-lines")
    assert result.exit_code == 0 and "207 lines" in result.output and (tmp_path / "out.xlsx").exists()


def openpyxl_value(path, cell):
    import openpyxl

    return openpyxl.load_workbook(path).active[cell].value


def test_price_the_sample_export_as_the_readme_says(tmp_path):
    import openpyxl

    out = tmp_path / "priced.xlsx"
    result = run("price", "workbooks/sales_export.xlsx", "--tariffs", "workbooks/tariffs.xlsx", "--out", out)
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert "Lines                       209" in lines
    assert "Gross             36 305 197.50" in lines  # the export's own Итого row
    # the template's max_concession_pct leaves a handful of grouped warnings, not one per line (on stderr)
    shown = [line for line in lines if line.startswith("warning export row")]
    assert 0 < len(shown) <= 10 and all(line.endswith("[price.concession]") for line in shown)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["TDSheet", "Summary", "Markers", "Coupons", "Warnings"]
    rows = list(wb["Warnings"].iter_rows(min_row=2, values_only=True))
    counts = [row[[c.value for c in wb["Warnings"][1]].index("Count")] for row in rows]
    assert len(rows) == len(shown)
    assert f"warnings: {sum(counts)} ({len(rows)} in the Warnings table)" in lines
    ws = wb["TDSheet"]
    headers = [c.value for c in ws[5]]
    assert headers[18:] == [  # SPEC §5's result columns, labelled in the command's language (English here)
        "Gross", "Tariff", "Bonus mode", "Marker", "Marker %", "Option weight %", "Kit %", "Kit discount",
        "Kit bonus", "Kit price discount", "Promotion discount", "Promotions", "Price discount", "Net", "Bonus accrued",
        "Reservation cost", "VAT", "Bonus redeemed", "Cash due", "Concession %", "Matched sale",
    ]
    net = headers.index("Net") + 1
    assert ws.cell(row=6, column=net).number_format == "#,##0.00"  # money shows as money
    assert ws.cell(row=6, column=headers.index("Kit %") + 1).number_format == '0.00" %"'  # every result percentage with two decimals
    summary = wb["Summary"]
    assert [c.value for c in summary[1]][:4] == ["Lines", "Documents", "Clients", "Gross"]
    assert [c.value for c in summary[2]][:4] == [209, 81, 6, 36305197.5]


def test_price_refuses_bad_lines_with_exit_2(tmp_path):
    import openpyxl

    broken = tmp_path / "broken.xlsx"
    wb = openpyxl.load_workbook("workbooks/sales_export.xlsx")
    wb.active["N6"] = "cash"  # a payment the workbook does not offer
    wb.save(broken)
    result = run("price", broken, "--tariffs", "workbooks/tariffs.xlsx", "--out", tmp_path / "out.xlsx")
    assert result.exit_code == 2
    assert ("export row 6, field payment: payment 'cash' is not a payment option; expected one of prepaid, "
            "on_delivery, deferral_30, deferral_60") in result.output
    assert not (tmp_path / "out.xlsx").exists()


def test_read_proposes_columns_for_unknown_headers_and_save_columns_writes_them(tmp_path):
    """A header the reader does not know: the run stops naming the candidate columns and the Columns rows to
    add; --save-columns writes them into the tariff workbook (nothing else of it changes), and then the export
    reads, and prices, with them."""
    import openpyxl

    run("init", tmp_path / "prog")
    tariffs = tmp_path / "prog" / "tariffs.xlsx"
    before = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in openpyxl.load_workbook(tariffs)}
    export = tmp_path / "ledger_export.csv"
    export.write_text("Posting Date,Voucher No,Customer Ref,Item Code,Qty,Rate\n"
                      "2026-03-02,SINV-0001,C001,SKU-1,2,100.00\n2026-03-03,SINV-0002,C002,SKU-2,1,50.00\n",
                      encoding="utf-8")
    refused = run("read", export, "--tariffs", tariffs)
    assert refused.exit_code == 2
    message = " ".join(refused.output.split())
    assert "has no column for doc_id, client_id" in message
    assert "add the Columns row doc_id | Voucher No" in message and "add the Columns row client_id | Customer Ref" in message
    saved = run("read", export, "--tariffs", tariffs, "--save-columns", tariffs)
    assert saved.exit_code == 0, saved.output
    assert "Columns: doc_id | Voucher No" in saved.output and "Columns: client_id | Customer Ref" in saved.output
    assert "2 lines, 2 documents, 2 clients, gross 250.00" in saved.output
    after = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in openpyxl.load_workbook(tariffs)}
    assert after["Columns"][1:] == [["doc_id", "Voucher No"], ["client_id", "Customer Ref"]]
    assert {k: v for k, v in after.items() if k != "Columns"} == {k: v for k, v in before.items() if k != "Columns"}
    assert run("read", export, "--tariffs", tariffs).exit_code == 0  # the mapping is the workbook's now
