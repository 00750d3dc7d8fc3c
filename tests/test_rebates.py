"""Year-end rebates (SPEC §7), every figure worked out by hand.

Lines use the white marker, client C2 (BASE, discount) and prepayment, so no kit
discount applies and net = gross: the turnovers below are the sums of gross.
"""

import pandas as pd
import pytest

from erp_plugin import i18n, jobs
from erp_plugin.problems import InputError

from .conftest import write_book
from .test_price import (  # the workbook and export of the pricing tests
    book,
    write_export,
)

SCALE = [["from_turnover", "rebate_pct"], [0, 0], [1_000_000, 1], [3_000_000, 2]]


def run(tmp_path, lines, year=2026, settings=(), scale=SCALE, **sheets):
    workbook = book(RebateScale=scale, **sheets)
    workbook["Settings"] += [list(s) for s in settings]
    tariffs = write_book(tmp_path / "tariffs.xlsx", workbook)
    return jobs.rebates(write_export(tmp_path / "export.csv", lines, client_id="C2"), tariffs, year)


def sale(day, doc, amount, **extra):
    return dict(date=day, doc_id=doc, sku="S", qty=1, unit_price=amount, **extra)


def rows(result, table):
    return [tuple(r) for r in result.tables[table].frame.itertuples(index=False)]


def test_retroactive_and_stepped_scales_on_the_same_turnover(tmp_path):
    lines = [sale("2026-03-02", "D1", "2000000"), sale("2026-09-01", "D2", "1500000")]  # turnover 3 500 000.00
    retro = run(tmp_path, lines)
    # retroactive: the whole 3 500 000.00 at the reached step's 2 % = 70 000.00
    assert [(r[0], r[1], r[2], r[3]) for r in rows(retro, "rebates")] == [("C2", 350_000_000, 20_000, 7_000_000)]
    stepped = run(tmp_path, lines, settings=[("rebate_mode", "stepped")])
    # stepped: 1 000 000 at 0 % + 2 000 000 at 1 % + 500 000 at 2 % = 20 000 + 10 000 = 30 000.00
    assert [(r[1], r[3]) for r in rows(stepped, "rebates")] == [(350_000_000, 3_000_000)]
    # the rebate over the lines in proportion to net: 2 000 000 : 1 500 000
    assert retro.lines["rebate"].tolist() == [4_000_000, 3_000_000]


def test_an_allocation_whose_remainders_tie_goes_to_the_earlier_line(tmp_path):
    scale = [["from_turnover", "rebate_pct"], [0, 3.3333]]
    result = run(tmp_path, [sale("2026-03-02", f"D{i}", "100") for i in range(3)], scale=scale)
    # 300.00 × 3.3333 % = 9.9999 → 10.00; a third each is 3.3333: 3.33 each and one kopeck left, to the first line
    assert rows(result, "rebates")[0][3] == 1000
    assert result.lines["rebate"].tolist() == [334, 333, 333]


def test_a_client_with_20_22_and_10_percent_lines_gets_a_credit_note_per_rate(tmp_path):
    lines = [
        sale("2025-12-01", "D1", "1200000"),  # 20 % by date
        sale("2026-02-01", "D2", "1220000"),  # 22 % from 2026
        sale("2026-02-01", "D2", "110000", vat_rate="10%"),
    ]
    settings = [("fiscal_year_start", "07-01"), ("rebate_reduces_price", "TRUE")]
    result = run(tmp_path, lines, year=2025, settings=settings)  # 01.07.2025–30.06.2026
    # turnover 2 530 000.00 → 1 % = 25 300.00, split 12 000.00 : 12 200.00 : 1 100.00
    assert rows(result, "rebates")[0][1:4] == (253_000_000, 10_000, 2_530_000)
    assert result.lines["rebate"].tolist() == [1_200_000, 1_220_000, 110_000]
    # VAT inside each share: 1 100 × 10/110 = 100; 12 000 × 20/120 = 2 000; 12 200 × 22/122 = 2 200
    # numbered in the year of the fiscal year, dated its last day (30.06.2026); ex VAT = amount − VAT
    end = pd.Timestamp("2026-06-30")
    assert rows(result, "credit_notes") == [
        ("КН-2025-0001", end, "C2", None, None, 100_000, 100_000, 10_000, 110_000),
        ("КН-2025-0002", end, "C2", None, None, 200_000, 1_000_000, 200_000, 1_200_000),
        ("КН-2025-0003", end, "C2", None, None, 220_000, 1_000_000, 220_000, 1_220_000),
    ]
    # the rebate lowers the price: revenue reversed against the buyer's debt, and the VAT charged on it
    assert [r[1:5] for r in rows(result, "journal")] == [
        ("КН-2025-0001", "90.01.1", "62.01", 110_000), ("КН-2025-0001", "68.02", "90.03", 10_000),
        ("КН-2025-0002", "90.01.1", "62.01", 1_200_000), ("КН-2025-0002", "68.02", "90.03", 200_000),
        ("КН-2025-0003", "90.01.1", "62.01", 1_220_000), ("КН-2025-0003", "68.02", "90.03", 220_000),
    ]
    plain = run(tmp_path, lines, year=2025, settings=[("fiscal_year_start", "07-01")])
    frame = plain.tables["credit_notes"].frame
    assert frame["amount"].tolist() == [2_530_000] and frame["vat"].tolist() == [0] and frame["vat_rate"].isna().all()
    assert frame["amount_ex_vat"].tolist() == [2_530_000]
    # a volume bonus: an other expense set off against the buyer's debt, no VAT entry
    assert [r[1:5] for r in rows(plain, "journal")] == [("КН-2025-0001", "91.02", "62.01", 2_530_000)]


def test_credit_notes_carry_the_client_name_inn_and_the_settings_prefix_and_accounts(tmp_path):
    clients = [["client_id", "tariff", "bonus_mode", "name", "inn"], ["C2", "", "", "ООО «Вектор»", "6604567890"],
               ["C3", "", "", "", ""]]
    lines = [sale("2026-02-01", "D1", "1220000"), dict(sale("2026-03-01", "D2", "2440000"), client_id="C3")]
    settings = [("rebate_reduces_price", "TRUE"), ("credit_note_prefix", "CN"), ("account_revenue", "90.01"),
                ("account_customers", "62.02")]
    result = run(tmp_path, lines, settings=settings, Clients=clients)
    # 1 % of 1 220 000.00 = 12 200.00, VAT 22/122 = 2 200.00; 1 % of 2 440 000.00 = 24 400.00, VAT 4 400.00
    assert [r[:5] + r[6:] for r in rows(result, "credit_notes")] == [
        ("CN-2026-0001", pd.Timestamp("2026-12-31"), "C2", "ООО «Вектор»", "6604567890", 1_000_000, 220_000, 1_220_000),
        ("CN-2026-0002", pd.Timestamp("2026-12-31"), "C3", None, None, 2_000_000, 440_000, 2_440_000),
    ]
    journal = rows(result, "journal")
    assert [r[2:5] for r in journal] == [("90.01", "62.02", 1_220_000), ("68.02", "90.03", 220_000),
                                        ("90.01", "62.02", 2_440_000), ("68.02", "90.03", 440_000)]
    # the descriptions follow the language, like the Warnings table: English in a script's call, the chosen one else
    assert journal[0][5] == "Rebate to ООО «Вектор» (C2) for 2026 (revenue reduced)"
    assert [r[5] for r in journal[1:]] == ["VAT on the rebate to ООО «Вектор» (C2)", "Rebate to C3 for 2026 (revenue "
                                          "reduced)", "VAT on the rebate to C3"]
    with i18n.use("ru"):
        journal = rows(run(tmp_path, lines, settings=settings, Clients=clients), "journal")
    assert journal[0][5] == "Ретроскидка ООО «Вектор» (C2) по итогам 2026 г. (уменьшение выручки)"
    assert journal[1][5] == "НДС по ретроскидке ООО «Вектор» (C2)"
    assert journal[2][5] == "Ретроскидка C3 по итогам 2026 г. (уменьшение выручки)"


def test_tiers_stamps_documents_and_a_client_with_only_returns(tmp_path):
    stamp_card = [["key", "value"], ["columns", 3], ["cells_per_column", 4], ["min_document", 10000]]
    tiers = [["tier", "min_turnover", "min_single_document"], ["bronze", "", ""], ["silver", 1_000_000, 500_000],
             ["gold", 5_000_000, 2_000_000]]
    lines = [sale("2026-01-10", "BIG", "550000")]  # one document above 500 000: silver by the single-document rule
    lines += [sale(f"2026-{m:02d}-05", f"M{m}", "10000") for m in range(1, 10)]  # nine stamps
    lines += [sale("2026-10-05", "SMALL", "9999.99")]  # below min_document: no stamp
    lines += [dict(date="2026-05-05", doc_id="R1", client_id="C3", sku="S", qty=-1, unit_price="500")]  # C3: returns only
    result = run(tmp_path, lines, StampCard=stamp_card, Tiers=tiers)
    by_client = {r[0]: r for r in rows(result, "rebates")}
    # C2: turnover 550 000 + 90 000 + 9 999.99 = 649 999.99, below the 1 % step: no rebate; silver; 10 stamps
    # (the big document counts too) → 2 columns completed
    assert by_client["C2"][1:] == (64_999_999, 0, 0, 11, "silver", 10, 2)
    # C3 (PRO half, white 0 %): turnover −500.00, nothing earned, one document, the base tier
    assert by_client["C3"][1:] == (-50_000, 0, 0, 1, "bronze", 0, 0)
    assert result.lines["rebate"].sum() == 0
    stamps = {r[0]: r[1:] for r in rows(result, "stamps")}
    assert stamps["C2"] == (10, 2, "no", 2)  # 10 stamps: 2 columns of 4 done, 1 to go, 2 rewards
    tiers = {r[0]: r[1:] for r in rows(result, "tiers")}
    assert tiers["C2"] == ("silver", 64_999_999, 55_000_000)  # reached by the 550 000.00 document


def test_a_year_without_lines_is_a_clear_error(tmp_path):
    with pytest.raises(InputError) as raised:
        run(tmp_path, [sale("2026-03-02", "D1", "100")], year=2024)
    assert str(raised.value.problems[0]) == (
        "no lines dated in fiscal year 2024 (01.01.2024–31.12.2024); the export's lines run from 02.03.2026 to "
        "02.03.2026; check --year (and fiscal_year_start on the Settings sheet)"
    )


def test_a_stamp_card_that_completes_mid_year(tmp_path):
    stamp_card = [["key", "value"], ["columns", 3], ["cells_per_column", 4], ["min_document", 1000], ["reward", 500]]
    lines = [sale(f"2026-{1 + i // 3:02d}-{1 + i % 3 * 9:02d}", f"D{i}", "1000") for i in range(14)]  # 14 stamps by May
    result = run(tmp_path, lines, StampCard=stamp_card)
    # 12 stamps fill the 3 columns of 4 (on the 12th document, in April); the 13th and 14th change nothing
    assert rows(result, "stamps") == [("C2", 14, 3, "yes", 3, 150_000)]  # 3 rewards of 500.00 points


@pytest.mark.parametrize("part_lines", [2_000_000, 1])  # one part; a part per line (clients split by code)
def test_clients_computed_in_parts_give_the_same_figures(tmp_path, monkeypatch, part_lines):
    from erp_plugin import parallel

    monkeypatch.setattr(parallel, "PART_LINES", part_lines)
    lines = [
        sale("2026-03-02", "D1", "2000000"), sale("2026-04-01", "D2", "600000", client_id="C3"),
        sale("2026-09-01", "D3", "1500000"), sale("2026-05-01", "D4", "500000", client_id="C3"),
        # a return of a SKU never sold to C3: unmatched, priced at its own terms (SPEC §8 Returns)
        dict(date="2026-06-01", doc_id="R1", client_id="C3", sku="S2", qty=-1, unit_price="100000"),
    ]
    result = run(tmp_path, lines)
    # C2: 3 500 000.00 at 2 % = 70 000.00, split 2 000 000 : 1 500 000.
    # C3: 600 000 + 500 000 − 100 000 = 1 000 000.00, just the 1 % step: 10 000.00 over the two sales,
    # 1 000 000 × 6/11 = 545 454.55 and × 5/11 = 454 545.45 kopecks: floors 545 454 and 454 545, the
    # kopeck left to the larger remainder (0.55 > 0.45); the return gets none
    assert [r[:5] for r in rows(result, "rebates")] == [
        ("C2", 350_000_000, 20_000, 7_000_000, 2), ("C3", 100_000_000, 10_000, 1_000_000, 3),
    ]
    assert result.lines["rebate"].tolist() == [4_000_000, 545_455, 3_000_000, 454_545, 0]
