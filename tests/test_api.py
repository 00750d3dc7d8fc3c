"""The Python API on DataFrames and paths: exact decimals back, clear errors for wrong arguments.

Figures by hand on test_price's workbook (see test_engine_contract): a green line of C2, 2 × 1 000.00, gets
20.00 off (BASE green 1 %), net 1 980.00, VAT 22 % included 357.05.
"""

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

import erp_plugin
from erp_plugin import InputError

from .conftest import write_book
from .test_price import book, write_export

FRAME = {"date": [date(2026, 3, 2)], "doc_id": ["D1"], "client_id": ["C2"], "sku": ["S1"], "qty": [2],
         "unit_price": [Decimal("1000.00")], "marker": ["green"], "payment": ["prepaid"]}


@pytest.fixture
def tariffs(tmp_path):
    return write_book(tmp_path / "tariffs.xlsx", book())


def test_price_of_a_dataframe_hands_back_exact_decimals_in_currency_units(tariffs):
    result = erp_plugin.price(pd.DataFrame(FRAME), erp_plugin.load_tariffs(tariffs))
    row = result.lines.iloc[0]
    assert (row["gross"], row["price_discount"], row["net"], row["vat"]) == (
        Decimal("2000.00"), Decimal("20.00"), Decimal("1980.00"), Decimal("357.05"))
    assert row["qty"] == Decimal("2.000") and row["kit_pct"] == Decimal("1.0000")
    assert str(result.lines["net"].dtype) == "decimal128(38, 2)[pyarrow]"
    assert result.lines["net"].sum() == Decimal("1980.00")
    assert result.tables["summary"]["net"].iloc[0] == Decimal("1980.00")
    assert not [c for c in result.lines.columns if c in ("sign", "pricing_doc", "sale_ref", "kit_category")]


def test_a_frame_and_its_file_price_alike(tmp_path, tariffs):
    """Text, ints, floats that are exact and ISO dates, against the same lines written as an export."""
    frame = pd.DataFrame({**FRAME, "date": ["2026-03-02"], "qty": [2.0], "unit_price": ["1000"]})
    from_frame = erp_plugin.price(frame, tariffs).lines
    export = write_export(tmp_path / "export.csv", [dict(doc_id="D1", client_id="C2", sku="S1", qty=2,
                                                         unit_price="1000", marker="green")], date="2026-03-02")
    from_file = erp_plugin.price(export, tariffs).lines
    columns = ["gross", "price_discount", "net", "vat", "cash_due"]
    assert from_frame[columns].equals(from_file[columns])


def test_a_float_that_does_not_hold_the_figure_is_a_problem_with_its_row(tariffs):
    frame = pd.DataFrame({**FRAME, "unit_price": [19.99]})
    with pytest.raises(InputError) as caught:
        erp_plugin.price(frame, tariffs)
    [problem] = caught.value.problems
    assert (problem.code, problem.row, problem.field) == ("frame.inexact", 1, "unit_price")
    assert "Decimal" in problem.message
    too_precise = pd.DataFrame({**FRAME, "unit_price": [Decimal("1.23456")]})
    with pytest.raises(InputError) as caught:
        erp_plugin.price(too_precise, tariffs)
    assert [p.code for p in caught.value.problems] == ["frame.inexact"]


def test_a_frame_without_a_required_column_says_which(tariffs):
    with pytest.raises(InputError) as caught:
        erp_plugin.price(pd.DataFrame({k: v for k, v in FRAME.items() if k != "qty"}), tariffs)
    assert "qty" in caught.value.problems[0].message


def test_wrong_argument_types_are_type_errors_naming_the_argument(tariffs):
    with pytest.raises(TypeError, match="export"):
        erp_plugin.price(42, tariffs)
    with pytest.raises(TypeError, match="tariffs"):
        erp_plugin.price(pd.DataFrame(FRAME), 3.5)
    with pytest.raises(TypeError, match="year"):
        erp_plugin.rebates(pd.DataFrame(FRAME), tariffs, "2026")
    with pytest.raises(TypeError, match="as_of"):
        erp_plugin.accrue(pd.DataFrame(FRAME), tariffs, 20260630)
    with pytest.raises(InputError) as caught:
        erp_plugin.accrue(pd.DataFrame(FRAME), tariffs, "30.06.2026")
    assert caught.value.problems[0].code == "api.date"


def test_every_operation_is_at_the_top_and_takes_dates_as_text(tariffs):
    frame = pd.DataFrame(FRAME)
    accrued = erp_plugin.accrue(frame, tariffs, "2026-06-30")
    assert list(accrued.tables) == ["accruals"]
    year = erp_plugin.rebates(frame, tariffs, 2026)
    assert year.lines["rebate"].dtype == "decimal128(38, 2)[pyarrow]"
    assert {"rebates", "credit_notes", "summary"} <= set(year.tables)
    assert erp_plugin.fees(tariffs, "2026-11").tables["fees"] is not None
