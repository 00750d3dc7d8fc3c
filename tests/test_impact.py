"""erp-plugin impact: what a proposed tariff workbook would have given away on real history (SPEC §9).

Hand-worked: three clients, every line paid in advance with no option days, discount mode (the whole
kit discount off the price), no promotions and no rebate scale, so a line's concession is its price
discount = gross × the tariff's marker percent. The proposal drops PRO's red discount from 8 % to 7 %.

    C1 (PRO)  red 1 000.00 → 80.00 now, 70.00 proposed; green 200.00 → 2.5 % = 5.00 under both
    C2 (PRO)  red   500.00 → 40.00 now, 35.00 proposed
    C3 (BASE) red   300.00 → 5 % = 15.00 under both
    concession 140.00 → 125.00: −15.00; PRO 125.00 → 110.00, BASE 15.00; red 135.00 → 120.00, green 5.00
"""

import subprocess
import sys
from datetime import date
from decimal import Decimal

import openpyxl
import pyarrow.parquet as pq

from .conftest import write_book

ERP_PLUGIN = [sys.executable, "-m", "erp_plugin"]


def tariffs(red_pro: float) -> dict[str, list[list]]:
    return {
        "Tariffs": [["tariff", "monthly_fee", "white", "green", "yellow", "red"],
                    ["BASE", 0, 0, 1, 3, 5], ["PRO", 9990, 0, 2.5, 5, red_pro]],
        "Options": [["option", "value", "weight_pct"], ["payment", "prepaid", 0], ["reservation_days", 0, 0]],
        "Clients": [["client_id", "tariff", "bonus_mode"], ["C1", "PRO", "discount"], ["C2", "PRO", "discount"],
                    ["C3", "BASE", "discount"]],
    }


def export(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Дата", "Документ", "Код контрагента", "Артикул", "Маркер", "Количество", "Цена", "Оплата"])
    ws.append([date(2026, 3, 2), "D1", "C1", "RED-1", "red", 10, 100, "prepaid"])
    ws.append([date(2026, 3, 2), "D1", "C1", "GRN-1", "green", 2, 100, "prepaid"])
    ws.append([date(2026, 3, 3), "D2", "C2", "RED-1", "red", 5, 100, "prepaid"])
    ws.append([date(2026, 3, 4), "D3", "C3", "RED-1", "red", 3, 100, "prepaid"])
    wb.save(path)
    return path


def run_impact(folder, out_name: str) -> subprocess.CompletedProcess:
    """``erp-plugin impact`` of the three-client export, PRO's red at 8 % now and 7 % proposed."""
    current = write_book(folder / "current.xlsx", tariffs(8))
    proposed = write_book(folder / "proposed.xlsx", tariffs(7))
    done = subprocess.run([*ERP_PLUGIN, "impact", str(export(folder / "sales.xlsx")), "--tariffs", str(current),
                           "--against", str(proposed), "--out", str(folder / out_name)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_a_red_discount_one_point_lower_costs_fifteen_less(tmp_path):
    done = run_impact(tmp_path, "impact.parquet")
    out = tmp_path / "impact.parquet"
    said = " ".join(done.stdout.split())
    assert "fiscal year 2026, 3 clients: the concession (discounts, bonus, reservation cost and rebates) goes from " \
           "140.00 to 125.00, -15.00" in said
    per_client = pq.read_table(out).to_pandas().set_index("client_id")
    assert per_client["concession_current"].to_dict() == {"C1": Decimal("85.00"), "C2": Decimal("40.00"), "C3": Decimal("15.00")}
    assert per_client["concession_delta"].to_dict() == {"C1": Decimal("-10.00"), "C2": Decimal("-5.00"), "C3": Decimal("0.00")}
    assert per_client["net_proposed"].to_dict() == {"C1": Decimal("1125.00"), "C2": Decimal("465.00"), "C3": Decimal("285.00")}
    assert per_client["tariff_current"].to_dict() == per_client["tariff_proposed"].to_dict() == {"C1": "PRO", "C2": "PRO", "C3": "BASE"}
    by_tariff = pq.read_table(tmp_path / "impact.impact_by_tariff.parquet").to_pandas().set_index("tariff")
    assert by_tariff["concession_current"].to_dict() == {"PRO": Decimal("125.00"), "BASE": Decimal("15.00")}
    assert by_tariff["concession_delta"].to_dict() == {"PRO": Decimal("-15.00"), "BASE": Decimal("0.00")}
    by_marker = pq.read_table(tmp_path / "impact.impact_by_marker.parquet").to_pandas().set_index("marker")
    assert by_marker["price_discount_proposed"].to_dict() == {"red": Decimal("120.00"), "green": Decimal("5.00")}


def test_the_xlsx_has_the_tables_and_a_chart_of_the_changes_by_tariff(tmp_path):
    run_impact(tmp_path, "impact.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "impact.xlsx")
    assert wb.sheetnames == ["Impact by client", "Impact by tariff", "Impact by marker", "Summary"]  # English labels
    assert len(wb["Impact by tariff"]._charts) == 1


def test_the_api_gives_the_same_tables_with_exact_decimals(tmp_path):
    import pytest

    import erp_plugin

    current = write_book(tmp_path / "current.xlsx", tariffs(8))
    proposed = write_book(tmp_path / "proposed.xlsx", tariffs(7))
    result = erp_plugin.impact(export(tmp_path / "sales.xlsx"), current, proposed)
    summary = result.tables["summary"].iloc[0]
    assert (summary["concession_current"], summary["concession_delta"]) == (Decimal("140.00"), Decimal("-15.00"))
    with pytest.raises(TypeError, match="year must be an int"):
        erp_plugin.impact(tmp_path / "sales.xlsx", current, proposed, year="2026")
