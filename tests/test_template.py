"""`erp-plugin init`: the fresh workbook a sales manager starts from, and the sample export."""

import subprocess
import sys
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from erp_plugin.jobs import init
from erp_plugin.tariffs import read_tariffs
from erp_plugin.tariffs.schema import SETTINGS, SHEETS


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    folder = tmp_path_factory.mktemp("init")
    init(folder)
    return folder


def test_every_sheet_with_styled_frozen_headers(fresh):
    wb = openpyxl.load_workbook(fresh / "tariffs.xlsx")
    assert wb.sheetnames == ["Instructions", "Preview"] + [s.name for s in SHEETS]
    for spec in SHEETS:
        ws = wb[spec.name]
        assert ws.freeze_panes == "A2", spec.name
        assert ws["A1"].font.bold, spec.name
        headers = [c.value for c in ws[1]]
        assert headers[: len(spec.columns)] == [c.name for c in spec.columns], spec.name


def test_dropdowns_where_a_value_comes_from_a_list(fresh):
    wb = openpyxl.load_workbook(fresh / "tariffs.xlsx")

    def lists(sheet):
        return {str(dv.sqref).split(":")[0]: dv.formula1 for dv in wb[sheet].data_validations.dataValidation if dv.type == "list"}

    clients = lists("Clients")
    assert clients["B2"] == "Tariffs!$A$2:$A$200"
    assert clients["C2"] == "BonusModes!$A$2:$A$50"
    assert clients["H2"] == "Tiers!$A$2:$A$50"
    assert lists("Products")["B2"] == "Markers!$A$2:$A$50"
    assert lists("Options")["A2"] == '"reservation_days,moneyback_days,payment"'
    assert lists("Promotions")["B2"] == '"discount_pct,bonus_multiplier"'
    settings = lists("Settings")
    rebate_mode_row = 2 + [s.key for s in SETTINGS].index("rebate_mode")
    assert settings[f"B{rebate_mode_row}"] == '"retroactive,stepped"'
    # each marker column of Tariffs is checked against that marker's range on the Markers sheet
    ranges = {str(dv.sqref).split(":")[0]: (dv.formula1, dv.formula2) for dv in wb["Tariffs"].data_validations.dataValidation if dv.type == "decimal"}
    assert ranges["F2"] == ("Markers!$B$5", "Markers!$C$5")  # red is the 4th marker


def test_number_formats(fresh):
    wb = openpyxl.load_workbook(fresh / "tariffs.xlsx")
    assert wb["Tariffs"]["B3"].number_format == "#,##0.00"
    assert wb["Tariffs"]["D3"].number_format == '0.0###" %"'
    assert wb["Clients"]["D2"].number_format == "DD.MM.YYYY"
    assert wb["RebateScale"]["A3"].value == 1_000_000


@pytest.mark.parametrize("language, heading", [("ru", "Тарифная книга программы лояльности"),
                                               ("en", "Loyalty programme tariff workbook")])
def test_instructions_cover_every_sheet_and_setting_in_the_chosen_language(tmp_path, language, heading):
    from erp_plugin import i18n

    with i18n.use(language):
        init(tmp_path)
    ws = openpyxl.load_workbook(tmp_path / "tariffs.xlsx")["Instructions"]
    assert ws["A1"].value == heading
    text = "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v)
    other = "en" if language == "ru" else "ru"
    for spec in SHEETS:
        assert spec.name in text and i18n.translate(spec.about_en, language) in text
        assert i18n.translate(spec.about_en, other) not in text  # one language, not both side by side
    for setting in SETTINGS:
        assert setting.key in text
        if setting.about:
            assert i18n.translate(setting.about, language) in text


def test_redemption_estimates_sheet_is_empty_so_the_setting_applies(fresh):
    wb = openpyxl.load_workbook(fresh / "tariffs.xlsx")
    ws = wb["RedemptionEstimates"]
    assert [c.value for c in ws[1]] == ["from_date", "expected_redemption_pct"]
    assert ws["A1"].fill.fgColor.rgb == wb["RebateScale"]["A1"].fill.fgColor.rgb  # styled like every sheet
    assert ws["A1"].comment.text.startswith("Обязательно / required") and "с_даты" in ws["A1"].comment.text
    assert all(c.value is None for row in ws.iter_rows(min_row=2) for c in row)  # no example row
    assert (ws["A2"].number_format, ws["B2"].number_format) == ("DD.MM.YYYY", '0.0###" %"')
    checks = {str(dv.sqref): (dv.type, dv.formula1, dv.formula2) for dv in ws.data_validations.dataValidation}
    assert checks == {"B2:B1000": ("decimal", "0", "100")}
    instructions = openpyxl.load_workbook(fresh / "tariffs.xlsx")["Instructions"]
    row = next(r for r in instructions.iter_rows(values_only=True) if str(r[0]).startswith("RedemptionEstimates"))
    assert row[0] in ("RedemptionEstimates (optional)", "RedemptionEstimates (необязательный)")
    assert "expected_redemption_pct" in row[1]
    assert row[2] == "from_date*, expected_redemption_pct*"
    book, _ = read_tariffs(fresh / "tariffs.xlsx", date(2026, 11, 22))
    assert book.redemption_estimates == ()
    assert book.expected_redemption_on(date(2026, 11, 22)) == book.settings.expected_redemption_pct == Decimal(80)


def test_default_programme(fresh):
    book, problems = read_tariffs(fresh / "tariffs.xlsx", date(2026, 11, 22))
    assert list(problems) == []
    assert [(m, b.min_pct, b.max_pct) for m, b in book.markers.items()] == [
        ("white", 0, 0), ("green", 1, 3), ("yellow", 3, 6), ("red", 5, 10)
    ]
    assert book.tariffs["BASE"].monthly_fee == 0 and book.tariffs["MAX"].monthly_fee == 4_999_000
    assert len(book.tariffs) == 6
    assert {p.reward for p in book.promotions} == {"discount_pct", "bonus_multiplier"}
    assert any(p.every_nth for p in book.promotions) and any(p.requires_sku for p in book.promotions)
    assert any(p.segment == "new" for p in book.promotions) and any(p.payment for p in book.promotions)
    assert (book.stamp_card.columns, book.stamp_card.cells_per_column) == (3, 4)
    assert book.rebate_scale[0].from_turnover == 0 and book.coupon_rules[0].discount_pct == Decimal(30)
    assert len(book.quests) == 1 and len(book.clients) == 6


def test_sample_export_is_1c_shaped(fresh):
    ws = openpyxl.load_workbook(fresh / "sales_export.xlsx").active
    assert ws["A1"].value == "Продажи по номенклатуре"
    assert "A1:R1" in {str(r) for r in ws.merged_cells.ranges}
    header = [c.value for c in ws[5]]
    assert header[:3] == ["Дата", "Документ", "№"] and "Количество" in header and "Ставка НДС" in header
    rows = list(ws.iter_rows(min_row=6, values_only=True))
    assert rows[-1][0] == "Итого"
    lines = rows[:-1]
    assert any(isinstance(r[11], str) and "\u00a0" in r[11] for r in lines)  # "12 240,00" as text
    assert any(isinstance(r[0], str) for r in lines) and any(not isinstance(r[0], str) for r in lines)
    assert any((r[9] if isinstance(r[9], int) else int(str(r[9]).replace("\u00a0", ""))) < 0 for r in lines)  # a return
    assert {r[12] for r in lines} == {"22%", "10%"}


def test_committed_workbooks_match_their_generator():
    done = subprocess.run([sys.executable, "scripts/make_workbooks.py", "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
