"""Pricing (SPEC §5), every figure worked out by hand and written here in kopecks.

The tariff workbook of these tests:
  markers   white 0–0, green 1–3, yellow 3–6, red 5–10
  tariffs   BASE: 0, 1, 3, 5 %   PRO (fee 1 000): 0, 2, 5, 8 %
  options   payment prepaid 0, deferral 1.5 %; reservation_days 0 → 0, 7 → 1 %, 14 → 2 %;
            moneyback_days 0 → 0, 30 → 0.5 %
  clients   C1 PRO bonus (regular, tier gold, joined 2025-01-01); C2 BASE discount (joined 2026-02-01);
            C3 PRO half
  settings  VAT by date (20 %, 22 % from 2026), prices include VAT, carrying rate 25 %
"""

import csv
from pathlib import Path

import pytest

from erp_plugin import jobs
from erp_plugin.problems import InputError

from .conftest import write_book

HEADERS = ["date", "doc_id", "client_id", "sku", "qty", "unit_price", "marker", "category", "payment",
           "reservation_days", "moneyback_days", "bonus_paid", "coupon", "vat_rate"]


def book(**extra):
    sheets = {
        "Settings": [["key", "value"], ["carrying_rate_pct", 25]],
        "Tariffs": [["tariff", "monthly_fee", "white", "green", "yellow", "red"],
                    ["BASE", 0, 0, 1, 3, 5], ["PRO", 1000, 0, 2, 5, 8]],
        "Options": [["option", "value", "weight_pct"], ["payment", "prepaid", 0], ["payment", "deferral", 1.5],
                    ["reservation_days", 0, 0], ["reservation_days", 7, 1], ["reservation_days", 14, 2],
                    ["moneyback_days", 0, 0], ["moneyback_days", 30, 0.5]],
        "Clients": [["client_id", "tariff", "bonus_mode", "joined", "segments", "tier"],
                    ["C1", "PRO", "bonus", "01.01.2025", "regular", "gold"],
                    ["C2", "", "", "01.02.2026", "", ""],
                    ["C3", "PRO", "half", "01.01.2024", "", ""]],
        "Tiers": [["tier", "min_turnover"], ["base", ""], ["gold", 1000000]],
    }
    sheets.update(extra)
    return sheets


def write_export(path: Path, lines: list[dict], **defaults) -> Path:
    """A csv export with canonical headers; each line's values over ``defaults``."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, HEADERS)
        writer.writeheader()
        for line in lines:
            writer.writerow({"marker": "white", "payment": "prepaid", **defaults, **line})
    return path


def price(tmp_path: Path, lines: list[dict], sheets=None, **options):
    tariffs = write_book(tmp_path / "tariffs.xlsx", sheets or book())
    export = write_export(tmp_path / "export.csv", lines, date="2026-03-02")
    return jobs.price(export, tariffs, **options)


def rules(priced):
    """promo_rules per line, "" where no rule changed the line."""
    return priced.lines["promo_rules"].astype(object).fillna("").tolist()


def figures(priced, *columns):
    return [tuple(int(row[c]) for c in columns) for _, row in priced.lines[list(columns)].iterrows()]


KIT = ("gross", "kit_pct", "kit_discount", "kit_bonus", "kit_price_discount", "price_discount", "net",
       "bonus_accrued", "reservation_cost", "vat", "cash_due")


@pytest.fixture(params=[None, 1], ids=["whole", "line_by_line"])
def block_rows(request, monkeypatch):
    """Row-wise arithmetic as one block, and again one line per block on the thread pool (blocks.py)."""
    from erp_plugin import parallel as blocks

    if request.param:
        monkeypatch.setattr(blocks, "BLOCK_ROWS", request.param)


def test_kit_figures_options_rounding_vat_and_a_mirrored_return(tmp_path, block_rows):
    priced = price(tmp_path, [
        # C1 PRO bonus, red 8 % − deferral 1.5 − 7 days 1 − 30 days 0.5 = 5 %; gross 2 × 1 000.00
        dict(doc_id="D1", client_id="C1", sku="S1", qty=2, unit_price="1000", marker="red", payment="deferral",
             reservation_days=7, moneyback_days=30),
        # C3 PRO half, yellow 5 %: 3 × 333.33 = 999.99
        dict(doc_id="D2", client_id="C3", sku="S2", qty=3, unit_price="333.33", marker="yellow"),
        # the return of D1's line
        dict(doc_id="R1", client_id="C1", sku="S1", qty=-2, unit_price="1000", marker="red", payment="deferral",
             reservation_days=7, moneyback_days=30),
        # a client not in Clients: BASE, discount; green 1 %; dated 2025, so VAT 20 %
        dict(date="2025-12-31", doc_id="D3", client_id="C9", sku="S3", qty=1, unit_price="100", marker="green"),
    ])
    assert figures(priced, *KIT) == [
        # kit 5 % of 2 000.00 = 100.00, all bonus; reservation 200000 × 25 % × 7 / 365 = 958.9 → 959;
        # VAT 200000 × 22 / 122 = 36065.6 → 36066
        (200000, 50000, 10000, 10000, 0, 0, 200000, 10000, 959, 36066, 200000),
        # kit 5 % of 999.99 = 4999.95 → 5000; half: bonus 2500, off the price 2500; net 97499;
        # VAT 97499 × 22 / 122 = 17581.8 → 17582
        (99999, 50000, 5000, 2500, 2500, 2500, 97499, 2500, 0, 17582, 97499),
        # every figure of the sale, negated
        (-200000, 50000, -10000, -10000, 0, 0, -200000, -10000, -959, -36066, -200000),
        # 1 % of 100.00 = 1.00 off the price; VAT 9900 × 20 / 120 = 1650
        (10000, 10000, 100, 0, 100, 100, 9900, 0, 0, 1650, 9900),
    ]
    assert priced.lines["tariff"].tolist() == ["PRO", "PRO", "PRO", "BASE"]
    assert priced.lines["bonus_mode"].tolist() == ["bonus", "half", "bonus", "discount"]
    assert priced.lines["option_weight_pct"].tolist() == [30000, 0, 30000, 0]
    assert priced.lines["marker_pct"].tolist() == [80000, 50000, 80000, 10000]
    assert [str(p) for p in priced.problems.warnings if p.code == "price.unknown_client"] == [
        "1 lines of 1 clients not in Clients are priced on BASE with the discount mode (e.g. C9)"
    ]


def test_a_line_on_the_day_a_tariff_changes(tmp_path):
    sheets = book(TariffChanges=[["client_id", "from_date", "tariff", "bonus_mode"], ["C2", "10.03.2026", "PRO", "bonus"]])
    priced = price(tmp_path, [
        dict(date="2026-03-09", doc_id="D1", client_id="C2", sku="S", qty=1, unit_price="1000", marker="red"),
        dict(date="2026-03-10", doc_id="D2", client_id="C2", sku="S", qty=1, unit_price="1000", marker="red"),
    ], sheets)
    assert priced.lines["tariff"].tolist() == ["BASE", "PRO"]
    assert priced.lines["bonus_mode"].tolist() == ["discount", "bonus"]
    # BASE red 5 % off the price: net 950.00; PRO red 8 % all to bonus: net 1 000.00, bonus 80.00
    assert figures(priced, "kit_discount", "price_discount", "net", "bonus_accrued") == [
        (5000, 5000, 95000, 0), (8000, 0, 100000, 8000),
    ]


PROMO_HEADER = ["rule_id", "reward", "value", "segment", "marker", "sku", "category", "payment", "min_qty",
                "requires_sku", "every_nth", "group", "priority"]


def test_two_exclusive_rules_in_one_document(tmp_path):
    sheets = book(Promotions=[PROMO_HEADER,
                              ["REG5", "discount_pct", 5, "regular", "", "", "", "", "", "", "", "seg", 1],
                              ["CAB7", "discount_pct", 7, "", "", "", "Кабель", "", "", "", "", "seg", 2],
                              ["TIE5", "discount_pct", 5, "", "", "", "", "", "", "", "", "tie", 2],
                              ["TIE5B", "discount_pct", 5, "", "", "", "", "", "", "", "", "tie", 1]])
    priced = price(tmp_path, [
        # D1: REG5 totals 5 % of 4 000 = 200, CAB7 7 % of 1 000 = 70: REG5 wins the whole document
        dict(doc_id="D1", client_id="C1", sku="A", qty=1, unit_price="1000", category="Кабель"),
        dict(doc_id="D1", client_id="C1", sku="B", qty=1, unit_price="3000", category="Щиты"),
        # D2: REG5 200 against CAB7 7 % of 3 000 = 210: CAB7 wins
        dict(doc_id="D2", client_id="C1", sku="A", qty=3, unit_price="1000", category="кабель"),
        dict(doc_id="D2", client_id="C1", sku="B", qty=1, unit_price="1000", category="Щиты"),
    ], sheets)
    # the TIE group: equal totals, the lower priority (TIE5B) wins; it stacks with the seg winner
    assert figures(priced, "promo_discount") == [(5000 + 5000,), (15000 + 15000,), (21000 + 15000,), (0 + 5000,)]
    assert rules(priced) == ["REG5, TIE5B", "REG5, TIE5B", "CAB7, TIE5B", "TIE5B"]


def test_every_nth_unit_cheapest_first_ties_to_the_earlier_line(tmp_path):
    sheets = book(Promotions=[PROMO_HEADER, ["NTH3", "discount_pct", 50, "", "", "", "Автоматика", "", "", "", 3, "", ""]])
    priced = price(tmp_path, [
        dict(doc_id="D1", client_id="C2", sku="A", qty=3, unit_price="100", category="Автоматика"),
        dict(doc_id="D1", client_id="C2", sku="B", qty=1, unit_price="50", category="Автоматика"),
        dict(doc_id="D1", client_id="C2", sku="C", qty=2, unit_price="50", category="Автоматика"),
        dict(doc_id="D1", client_id="C2", sku="D", qty=5, unit_price="1", category="Кабель"),  # not matching
    ], sheets)
    # 6 matching units → 2 free at 50 %: the cheapest are 50.00, B's unit first, then one of C's two
    assert figures(priced, "promo_discount") == [(0,), (2500,), (2500,), (0,)]
    assert rules(priced) == ["", "NTH3", "NTH3", ""]


def test_a_bundle_in_a_return_document(tmp_path):
    sheets = book(Promotions=[PROMO_HEADER, ["BUNDLE", "discount_pct", 50, "", "", "CASE", "", "", "", "PHONE", "", "", ""]])
    priced = price(tmp_path, [
        dict(doc_id="D1", client_id="C2", sku="PHONE", qty=1, unit_price="1000"),
        dict(doc_id="D1", client_id="C2", sku="CASE", qty=1, unit_price="100"),
        dict(doc_id="R1", client_id="C2", sku="PHONE", qty=-1, unit_price="1000"),
        dict(doc_id="R1", client_id="C2", sku="CASE", qty=-1, unit_price="100"),
        dict(doc_id="R2", client_id="C2", sku="CASE", qty=-1, unit_price="100"),  # the case alone: no bundle
    ], sheets)
    assert figures(priced, "promo_discount", "net") == [
        (0, 100000), (5000, 5000), (0, -100000), (-5000, -5000), (0, -10000),
    ]


def test_a_multiplier_on_a_half_client(tmp_path, block_rows):
    sheets = book(Promotions=[PROMO_HEADER,
                              ["X2", "bonus_multiplier", 2, "", "red", "", "", "", "", "", "", "", ""],
                              ["X15", "bonus_multiplier", 1.5, "", "", "S2", "", "", "", "", "", "", ""]])
    priced = price(tmp_path, [
        # C3 PRO half, red 8 % of 1 000.00 = 80.00: 40.00 off the price, 40.00 bonus × 2 = 80.00
        dict(doc_id="D1", client_id="C3", sku="S1", qty=1, unit_price="1000", marker="red"),
        # both multipliers: 40.00 × 2 × 1.5 = 120.00
        dict(doc_id="D1", client_id="C3", sku="S2", qty=1, unit_price="1000", marker="red"),
        # white 0 %: no kit bonus, so X15 matches but changes nothing (and is not listed)
        dict(doc_id="D1", client_id="C3", sku="S2", qty=1, unit_price="333.33", marker="white"),
    ], sheets)
    assert figures(priced, "kit_bonus", "kit_price_discount", "bonus_accrued", "net") == [
        (4000, 4000, 8000, 96000), (4000, 4000, 12000, 96000), (0, 0, 0, 33333),
    ]
    assert rules(priced) == ["X2", "X2, X15", ""]


def test_a_coupon_issued_used_and_used_twice(tmp_path):
    sheets = book(CouponRules=[["rule_id", "every_n_documents", "discount_pct", "valid", "min_document"],
                               ["CP", 2, 10, "end_of_month", 100]])
    priced = price(tmp_path, [
        dict(date="2026-03-01", doc_id="D1", client_id="C2", sku="S", qty=1, unit_price="200"),
        dict(date="2026-03-02", doc_id="D2", client_id="C2", sku="S", qty=1, unit_price="200"),  # 2nd: CP-C2-1
        dict(date="2026-03-05", doc_id="D3", client_id="C2", sku="S", qty=1, unit_price="100", coupon="CP-C2-1"),
        dict(date="2026-03-06", doc_id="D4", client_id="C2", sku="S", qty=1, unit_price="100", coupon="CP-C2-1"),
        dict(date="2026-03-07", doc_id="D5", client_id="C1", sku="S", qty=1, unit_price="50", coupon="CP-C2-2"),
    ], sheets)
    # D3: 10 % of 100.00; D4: refused (already used); D5: CP-C2-2 (issued on D4, the 4th qualifying
    # document) belongs to C2, not C1: refused
    assert figures(priced, "promo_discount") == [(0,), (0,), (1000,), (0,), (0,)]
    assert rules(priced)[2] == "CP-C2-1"
    refused = sorted(str(p) for p in priced.problems.warnings if p.code == "price.coupon_refused")
    assert refused == [
        "export row 5, field coupon: coupon CP-C2-1 was already used on D3: no discount",
        "export row 6, field coupon: coupon CP-C2-2 belongs to client C2, not C1: no discount",
    ]
    coupons = priced.tables["coupons"].frame
    assert coupons["code"].tolist() == ["CP-C2-1", "CP-C2-2"]
    assert coupons["used_doc"].tolist() == ["D3", None]
    assert [d.strftime("%Y-%m-%d") for d in coupons["valid_to"]] == ["2026-03-31", "2026-03-31"]


def test_a_22_percent_line_beside_a_10_percent_line(tmp_path, block_rows):
    priced = price(tmp_path, [
        dict(doc_id="D1", client_id="C2", sku="A", qty=1, unit_price="1220", vat_rate="22%"),
        dict(doc_id="D1", client_id="C2", sku="B", qty=1, unit_price="1100", vat_rate="10%"),
    ])
    assert figures(priced, "vat") == [(22000,), (10000,)]  # 1 220 × 22/122 = 220; 1 100 × 10/110 = 100


def test_prices_without_vat(tmp_path):
    sheets = book()
    sheets["Settings"] += [["prices_include_vat", "FALSE"], ["vat_rate_pct", 20]]
    priced = price(tmp_path, [dict(doc_id="D1", client_id="C2", sku="A", qty=1, unit_price="99.99")], sheets)
    assert figures(priced, "vat") == [(2000,)]  # 99.99 × 20 % = 19.998 → 20.00


def test_bonus_spent_from_available_points(tmp_path):
    lines = [
        # 03-02: C1 earns 100.00 (red 8 % − 1.5 deferral... here prepaid: 8 % of 1 250.00 = 100.00), available at once
        dict(date="2026-03-02", doc_id="D1", client_id="C1", sku="S", qty=1, unit_price="1250", marker="red"),
        # 03-05: spends 60.00
        dict(date="2026-03-05", doc_id="D2", client_id="C1", sku="S", qty=1, unit_price="500", bonus_paid="60"),
        # 03-06: wants 50.00, only 40.00 left
        dict(date="2026-03-06", doc_id="D3", client_id="C1", sku="S", qty=1, unit_price="500", bonus_paid="50"),
    ]
    with pytest.raises(InputError) as raised:
        price(tmp_path, lines)
    assert [str(p) for p in raised.value.problems] == [
        "export row 4, field bonus_paid: bonus_paid 50.00 is more than the client can spend here: available 40.00, "
        "net 500.00 (on_overdraw = cap would take what is available)"
    ]
    sheets = book()
    sheets["Settings"].append(["on_overdraw", "cap"])
    priced = price(tmp_path, lines, sheets)
    assert figures(priced, "bonus_accrued", "bonus_redeemed", "cash_due") == [
        (10000, 0, 125000), (0, 6000, 44000), (0, 4000, 46000),
    ]


def test_points_are_pending_until_the_money_back_window_ends(tmp_path):
    sheets = book()
    sheets["Settings"].append(["on_overdraw", "cap"])
    priced = price(tmp_path, [
        dict(date="2026-03-02", doc_id="D1", client_id="C1", sku="S", qty=1, unit_price="1250", marker="red",
             moneyback_days=30),  # 8 % − 0.5 = 7.5 % of 1 250.00 = 93.75, pending until 04-01
        dict(date="2026-03-15", doc_id="D2", client_id="C1", sku="S", qty=1, unit_price="100", bonus_paid="50"),
        dict(date="2026-04-01", doc_id="D3", client_id="C1", sku="S", qty=1, unit_price="100", bonus_paid="50"),
    ], sheets)
    assert figures(priced, "bonus_accrued", "bonus_redeemed") == [(9375, 0), (0, 0), (0, 5000)]


def test_bad_lines_are_named_and_nothing_is_written(tmp_path):
    sheets = book(Promotions=[PROMO_HEADER, ["NTH", "discount_pct", 50, "", "", "", "", "", "", "", 2, "", ""]],
                  CouponRules=[["rule_id", "every_n_documents", "discount_pct"], ["CP", 5, 10]])
    lines = [
        dict(doc_id="D1", client_id="C2", sku="S", qty=1, unit_price="10", reservation_days=21),
        dict(doc_id="D2", client_id="C2", sku="S", qty=1, unit_price="10", payment="cash"),
        dict(doc_id="D3", client_id="C2", sku="S", qty="2.5", unit_price="10"),
        dict(doc_id="D4", client_id="C2", sku="S", qty=1, unit_price="10", coupon="NOPE-1"),
        dict(doc_id="D5", client_id="C2", sku="S", qty=2, unit_price="10"),
    ]
    out = tmp_path / "out.xlsx"
    with pytest.raises(InputError) as raised:
        price(tmp_path, lines, sheets, out=out)
    assert [str(p) for p in raised.value.problems] == [
        "export row 2, field reservation_days: reservation_days 21 is more than the largest configured value 14; "
        "add a larger bracket on the Options sheet or correct the line",
        "export row 3, field payment: payment 'cash' is not a payment option; expected one of prepaid, deferral",
        "export row 4, field qty: qty 2.5 is not a whole number, but rule NTH discounts every 2nd unit; "
        "only whole units can be counted",
        "export row 5, field coupon: coupon 'NOPE-1' was never issued; check the code (coupons are <rule>-<client>-<number>)",
    ]
    assert not out.exists()
    priced = price(tmp_path, lines, sheets, out=out, skip_bad_lines=True)
    assert priced.lines["doc_id"].astype(str).tolist() == ["D5"]
    assert figures(priced, "promo_discount") == [(500,)]  # 2 units: ⌊2/2⌋ = 1 unit at 50 % of 10.00
    assert len([p for p in priced.problems.warnings if p.message.endswith("the line is left out")]) == 4
    assert out.exists()


def test_days_of_an_option_the_workbook_does_not_offer(tmp_path, block_rows):
    """No moneyback_days rows on Options: 0 days weighs 0, more is an error for the line."""
    sheets = book()
    sheets["Options"] = [row for row in sheets["Options"] if row[0] != "moneyback_days"]
    lines = [dict(doc_id="D1", client_id="C2", sku="S", qty=1, unit_price="10", reservation_days=7),
             dict(doc_id="D2", client_id="C2", sku="S", qty=1, unit_price="10", moneyback_days=10)]
    with pytest.raises(InputError) as raised:
        price(tmp_path, lines, sheets)
    assert [str(p) for p in raised.value.problems] == [
        "export row 3, field moneyback_days: moneyback_days 10, but the tariff workbook offers no moneyback_days "
        "option; add rows on the Options sheet",
    ]
    priced = price(tmp_path, lines[:1], sheets)
    assert priced.lines["option_weight_pct"].tolist() == [10000]  # reservation 7 days: 1 %


def test_unknown_client_can_be_an_error(tmp_path):
    sheets = book()
    sheets["Settings"].append(["unknown_client", "error"])
    with pytest.raises(InputError) as raised:
        price(tmp_path, [dict(doc_id="D1", client_id="C9", sku="S", qty=1, unit_price="10")], sheets)
    assert str(raised.value.problems[0]) == (
        "export row 2, field client_id: client 'C9' is not in Clients (unknown_client = error); add it there"
    )


def test_segment_new_tier_and_window_filters(tmp_path):
    sheets = book(Promotions=[
        ["rule_id", "reward", "value", "segment", "active_from", "active_to", "min_qty"],
        ["NEW2", "discount_pct", 2, "new", "", "", ""],
        ["GOLD1", "discount_pct", 1, "tier:gold", "", "", 10],
        ["MARCH", "discount_pct", 3, "", "01.03.2026", "31.03.2026", ""],
    ])
    priced = price(tmp_path, [
        # C2 joined 2026-02-01: new until 2027-01-31 (365 days); March window applies
        dict(date="2026-03-02", doc_id="D1", client_id="C2", sku="S", qty=1, unit_price="100"),
        dict(date="2027-02-01", doc_id="D2", client_id="C2", sku="S", qty=1, unit_price="100"),
        # C1 tier gold, qty 10 ≥ min_qty 10
        dict(date="2026-04-01", doc_id="D3", client_id="C1", sku="S", qty=10, unit_price="100"),
        dict(date="2026-04-01", doc_id="D4", client_id="C1", sku="S", qty=9, unit_price="100"),
    ], sheets)
    assert rules(priced) == ["NEW2, MARCH", "", "GOLD1", ""]
    assert figures(priced, "promo_discount") == [(500,), (0,), (1000,), (0,)]


def test_the_guardrail_groups_lines_above_their_markers_max_concession(tmp_path):
    """max_concession_pct per marker (white blank: no check); discount and bonus compared, the reservation
    cost shown beside; one warning per marker and combination of promotions, at its worst line."""
    sheets = book(
        Markers=[["marker", "min_pct", "max_pct", "max_concession_pct"], ["white", 0, 0, ""], ["green", 1, 3, 5],
                 ["yellow", 3, 6, ""], ["red", 5, 10, 10]],
        Promotions=[PROMO_HEADER, ["ALL5", "discount_pct", 5, "", "", "", "", "", "", "", "", "", ""],
                    ["T3", "discount_pct", 3, "", "", "T", "", "", "", "", "", "", ""]])
    priced = price(tmp_path, [
        dict(doc_id="D1", client_id="C2", sku="S", qty=1, unit_price="100", marker="red"),  # 5 + 5 = 10 % = max
        dict(doc_id="D1", client_id="C2", sku="S", qty=1, unit_price="100", marker="green"),  # 1 + 5 = 6 % > 5 %
        # PRO green 2 %, all of it bonus (mode bonus): 500 discount + 200 bonus = 7 %, the group's worst
        dict(doc_id="D2", client_id="C1", sku="S", qty=1, unit_price="100", marker="green"),
        # 14 days weigh 2 %: kit 0, promotion 5 % = max; reservation cost round(9 500 × 25 % × 14 / 365) = 91
        # makes the line's concession 5.91 %, but it is not compared
        dict(doc_id="D3", client_id="C2", sku="S", qty=1, unit_price="100", marker="green", reservation_days=14),
        dict(doc_id="D4", client_id="C2", sku="S", qty=1, unit_price="100", marker="white"),  # 5 %, no check
        dict(doc_id="D5", client_id="C2", sku="T", qty=1, unit_price="100", marker="green"),  # 1 + 5 + 3 = 9 %
    ], sheets)
    assert priced.lines["concession_pct"].tolist() == [100000, 60000, 70000, 59100, 50000, 90000]
    warnings = [p for p in priced.problems.warnings if p.code == "price.concession"]
    assert [(p.row, p.count, p.group) for p in warnings] == [(4, 2, "green: ALL5"), (7, 1, "green: ALL5, T3")]
    assert [str(p) for p in warnings] == [
        "export row 4: green marker with promotion ALL5: discount and bonus above the marker's maximum concession "
        "of 5 % of gross; the worst line, this one, gives 7 % (its reservation cost, 0 %, beside it, not compared) "
        "(2 lines)",
        "export row 7: green marker with promotions ALL5, T3: discount and bonus above the marker's maximum "
        "concession of 5 % of gross; the worst line, this one, gives 9 % (its reservation cost, 0 %, beside it, "
        "not compared) (1 line)",
    ]
    table = priced.tables["warnings"].frame
    assert table[["row", "count", "code"]].values.tolist() == [[4, 2, "price.concession"], [7, 1, "price.concession"]]


def test_the_guardrail_shows_the_reservation_cost_of_the_worst_line(tmp_path):
    """C2 BASE green 1 %, 7 days weigh 1 %: kit 0; ALL5 5 % > max 4 %; net 9 500, reservation cost
    round(9 500 × 25 % × 7 / 365) = round(45.55) = 46 kopecks, 0.46 % of gross."""
    sheets = book(
        Markers=[["marker", "min_pct", "max_pct", "max_concession_pct"], ["white", 0, 0, ""], ["green", 1, 3, 4],
                 ["yellow", 3, 6, ""], ["red", 5, 10, ""]],
        Promotions=[PROMO_HEADER, ["ALL5", "discount_pct", 5, "", "", "", "", "", "", "", "", "", ""]])
    priced = price(tmp_path, [dict(doc_id="D1", client_id="C2", sku="S", qty=1, unit_price="100", marker="green",
                                   reservation_days=7)], sheets)
    assert figures(priced, "price_discount", "reservation_cost") == [(500, 46)]
    (warning,) = [p for p in priced.problems.warnings if p.code == "price.concession"]
    assert "gives 5 % (its reservation cost, 0.46 %, beside it, not compared)" in warning.message


def test_without_max_concession_pct_nothing_is_compared(tmp_path):
    """The SPEC's Markers columns alone (no max_concession_pct): no guardrail warning, whatever is given."""
    sheets = book(Promotions=[PROMO_HEADER, ["ALL50", "discount_pct", 50, "", "", "", "", "", "", "", "", "", ""]])
    priced = price(tmp_path, [dict(doc_id="D1", client_id="C2", sku="S", qty=1, unit_price="100", marker="white")],
                   sheets)
    assert priced.lines["concession_pct"].tolist() == [500000]
    assert not [p for p in priced.problems.warnings if p.code == "price.concession"]


MONEY_COLUMNS = ("gross", "kit_discount", "kit_bonus", "kit_price_discount", "promo_discount", "price_discount", "net",
                 "bonus_accrued", "reservation_cost", "vat", "cash_due")


def test_a_return_is_exactly_the_negated_sale_property(tmp_path_factory):
    """Whatever the lines, a return document that mirrors a sale document gets every money figure negated."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    sheets = book(Promotions=[PROMO_HEADER,
                              ["REG5", "discount_pct", 5, "regular", "", "", "", "", "", "", "", "seg", 1],
                              ["ALL3", "discount_pct", 3.3333, "", "", "", "", "", "", "", "", "seg", 2],
                              ["NTH", "discount_pct", 50, "", "", "", "", "", "", "", 3, "", ""],
                              ["X2", "bonus_multiplier", 1.5, "", "red", "", "", "", "", "", "", "", ""]])
    line = st.fixed_dictionaries({
        "client_id": st.sampled_from(["C1", "C2", "C3"]),
        "qty": st.integers(1, 40),
        "unit_price": st.decimals(min_value="0.01", max_value="99999.99", places=2).map(str),
        "marker": st.sampled_from(["white", "green", "yellow", "red"]),
        "payment": st.sampled_from(["prepaid", "deferral"]),
        "reservation_days": st.sampled_from([0, 3, 7, 14]),
        "moneyback_days": st.sampled_from([0, 30]),
    })

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(lines=st.lists(line, min_size=1, max_size=6))
    def check(lines):
        client = lines[0]["client_id"]
        sale = [dict(l, client_id=client, doc_id="S", sku=f"K{i}") for i, l in enumerate(lines)]
        back = [dict(l, doc_id="R", qty=-l["qty"]) for l in sale]
        priced = price(tmp_path_factory.mktemp("mirror"), sale + back, sheets)
        n = len(lines)
        for column in MONEY_COLUMNS:
            values = priced.lines[column].tolist()
            assert values[n:] == [-v for v in values[:n]], column

    check()


def test_priced_parquet_is_read_back_as_pricing_held_it(tmp_path):
    """A batch script runs a period job on ``price --out x.parquet`` without pricing again."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from erp_plugin.problems import InputError

    out = tmp_path / "priced.parquet"
    price(tmp_path, [
        dict(doc_id="D2", client_id="C3", sku="S2", qty=3, unit_price="333.33", marker="yellow"),
        dict(date="2025-12-31", doc_id="D3", client_id="C9", sku="S3", qty=1, unit_price="100", marker="green"),
    ], out=out)
    lines = jobs.read_priced(out, columns=["source_row", "date", "client_id", "qty", "net", "vat", "kit_pct",
                                          "concession_pct", "vat_rate", "promo_rules"])
    # the figures of test_kit_figures_options_rounding_vat_and_a_mirrored_return, back from the file
    assert lines["source_row"].tolist() == [2, 3]
    assert lines["date"].astype(str).tolist() == ["2026-03-02", "2025-12-31"]
    assert lines["client_id"].astype(str).tolist() == ["C3", "C9"]
    assert lines["qty"].tolist() == [3_000, 1_000] and lines["net"].tolist() == [97_499, 9_900]
    assert lines["vat"].tolist() == [17_582, 1_650] and lines["kit_pct"].tolist() == [50_000, 10_000]
    # concession 5000 / 99999 = 5.00005 % and 100 / 10000 = 1 %, in percent units
    assert lines["concession_pct"].tolist() == [50_001, 10_000]
    assert lines["vat_rate"].isna().all() and lines["promo_rules"].isna().all()
    assert set(jobs.read_priced(out).columns) >= {"source_row", "gross", "net", "cash_due", "promo_rules"}
    with pytest.raises(InputError) as missing:
        jobs.read_priced(out, columns=["net", "rebate"])
    assert [str(p) for p in missing.value.problems] == [f"{out}: rebate is not a column erp-plugin price writes"]
    with pytest.raises(InputError) as absent:
        jobs.read_priced(tmp_path / "none.parquet", columns=["net"])
    assert absent.value.problems[0].code == "file.corrupt"
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1]}), other)
    with pytest.raises(InputError) as unrelated:
        jobs.read_priced(other)
    assert [str(p) for p in unrelated.value.problems] == [
        f"{other}: has none of the columns erp-plugin price writes; expected the parquet output of erp-plugin price"]


def test_an_export_without_a_line_to_price_is_a_clear_error(tmp_path):
    """No line under the header (a csv with headers only, an empty parquet), or every line left out as bad."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from erp_plugin.problems import InputError

    tariffs = write_book(tmp_path / "tariffs.xlsx", book())
    empty_csv = write_export(tmp_path / "empty.csv", [])
    empty_parquet = tmp_path / "empty.parquet"
    pq.write_table(pa.schema([("date", pa.date32()), ("doc_id", pa.string()), ("client_id", pa.string()),
                              ("sku", pa.string()), ("qty", pa.int64()), ("unit_price", pa.int64())]).empty_table(), empty_parquet)
    for export in (empty_csv, empty_parquet):
        with pytest.raises(InputError) as raised:
            jobs.price(export, tariffs, out=tmp_path / "out.xlsx")
        assert [str(p) for p in raised.value.problems] == [
            "the export has no lines under its header row: nothing to price; check the file (and --sheet)"]
    assert not (tmp_path / "out.xlsx").exists()
    bad = write_export(tmp_path / "bad.csv", [dict(date="2026-03-02", doc_id="D1", client_id="C2", sku="S", qty=1,
                                                   unit_price="10", payment="cash")])
    with pytest.raises(InputError) as raised:  # the pipeline leaves the only line out
        jobs.price(bad, tariffs, skip_bad_lines=True)
    assert [p.code for p in raised.value.problems] == ["price.payment", "price.no_lines"]
    unreadable = write_export(tmp_path / "unreadable.csv", [dict(date="2026-03-02", doc_id="D1", client_id="C2", sku="S",
                                                                 qty="many", unit_price="10")])
    with pytest.raises(InputError) as raised:  # the reader leaves the only line out
        jobs.price(unreadable, tariffs, skip_bad_lines=True)
    assert [p.code for p in raised.value.problems] == ["export.value", "price.no_lines"]
    assert str(raised.value.problems[-1]) == ("every line had a problem and was left out (--skip-bad-lines): "
                                              "nothing is left to price")


def test_ledger_keys_packed_for_sorting_keep_lexsort_order():
    """Redemption's sort packs neighbouring keys into one int64: the order must be np.lexsort's, stable,
    with the first key most significant, whatever the ranges (one key too wide to pack with the next)."""
    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from erp_plugin.ledger.lots import ledger_order as _sorted_by

    client = np.array([2, 1, 2, 1, 1])
    day = np.array([20_000, 20_001, 19_999, 20_001, 20_000])
    row = np.array([5, 4, 3, 2, 6])
    assert _sorted_by([client, day, row]).tolist() == [4, 3, 1, 2, 0]  # C1 on day 0, 1 (row 2, 4); C2 day -1, 0

    @settings(max_examples=200, deadline=None)
    @given(st.integers(1, 30).flatmap(lambda n: st.lists(
        st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n) | st.lists(st.integers(0, 3), min_size=n, max_size=n)
        | st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n),
        min_size=1, max_size=5)))
    def agrees(keys):
        arrays = [np.array(k, dtype=np.int64) for k in keys]
        assert _sorted_by(arrays).tolist() == np.lexsort(arrays[::-1]).tolist()

    agrees()


def test_a_plugins_warnings_beyond_the_cap_are_counted(tmp_path, monkeypatch):
    """Three returns with no sale to match, one listed: the note counts the other two (no "and N more"
    warning dropped by the same cap), so the warnings stand for the three lines."""
    from erp_plugin import pipeline
    from erp_plugin.plugins import returns
    from erp_plugin.problems import total, unlisted

    monkeypatch.setattr(pipeline, "MAX_LINE_PROBLEMS", 1)
    monkeypatch.setattr(returns, "MAX_LINE_PROBLEMS", 1)
    priced = price(tmp_path, [dict(doc_id=f"R{i}", client_id="C2", sku="S", qty=-1, unit_price="100") for i in range(3)])
    unmatched = [p for p in priced.problems.warnings if p.code == "price.return_unmatched"]
    assert [(p.row, p.count, p.unlisted) for p in unmatched] == [(2, 1, False), (None, 2, True)]
    assert (total(unmatched), unlisted(unmatched)) == (3, 2)
