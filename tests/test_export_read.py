"""Reading real ERP exports: 1C xlsx and csv, ERPNext, SAP, with their mess."""

from datetime import date, datetime

import numpy as np
import openpyxl
import pandas as pd
import pytest

from erp_plugin import jobs
from erp_plugin.erp.read import read_export
from erp_plugin.problems import InputError, total

NBSP = "\u00a0"
HEADERS_1C = ["Дата", "Документ", "№", "Код контрагента", "Контрагент", "Артикул", "Номенклатура",
              "Количество", "Цена", "Сумма", "Ставка НДС"]


def write_1c(path, lines, extra=None):
    """A 1C report: three title rows (merged), a blank row, headers on row 5, lines, an Итого row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "TDSheet"
    ws.append(["Продажи по номенклатуре"])
    ws.append(["Период: 01.01.2026 - 31.12.2026"])
    ws.append(["Организация: ООО «ЭлектроОпт»"])
    ws.append([])
    ws.append(HEADERS_1C)
    for row in range(1, 4):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(HEADERS_1C))
    for line in lines:
        ws.append(line)
    ws.append(["Итого", None, None, None, None, None, None, 999, None, "99 999,99", None])
    if extra:
        extra(wb)
    wb.save(path)
    return path


def test_1c_export_as_it_comes(tmp_path):
    path = write_1c(tmp_path / "sales.xlsx", [
        [date(2026, 3, 2), "Реализация 00-000001 от 02.03.2026", 1, "00-000101", "ООО «Ромашка»", "АВТ-C16",
         "Автомат C16", 10, 289.9, 2899, "22%"],
        ["02.03.2026", "Реализация 00-000001 от 02.03.2026", 2, "00-000101", "ООО «Ромашка»", "КАБ-1",
         "Кабель", "12,5", f"1{NBSP}234,56", f"15{NBSP}432,00", "22 %"],
        [None] * 11,  # a blank row inside the lines
        [46084, "Возврат 00-000002", 1, 101, "ООО «Ромашка»", "АВТ-C16", "Автомат C16", "-2", "289,90", "(579,80)", 0.1],
    ])
    export = read_export(path)
    assert list(export.problems) == []
    lines = export.lines
    assert export.source.header_row == 5 and export.source.sheet == "TDSheet"
    assert lines["source_row"].tolist() == [6, 7, 9]  # the blank row 8 and the Итого row are not lines
    assert lines["date"].tolist() == [pd.Timestamp("2026-03-02")] * 2 + [pd.Timestamp("2026-03-03")]  # serial 46084
    assert lines["client_id"].tolist() == ["00-000101", "00-000101", "101"]  # the code column, not the name
    assert lines["qty"].tolist() == [10_000, 12_500, -2_000]  # thousandths
    assert lines["unit_price"].tolist() == [2_899_000, 12_345_600, 2_899_000]  # ten-thousandths
    assert lines["amount"].tolist() == [289_900, 1_543_200, -57_980]  # kopecks
    assert lines["vat_rate"].tolist() == [220_000, 220_000, 100_000]  # 0.1 from a percent cell is 10 %
    assert lines["line_no"].tolist() == [1, 2, 1]


def test_broken_export_names_every_bad_cell(tmp_path):
    path = write_1c(tmp_path / "broken.xlsx", [
        ["31.02.2026", "Д-1", 1, "00-000101", "Ромашка", "SKU-1", "Товар", "abc", 100, None, "22%"],
        ["01.03.2026", "Д-1", 2, "00-000101", "Ромашка", None, "Товар", 1, "сто", None, "22%"],
        ["01.03.2026", "Д-2", 1, "00-000102", "Вектор", "SKU-2", "Товар", 1, 100, None, "двадцать"],
    ])
    export = read_export(path)
    assert sorted(str(p) for p in export.problems.errors) == sorted([
        "export row 6, field date: date '31.02.2026' is not a date, e.g. 31.12.2026",
        "export row 6, field qty: qty 'abc' is not a quantity, e.g. 5 or 2,5",
        "export row 7, field sku: sku is blank; expected a value",
        "export row 7, field unit_price: unit_price 'сто' is not a price, e.g. 1 234,56",
        "export row 8, field vat_rate: vat_rate 'двадцать' is not a VAT rate, e.g. 22%",
    ])
    with pytest.raises(InputError) as raised:
        jobs.read(path, out=tmp_path / "out.xlsx")
    assert len(raised.value.problems) == 5
    assert not (tmp_path / "out.xlsx").exists()


def test_skip_bad_lines_lists_them_as_warnings(tmp_path):
    path = write_1c(tmp_path / "broken.xlsx", [
        ["01.03.2026", "Д-1", 1, "C1", "Ромашка", "SKU-1", "Товар", "abc", 100, None, "22%"],
        ["01.03.2026", "Д-1", 2, "C1", "Ромашка", "SKU-2", "Товар", 2, 100, None, "22%"],
    ])
    export = read_export(path, skip_bad_lines=True)
    assert export.problems.errors == []
    assert [str(p) for p in export.problems.warnings] == [
        "export row 6, field qty: qty 'abc' is not a quantity, e.g. 5 or 2,5; the line is left out"
    ]
    assert export.lines["source_row"].tolist() == [7]


def test_1c_csv_in_cp1251_with_semicolons(tmp_path):
    text = (
        "Продажи по номенклатуре;;;;;;\n"
        "Период: март 2026;;;;;;\n"
        ";;;;;;\n"
        "Дата;Документ;Контрагент;Артикул;Кол-во;Цена;Сумма с НДС\n"
        "02.03.2026;РТУ-1;Ромашка;АВТ-C16;10;289,90;2 899,00\n"
        "\n"
        "03.03.2026;РТУ-2;Вектор;КАБ-1;2,5;98,40;246,00\n"
        "Итого;;;;12,5;;3 145,00\n"
    )
    path = tmp_path / "sales.csv"
    path.write_bytes(text.encode("cp1251"))
    export = read_export(path)
    assert list(export.problems) == []
    assert (export.source.encoding, export.source.delimiter, export.source.header_row) == ("cp1251", ";", 4)
    lines = export.lines
    assert lines["source_row"].tolist() == [5, 7]
    assert lines["client_id"].tolist() == ["Ромашка", "Вектор"]
    assert lines["qty"].tolist() == [10_000, 2_500]
    assert lines["amount"].tolist() == [289_900, 24_600]


def test_erpnext_item_wise_sales_register_csv(tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(
        "Posting Date,Invoice,Customer,Item Code,Item Name,Item Group,Qty,Rate,Amount\n"
        '2026-03-02,ACC-SINV-2026-00001,CUST-0001,SKU-001,Cable,Cables,3,"1,200.50","3,601.50"\n',
        encoding="utf-8-sig",
    )
    export = read_export(path)
    assert list(export.problems) == []
    row = export.lines.iloc[0]
    assert (row["doc_id"], row["client_id"], row["sku"], row["name"], row["category"]) == (
        "ACC-SINV-2026-00001", "CUST-0001", "SKU-001", "Cable", "Cables"
    )
    assert (row["qty"], row["unit_price"], row["amount"]) == (3_000, 12_005_000, 360_150)


def test_sap_billing_parquet(tmp_path):
    frame = pd.DataFrame({
        "FKDAT": pd.to_datetime(["2026-03-02", "2026-03-03"]),
        "VBELN": ["0090000001", "0090000002"],
        "POSNR": [10, 10],
        "KUNAG": ["0000100001", "0000100001"],
        "MATNR": ["MAT-1", "MAT-1"],
        "FKIMG": [5.0, 1.0],
        "NETPR": ["100.00", "100.00"],
        "NETWR": ["500.00", "100.00-"],  # SAP's trailing minus
    })
    path = tmp_path / "billing.parquet"
    frame.to_parquet(path)
    export = read_export(path)
    assert list(export.problems) == []
    lines = export.lines
    assert lines["doc_id"].tolist() == ["0090000001", "0090000002"]
    assert lines["amount"].tolist() == [50_000, -10_000]
    assert lines["line_no"].tolist() == [10, 10]
    assert lines["source_row"].tolist() == [2, 3]


def test_columns_sheet_maps_any_header_and_sheet_found_by_headers(tmp_path):
    def add_sheet(wb):
        cover = wb.create_sheet("Cover", 0)  # the lines are on the second sheet
        cover["A1"] = "Report"

    wb_path = write_1c(tmp_path / "sales.xlsx", [[date(2026, 3, 2), "Д-1", 1, "C1", "Ромашка", "S1", "Товар", 1, 10, None, None]], add_sheet)
    wb = openpyxl.load_workbook(wb_path)
    wb["TDSheet"]["D5"] = "Client No."  # not an alias: mapped on the Columns sheet
    wb["TDSheet"]["E5"] = "Наименование контрагента"  # nor is this (else Контрагент would be used)
    wb.save(wb_path)
    assert ("has no column for client_id. client_id: 'Client No.' (column 4: its header is like 'client code' and "
            "its values are codes); add the Columns row client_id | Client No.") in str(read_export(wb_path).problems.errors[0])
    export = read_export(wb_path, columns={"client_id": "client no."})
    assert list(export.problems) == [] and export.source.sheet == "TDSheet"
    assert export.lines["client_id"].tolist() == ["C1"]
    assert read_export(wb_path, sheet="Cover").problems.errors[0].code == "export.no_header"
    assert str(read_export(wb_path, sheet="Nope").problems.errors[0]).endswith("no sheet 'Nope'; the workbook has Cover, TDSheet")


def test_unsupported_and_missing_files(tmp_path):
    (tmp_path / "x.json").write_text("{}")
    assert read_export(tmp_path / "x.json").problems.errors[0].code == "file.format"
    assert read_export(tmp_path / "none.xlsx").problems.errors[0].code == "file.missing"


def test_dates_as_datetime_cells_keep_only_the_day(tmp_path):
    path = write_1c(tmp_path / "s.xlsx", [[datetime(2026, 3, 2, 15, 30), "Д", 1, "C", "", "S", "", 1, 1, None, None]])
    assert read_export(path).lines["date"].tolist() == [pd.Timestamp("2026-03-02")]
    assert np.issubdtype(read_export(path).lines["date"].dtype, np.datetime64)


def test_the_alias_list_is_documented():
    from pathlib import Path

    from erp_plugin.erp.fields import FIELD_ALIASES

    doc = Path("docs/exports.md").read_text(encoding="utf-8")
    missing = [f"{field}: {alias}" for field, aliases in FIELD_ALIASES.items() for alias in aliases if f"`{alias}`" not in doc]
    assert missing == []


def test_tab_separated_utf8(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("date\tdoc_id\tclient_id\tsku\tqty\tunit_price\n2026-03-02\tD1\tC1\tS1\t2\t10.5\n", encoding="utf-8")
    export = read_export(path)
    assert (export.source.delimiter, export.source.encoding) == ("\t", "utf-8")
    assert export.lines["unit_price"].tolist() == [105_000]


def test_reading_in_chunks_gives_the_same_lines(tmp_path, monkeypatch):
    """Big exports are parsed a chunk of rows at a time; the result must not depend on where chunks split."""
    from erp_plugin.erp import read as reader

    lines = [[f"0{d}.03.2026", f"Д-{d}", 1, f"C{d % 2}", "", f"S{d}", "", d, "10,5", None, "22%"] for d in range(1, 8)]
    lines[4][7] = "пять"  # a bad value in the third chunk
    path = write_1c(tmp_path / "s.xlsx", lines)
    whole = read_export(path, skip_bad_lines=True)
    monkeypatch.setattr(reader, "CHUNK_ROWS", 2)
    chunked = read_export(path, skip_bad_lines=True)
    pd.testing.assert_frame_equal(whole.lines, chunked.lines)
    assert [str(p) for p in chunked.problems] == [str(p) for p in whole.problems] == [
        "export row 10, field qty: qty 'пять' is not a quantity, e.g. 5 or 2,5; the line is left out"
    ]
    assert sorted(chunked.lines["client_id"].cat.categories) == ["C0", "C1"]


def test_problems_are_capped_per_field_across_chunks(tmp_path, monkeypatch):
    from erp_plugin.erp import parse
    from erp_plugin.erp import read as reader

    monkeypatch.setattr(reader, "CHUNK_ROWS", 3)
    monkeypatch.setattr(parse, "MAX_PROBLEMS_PER_FIELD", 4)
    lines = [["01.03.2026", "Д", 1, "C", "", "S", "", "x", 1, None, None] for _ in range(10)]
    export = read_export(write_1c(tmp_path / "s.xlsx", lines))
    assert len(export.problems.errors) == 5
    note = export.problems.errors[-1]
    assert str(note) == ("export field qty: and 6 more lines with the same problem, counted here but not listed "
                         "one by one")
    assert (note.count, note.unlisted, total(export.problems.errors)) == (6, True, 10)  # 4 listed + 6: every line


def test_parquet_with_one_shared_dictionary_reads_the_right_values(tmp_path):
    """Each batch then carries the whole dictionary; only the values its rows use may become categories."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    docs = pa.array([f"D{i}" for i in range(1000)])
    indices = pa.array([5, 5, 999, None, 7, 5], type=pa.int32())
    table = pa.table({
        "date": pa.array([date(2026, 3, 2)] * 6),
        "doc_id": pa.DictionaryArray.from_arrays(indices, docs),
        "client_id": ["C1"] * 6, "sku": ["S"] * 6, "qty": [1] * 6, "unit_price": ["10"] * 6,
    })
    path = tmp_path / "shared.parquet"
    pq.write_table(table, path, row_group_size=2)
    export = read_export(path)
    assert [str(p) for p in export.problems] == ["export row 5, field doc_id: doc_id is blank; expected a value"]
    lines = read_export(path, skip_bad_lines=True).lines
    assert lines["doc_id"].astype(str).tolist() == ["D5", "D5", "D999", "D7", "D5"]
    assert len(lines["doc_id"].cat.categories) == 3


def test_typed_parquet_columns_are_parsed_by_the_export_rules(tmp_path):
    """Integers, decimals, dates and dictionary text straight from Arrow; a text field held as numbers the
    general way; every bad value with its row and what would be right."""
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "date": pa.array([date(2026, 3, 2), date(2026, 3, 3), None, date(2026, 3, 4), date(2026, 3, 5)]),
        "doc_id": pa.array(["  D1 ", "D2", "D3", "D4", "D5"]).dictionary_encode(),
        "line_no": pa.array([1, -2, 3, 4, 5]),
        "client_id": pa.array([101, 101, 102, 102, 103]),  # numbers in a text field
        "sku": pa.array(["S1", "S2", "S3", "", " S5 "]).dictionary_encode(),
        "qty": pa.array([Decimal("1.2340"), Decimal("-1.2345"), Decimal("2"), Decimal("1"), Decimal("1")],
                        type=pa.decimal128(10, 4)),  # scale 4, values of 3 decimals but one
        "unit_price": pa.array([10, 10, 10, 10, 10**17]),  # the last does not fit ten-thousandths in int64
        "vat_rate": pa.array([22, 10, 0, 22, 150]),
    })
    path = tmp_path / "typed.parquet"
    pq.write_table(table, path)
    export = read_export(path)
    assert [str(p) for p in export.problems] == [  # field by field, as for every export
        "export row 4, field date: date is blank; expected a date, e.g. 31.12.2026",
        "export row 5, field sku: sku is blank; expected a value",  # still a line: it has the other fields
        "export row 3, field qty: qty -1.2345 has 4 decimals; qty keeps 3 and is never rounded: give it with at most 3",
        "export row 6, field unit_price: unit_price 100000000000000000 is not a price, e.g. 1 234,56",
        "export row 3, field line_no: line_no -2 is not a whole number of 0 or more, e.g. 7",
        "export row 6, field vat_rate: vat_rate 150 is not a VAT rate, e.g. 22%",
    ]
    table = table.set_column(4, "sku", pa.array(["S1", "S2", "S3", " S4 ", "S5"]).dictionary_encode())
    table = table.set_column(6, "unit_price", pa.array([10, 10, 10, 10, 10]))
    table = table.set_column(7, "vat_rate", pa.array([22, 10, 0, 22, 0]))
    pq.write_table(table, path)
    lines = read_export(path, skip_bad_lines=True).lines
    assert lines["source_row"].tolist() == [2, 5, 6]
    assert lines["doc_id"].astype(str).tolist() == ["D1", "D4", "D5"]  # trimmed
    assert lines["client_id"].astype(str).tolist() == ["101", "102", "103"]
    assert lines["sku"].astype(str).tolist() == ["S1", "S4", "S5"]
    assert lines["qty"].tolist() == [1_234, 1_000, 1_000]  # 1.2340 at scale 4 is 1.234 exactly
    assert lines["unit_price"].tolist() == [100_000] * 3
    assert lines["vat_rate"].tolist() == [220_000, 220_000, 0]
    assert lines["date"].astype(str).tolist() == ["2026-03-02", "2026-03-04", "2026-03-05"]


def test_parquet_rows_without_a_line_field_are_not_lines(tmp_path):
    """A row whose doc_id, client_id, sku, qty and unit_price are all blank (null, empty or spaces) is not a
    line: left out without a problem, even for its other values; the lines after it keep their rows, and a
    bad value there is shown as it is in the file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "date": pa.array([date(2026, 3, 2), None, None, date(2026, 3, 3)]),
        "doc_id": pa.array(["D1", None, "   ", "D2"]).dictionary_encode(),
        "client_id": pa.array(["C1", "", None, "C2"]).dictionary_encode(),
        "sku": pa.array(["S1", None, " ", "S2"]),
        "qty": pa.array([1, None, None, 2]),
        "unit_price": pa.array([10, None, None, 20]),
        "vat_rate": pa.array([22, 150, 300, 122]),
    })
    path = tmp_path / "gaps.parquet"
    pq.write_table(table, path)
    export = read_export(path)
    assert [str(p) for p in export.problems] == ["export row 5, field vat_rate: vat_rate 122 is not a VAT rate, e.g. 22%"]
    export = read_export(path, skip_bad_lines=True)
    assert export.lines["source_row"].tolist() == [2]
    assert export.lines["doc_id"].astype(str).tolist() == ["D1"]


def test_parquet_numbers_and_dates_parsed_one_row_group_at_a_time(tmp_path):
    """Row-wise fields are parsed a row group at a time and joined: values, blanks and bad values keep
    their rows across the groups."""
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "date": pa.array([date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4), None, date(2026, 3, 6)]),
        "doc_id": ["D1", "D1", "D2", "D2", "D3"], "client_id": ["C1", "C1", "C2", "C2", "C3"],
        "sku": ["S1", "S2", "S1", "S2", "S1"], "qty": [1, 2, 3, 4, 5],
        "line_no": [1, 2, -3, 4, 5],
        "unit_price": pa.array([Decimal("10.5"), Decimal("1.25"), None, Decimal("0.01"), Decimal("7")],
                               type=pa.decimal128(9, 2)),
    })
    path = tmp_path / "groups.parquet"
    pq.write_table(table, path, row_group_size=2)  # groups of rows 2-3, 4-5, 6
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    export = read_export(path)
    assert [str(p) for p in export.problems] == [
        "export row 5, field date: date is blank; expected a date, e.g. 31.12.2026",
        "export row 4, field unit_price: unit_price is blank; expected a price, e.g. 1 234,56",
        "export row 4, field line_no: line_no -3 is not a whole number of 0 or more, e.g. 7",
    ]
    lines = read_export(path, skip_bad_lines=True).lines
    assert lines["source_row"].tolist() == [2, 3, 6]
    assert lines["unit_price"].tolist() == [105_000, 12_500, 70_000]  # ten-thousandths
    assert lines["line_no"].tolist() == [1, 2, 5]
    assert lines["date"].astype(str).tolist() == ["2026-03-02", "2026-03-03", "2026-03-06"]


def test_a_parquet_file_read_in_several_batches(tmp_path, monkeypatch):
    """Above PARQUET_BATCH_ROWS the file is parsed batch by batch: rows keep their numbers, text one category set."""
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    from erp_plugin.erp import read as reader

    table = pa.table({
        "date": pa.array([date(2026, 3, d) for d in (2, 2, 3, 3, 4)]),
        "doc_id": ["D1", "D1", "D2", "D2", "D1"], "client_id": ["C1", "C1", "C2", "C2", "C1"],
        "sku": ["S1", "S2", "S1", "S2", "S1"], "qty": [1, 2, 3, 4, 5],
        "unit_price": pa.array([Decimal("10.5")] * 5, type=pa.decimal128(9, 2)),
    })
    pq.write_table(table, tmp_path / "b.parquet", row_group_size=2)
    monkeypatch.setattr(reader, "PARQUET_BATCH_ROWS", 2)
    lines = read_export(tmp_path / "b.parquet").lines
    assert lines["source_row"].tolist() == [2, 3, 4, 5, 6]
    assert lines["doc_id"].astype(str).tolist() == ["D1", "D1", "D2", "D2", "D1"]
    assert sorted(lines["doc_id"].cat.categories) == ["D1", "D2"]
    assert lines["qty"].tolist() == [1_000, 2_000, 3_000, 4_000, 5_000]
    assert lines["unit_price"].tolist() == [105_000] * 5  # 10.50 in ten-thousandths


# ------------------------------------------------------------------ base_doc: a return's sale document


def write_returns_1c(path):
    """A 1C report with «Документ-основание» (left of «Документ», to show the two headers do not collide):
    the sale lines leave it blank, a return names the sale it returns (one as a number cell)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "TDSheet"
    ws.append(["Продажи и возвраты"])
    ws.append([])
    ws.append(["Дата", "Документ-основание", "Документ", "Контрагент", "Артикул", "Количество", "Цена"])
    ws.append([date(2026, 3, 2), None, "Реализация 00-000001 от 02.03.2026", "C1", "АВТ-C16", 10, 289.9])
    ws.append([date(2026, 3, 2), "", "Реализация 00-000001 от 02.03.2026", "C1", "КАБ-1", 5, 98.4])
    ws.append([date(2026, 3, 9), "Реализация 00-000001 от 02.03.2026", "Возврат 00-000001", "C1", "АВТ-C16", -2, 289.9])
    ws.append([date(2026, 3, 10), 1001, "Возврат 00-000002", "C2", "КАБ-1", -1, 98.4])
    ws.append(["Итого", None, None, None, None, 12, None])
    wb.save(path)
    return path


def test_base_doc_from_a_1c_xlsx_is_text_like_doc_id(tmp_path):
    export = read_export(write_returns_1c(tmp_path / "returns.xlsx"))
    assert list(export.problems) == []
    lines = export.lines
    assert export.source.fields["doc_id"] == 2 and export.source.fields["base_doc"] == 1
    assert lines["doc_id"].tolist() == ["Реализация 00-000001 от 02.03.2026"] * 2 + ["Возврат 00-000001", "Возврат 00-000002"]
    assert lines["base_doc"].tolist()[2:] == ["Реализация 00-000001 от 02.03.2026", "1001"]  # a number cell as doc_id reads it
    assert lines["base_doc"].isna().tolist() == [True, True, False, False]  # blank on the sale lines
    assert isinstance(lines["base_doc"].dtype, pd.CategoricalDtype) and isinstance(lines["doc_id"].dtype, pd.CategoricalDtype)


def test_base_doc_blank_chunks_join_the_other_chunks(tmp_path, monkeypatch):
    from erp_plugin.erp import read as reader

    path = write_returns_1c(tmp_path / "returns.xlsx")
    whole = read_export(path).lines
    monkeypatch.setattr(reader, "CHUNK_ROWS", 2)  # the first chunk holds only sale lines: no base_doc at all
    chunked = read_export(path).lines
    assert chunked["base_doc"].tolist() == whole["base_doc"].tolist()
    assert sorted(chunked["base_doc"].cat.categories) == ["1001", "Реализация 00-000001 от 02.03.2026"]


@pytest.mark.parametrize("header", ["Документ-основание", "Документ основание", "Основание", "Реализация",
                                    "Return Against", "base_doc", "Base Doc"])
def test_base_doc_from_a_csv_under_each_alias(tmp_path, header):
    text = (
        f"Дата;Документ;{header};Контрагент;Артикул;Кол-во;Цена\n"
        "02.03.2026;РТУ-1;;Ромашка;АВТ-C16;10;289,90\n"
        "09.03.2026;ВЗ-1;РТУ-1;Ромашка;АВТ-C16;-2;289,90\n"
    )
    path = tmp_path / "returns.csv"
    path.write_bytes(text.encode("cp1251"))
    export = read_export(path)
    assert list(export.problems) == []
    lines = export.lines
    assert lines["doc_id"].tolist() == ["РТУ-1", "ВЗ-1"]
    assert lines["base_doc"].isna().tolist() == [True, False]  # blank on the sale line
    assert lines["base_doc"].iloc[1] == "РТУ-1"
    assert isinstance(lines["base_doc"].dtype, pd.CategoricalDtype)


def test_erpnext_sales_invoice_export_with_return_against(tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(
        "Posting Date,Invoice,Customer,Item Code,Qty,Rate,Return Against\n"
        '2026-03-02,ACC-SINV-2026-00001,CUST-0001,SKU-001,3,"1,200.50",\n'
        '2026-03-05,ACC-SINV-2026-00002,CUST-0001,SKU-001,-1,"1,200.50",ACC-SINV-2026-00001\n',
        encoding="utf-8-sig",
    )
    lines = read_export(path).lines
    assert lines["base_doc"].isna().tolist() == [True, False]
    assert lines["base_doc"].iloc[1] == "ACC-SINV-2026-00001"


def test_base_doc_from_parquet_and_from_the_columns_sheet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "date": pa.array([date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 9)]),
        "doc_id": ["D1", "R1", "R2"], "client_id": ["C1"] * 3, "sku": ["S"] * 3, "qty": [5, -1, -1],
        "unit_price": ["10"] * 3,
        "Осн. док.": pa.array([None, "D1", ""]),  # not a built-in alias: mapped on the Columns sheet
    })
    path = tmp_path / "returns.parquet"
    pq.write_table(table, path)
    assert "base_doc" not in read_export(path).lines.columns
    export = read_export(path, columns={"base_doc": "Осн. док."})
    assert list(export.problems) == []
    lines = export.lines
    assert lines["base_doc"].isna().tolist() == [True, False, True]  # null and "" are both blank
    assert lines["base_doc"].iloc[1] == "D1"
    assert isinstance(lines["base_doc"].dtype, pd.CategoricalDtype)


def test_a_base_doc_column_is_not_taken_for_the_document(tmp_path):
    """«Документ-основание» is not «Документ»: without a document column the header is incomplete."""
    path = tmp_path / "s.csv"
    path.write_text("Дата;Документ-основание;Контрагент;Артикул;Кол-во;Цена\n02.03.2026;РТУ-1;C1;S1;1;10\n", encoding="utf-8")
    export = read_export(path)
    assert [p.code for p in export.problems] == ["export.no_header"]
    assert "no column for doc_id" in str(export.problems.errors[0])


def test_numbers_are_exact_or_an_error_never_rounded_nor_regrouped(tmp_path):
    """SPEC §6: ``1 234,56,78`` is not 12 345 678, qty ``0,0004`` is not 0, price ``1,23456`` is not 1.2346."""
    path = write_1c(tmp_path / "precise.xlsx", [
        ["02.03.2026", "Д-1", 1, "C1", "Ромашка", "SKU-1", "Товар", 1, "1 234,56,78", None, "22%"],
        ["02.03.2026", "Д-1", 2, "C1", "Ромашка", "SKU-2", "Товар", "0,0004", 100, None, "22%"],
        ["02.03.2026", "Д-1", 3, "C1", "Ромашка", "SKU-3", "Товар", 1, "1,23456", None, "22%"],
        ["02.03.2026", "Д-1", 4, "C1", "Ромашка", "SKU-4", "Товар", 2, 1.23456, "2,469", "22%"],
        ["02.03.2026", "Д-1", 5, "C1", "Ромашка", "SKU-5", "Товар", 3, 0.1 + 0.2, "0,90", "22%"],  # a cell's float noise
    ])
    export = read_export(path)
    assert sorted(str(p) for p in export.problems.errors) == sorted([
        "export row 6, field unit_price: unit_price '1 234,56,78' is not a price, e.g. 1 234,56",
        "export row 7, field qty: qty '0,0004' has 4 decimals; qty keeps 3 and is never rounded: give it with at most 3",
        "export row 8, field unit_price: unit_price '1,23456' has 5 decimals; unit_price keeps 4 and is never rounded: "
        "give it with at most 4",
        "export row 9, field unit_price: unit_price 1.23456 has 5 decimals; unit_price keeps 4 and is never rounded: "
        "give it with at most 4",
        "export row 9, field amount: amount '2,469' has 3 decimals; amount keeps 2 and is never rounded: "
        "give it with at most 2",
    ])
    good = read_export(path, skip_bad_lines=True).lines
    assert good["source_row"].tolist() == [10] and good["unit_price"].tolist() == [3_000]  # 0.30000000000000004 is 0.3


def test_placeholders_are_blanks_in_every_format(tmp_path):
    """SPEC §6: NA, N/A, #N/A, null, None, - and — are blank: never a client called "NA" that wins a tier;
    in a VAT column "-" and "—" still mean no VAT."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv = tmp_path / "r_export.csv"
    csv.write_text(
        "Date,Invoice,Customer Code,Item Code,Qty,Rate,VAT Rate\n"
        "2026-03-02,INV-1,NA,SKU-1,1,10.00,20\n"
        "2026-03-02,INV-1,C1,N/A,1,10.00,-\n"
        "2026-03-02,INV-2,C2,SKU-2,#N/A,10.00,—\n"
        "2026-03-03,INV-3,C2,SKU-2,2,null,\n"
        "NA,NA,NA,NA,NA,NA,NA\n"  # a row of nothing but placeholders is not a line
        "2026-03-04,INV-4,C3,SKU-3,1,10.00,None\n",
        encoding="utf-8",
    )
    export = read_export(csv)
    assert sorted(str(p) for p in export.problems.errors) == [
        "export row 2, field client_id: client_id is blank; expected a value",
        "export row 3, field sku: sku is blank; expected a value",
        "export row 4, field qty: qty is blank; expected a quantity, e.g. 5 or 2,5",
        "export row 5, field unit_price: unit_price is blank; expected a price, e.g. 1 234,56",
    ]
    lines = read_export(csv, skip_bad_lines=True).lines
    assert lines["source_row"].tolist() == [7]
    assert lines["vat_rate"].isna().tolist() == [True]  # "None": blank, the book's VAT rate applies
    table = pa.table({"date": [date(2026, 3, 2)] * 3, "doc_id": ["D1", "D1", "D2"],
                      "client_id": pa.array(["#Н/Д", "C1", "C2"]).dictionary_encode(),
                      "sku": ["S1", "S2", "S3"], "qty": [1, 1, 1], "unit_price": [10, 10, 10], "vat_rate": ["-", "—", "20"]})
    pq.write_table(table, tmp_path / "export.parquet")
    export = read_export(tmp_path / "export.parquet")
    assert [str(p) for p in export.problems.errors] == ["export row 2, field client_id: client_id is blank; expected a value"]
    lines = read_export(tmp_path / "export.parquet", skip_bad_lines=True).lines
    assert lines["vat_rate"].tolist() == [0, 200_000]  # "—" is no VAT


def test_a_1c_grouped_report_has_group_and_subtotal_rows_that_are_not_lines(tmp_path):
    """1C's «Продажи» grouped by warehouse and product group: a group row names the group and sums qty and
    amount, with no SKU and no price; those rows are not lines, and nothing stops the run."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Продажи"])
    ws.append(["Дата", "Документ", "Код контрагента", "Артикул", "Количество", "Цена", "Сумма"])
    ws.append(["Склад «Основной»", None, None, None, 13, None, "1 300,00"])  # warehouse group
    ws.append(["Автоматы", None, None, None, 10, None, "1 000,00"])  # product group
    ws.append(["02.03.2026", "РТУ-1", "00-101", "АВТ-1", 10, "100,00", "1 000,00"])
    ws.append(["Кабель", None, None, None, 3, None, "300,00"])
    ws.append(["03.03.2026", "РТУ-2", "00-102", "КАБ-1", 3, "100,00", "300,00"])
    ws.append(["Итого", None, None, None, 13, None, "1 300,00"])
    wb.save(tmp_path / "grouped.xlsx")
    export = read_export(tmp_path / "grouped.xlsx")
    assert list(export.problems) == []
    assert export.lines["source_row"].tolist() == [5, 7]
    assert export.lines["amount"].tolist() == [100_000, 30_000]


def test_an_odoo_sale_order_line_export(tmp_path):
    """Odoo 17's list export of sale.order.line: relation paths in the headers, the SKU inside the product's
    display name, a free line's price left empty, taxes as fractions (0.07 for 7 %)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Order Reference", "Order Reference/Order Date", "Order Reference/Customer/Name", "Product",
               "Quantity", "Unit Price", "Subtotal", "Tax Rate"])
    ws.append(["S00012", "2026-03-02 10:15:00", "Azure Interior", "[SL5077] Cable 5m", 2, 12.5, 25, 0.07])
    ws.append(["S00012", "2026-03-02 10:15:00", "Azure Interior", "[FURN_0001] Office chair", 1, None, 0, 0.07])
    ws.append(["S00013", "2026-03-03 09:00:00", "Deco Addict", "[SL5077] Cable 5m", 4, 12.5, 50, 0.07])
    wb.save(tmp_path / "sale.order.line.xlsx")
    export = read_export(tmp_path / "sale.order.line.xlsx")
    assert [p.code for p in export.problems.errors] == []
    assert [str(p) for p in export.problems.warnings] == [
        "export field vat_rate: vat_rate holds fractions (0.07, …), not percentages: read ×100 (7 %)"]
    lines = export.lines
    assert lines["doc_id"].astype(str).tolist() == ["S00012", "S00012", "S00013"]
    assert lines["client_id"].astype(str).tolist() == ["Azure Interior", "Azure Interior", "Deco Addict"]
    assert lines["sku"].astype(str).tolist() == ["SL5077", "FURN_0001", "SL5077"]
    assert lines["unit_price"].tolist() == [125_000, 0, 125_000]  # the chair is free: its price left empty, amount 0
    assert lines["vat_rate"].tolist() == [70_000] * 3  # 7 %
    assert lines["date"].astype(str).tolist() == ["2026-03-02", "2026-03-02", "2026-03-03"]


def test_names_without_a_code_and_no_sku_column_say_so_once(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("Date,Invoice,Customer Code,Product,Qty,Unit Price\n2026-03-02,I1,C1,Cable 5m,1,10\n",
                    encoding="utf-8")
    export = read_export(path)
    assert [(p.code, p.field) for p in export.problems.errors] == [("export.no_sku", "sku")]


def test_an_erpnext_data_export_writes_a_documents_further_items_on_rows_of_their_own(tmp_path, monkeypatch):
    """ERPNext's Data Export (Sales Invoice with its Items): the 2nd…nth item of an invoice is on a row whose
    ID, Date and Customer are blank; each takes them from the row above, across chunks too, with one notice."""
    import erp_plugin.erp.read as reader

    monkeypatch.setattr(reader, "CHUNK_ROWS", 2)  # the invoice's items fall into two chunks
    path = tmp_path / "Sales_Invoice.csv"
    path.write_text(
        "ID,Posting Date,Customer,Item Code (Items),Qty (Items),Rate (Items),Amount (Items)\n"
        "ACC-SINV-2026-00001,2026-03-02,CUST-0001,SKU-001,3,100.00,300.00\n"
        ",,,SKU-002,1,50.00,50.00\n"
        ",,,SKU-003,2,10.00,20.00\n"
        "ACC-SINV-2026-00002,2026-03-03,CUST-0002,SKU-001,1,100.00,100.00\n"
        ",,,SKU-004,5,1.00,5.00\n",
        encoding="utf-8",
    )
    export = read_export(path)
    assert export.problems.errors == []
    assert [str(p) for p in export.problems.warnings] == [
        "3 rows carry only an item: each takes its document's date, doc_id and client_id from the row above "
        "(ERPNext's Data Export writes a document so)"]
    lines = export.lines
    assert lines["doc_id"].astype(str).tolist() == ["ACC-SINV-2026-00001"] * 3 + ["ACC-SINV-2026-00002"] * 2
    assert lines["client_id"].astype(str).tolist() == ["CUST-0001"] * 3 + ["CUST-0002"] * 2
    assert lines["sku"].astype(str).tolist() == ["SKU-001", "SKU-002", "SKU-003", "SKU-001", "SKU-004"]
    assert lines["date"].astype(str).tolist() == ["2026-03-02"] * 3 + ["2026-03-03"] * 2
    assert lines["amount"].tolist() == [30_000, 5_000, 2_000, 10_000, 500]


def test_a_line_missing_only_some_document_fields_is_still_an_error(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("ID,Posting Date,Customer,Item Code,Qty,Rate\nI1,2026-03-02,C1,S1,1,10\nI1,,C1,S2,1,10\n",
                    encoding="utf-8")
    assert [str(p) for p in read_export(path).problems.errors] == [
        "export row 3, field date: date is blank; expected a date, e.g. 31.12.2026"]


def test_an_uncalculated_formula_says_so_not_blank(tmp_path):
    """A workbook saved by a program that does not calculate holds formulas without values: the reader names
    the formula and the fix, not "qty is blank"."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Дата", "Документ", "Код контрагента", "Артикул", "Количество", "Цена"])
    ws.append(["02.03.2026", "Д-1", "C1", "S1", "=2+3", 10])
    ws.append(["02.03.2026", "Д-1", "C1", "S2", None, 10])
    wb.save(tmp_path / "formulas.xlsx")
    assert [str(p) for p in read_export(tmp_path / "formulas.xlsx").problems.errors] == [
        "export row 2, field qty: qty is a formula with no calculated value (=2+3): the file was saved by a program "
        "that does not calculate; open it in Excel or LibreOffice and save it, then run again",
        "export row 3, field qty: qty is blank; expected a quantity, e.g. 5 or 2,5",
    ]


def test_nan_in_a_typed_export_is_not_a_blank(tmp_path):
    """A NaN (a failed calculation where the export was made) is a bad value; a null is the blank."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"date": [date(2026, 3, 2)] * 3, "doc_id": ["D1"] * 3, "client_id": ["C1"] * 3,
                      "sku": ["S1", "S2", "S3"], "qty": pa.array([1.5, float("nan"), None]), "unit_price": [10, 10, 10]})
    pq.write_table(table, tmp_path / "nan.parquet")
    assert sorted(str(p) for p in read_export(tmp_path / "nan.parquet").problems.errors) == [
        "export row 3, field qty: qty is NaN, not a number: a calculation failed where the export was made; "
        "give a quantity, e.g. 5 or 2,5",
        "export row 4, field qty: qty is blank; expected a quantity, e.g. 5 or 2,5",
    ]


def test_a_csv_value_too_long_for_the_header_scan_is_one_problem(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("Дата;Документ;Код контрагента;Артикул;Количество;Цена\n02.03.2026;D1;C1;" + "x" * 300_000 + ";1;10\n",
                    encoding="utf-8")
    [problem] = read_export(path).problems.errors
    assert problem.code == "export.csv" and "field larger than field limit" in problem.message


def test_an_unambiguous_column_is_taken_and_said(tmp_path):
    """SPEC §6: one candidate whose header is like the field's and whose values fit is used without a Columns
    row, with a notice naming it and how to make it the workbook's."""
    path = tmp_path / "register.csv"
    path.write_text("Posting Date,Invoice,Customer Ref,Item Code,Qty,Rate\n"
                    "2026-03-02,SINV-1,C-001,S1,1,10\n2026-03-03,SINV-2,C-002,S2,2,10\n", encoding="utf-8")
    export = read_export(path)
    assert export.problems.errors == []
    assert [str(p) for p in export.problems.warnings] == [
        "columns taken because header and values agree: client_id <- 'Customer Ref' (add these rows to the Columns "
        "sheet, or run erp-plugin read EXPORT --save-columns TARIFFS, to make the mapping the workbook's)"]
    assert export.lines["client_id"].astype(str).tolist() == ["C-001", "C-002"]
