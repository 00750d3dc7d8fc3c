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
