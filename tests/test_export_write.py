"""Writing results back into the user's export: nothing of theirs may change."""

import hashlib
import re
import zipfile
from datetime import date
from decimal import Decimal

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table
from openpyxl.xml.functions import tostring

from erp_plugin import jobs
from erp_plugin.problems import InputError
from erp_plugin.xlsx import TargetLocked

from .conftest import set_cached_value

HEADERS = ["Дата", "Документ", "Контрагент", "Артикул", "Количество", "Цена", "Сумма"]
LINES = [
    [date(2026, 3, 2), "Д-1", "C1", "S1", 3, 100.5, None],  # gross = 3 x 100.50 = 301.50
    [date(2026, 3, 2), "Д-1", "C1", "S2", "2,5", "10,02", None],  # 2.5 x 10.02 = 25.05
    [date(2026, 3, 3), "Д-2", "=HYPERLINK(\"x\")", "S1", -1, 100.5, None],  # a return: -100.50
]


def sig(cell):
    """A cell's value and every part of its style, comparable across workbooks."""
    return (cell.value, cell.number_format, *(tostring(p.to_tree()) for p in (cell.font, cell.fill, cell.border, cell.alignment)))


def make_export(path, table=False):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Продажи"
    ws["A1"] = "Продажи за март"
    ws["A1"].font = openpyxl.styles.Font(bold=True, size=14)
    ws.merge_cells("A1:G1")
    ws.append([])
    ws.append(HEADERS)
    for cell in ws[3]:
        cell.font = openpyxl.styles.Font(bold=True, color="FFFFFF")
        cell.fill = openpyxl.styles.PatternFill("solid", fgColor="305496")
    for line in LINES:
        ws.append(line)
    ws["C6"].data_type = "s"  # text that looks like a formula, as a hostile client name would be
    for row in range(4, 7):
        ws[f"G{row}"] = f"=E{row}*F{row}"
        ws[f"F{row}"].number_format = "#,##0.00"
    ws.column_dimensions["B"].width = 30
    ws.freeze_panes = "A4"
    dv = DataValidation("list", formula1='"C1,C2"')
    ws.add_data_validation(dv)
    dv.add("C4:C6")
    if table:
        ws.add_table(Table(displayName="Lines", ref="A3:G6"))
    totals = wb.create_sheet("Итоги")
    totals["A1"] = "Всего"
    totals["B1"] = "=SUM('Продажи'!G4:G6)"
    wb.defined_names["Итог"] = DefinedName("Итог", attr_text="'Итоги'!$B$1")
    wb.save(path)
    for row, value in [(4, "301.5"), (5, "25.05"), (6, "-100.5")]:
        set_cached_value(path, 1, f"G{row}", value)
    set_cached_value(path, 2, "B1", "226.05")
    return path


def parts(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_write_back_keeps_everything_of_the_users(tmp_path):
    src = make_export(tmp_path / "march.xlsx")
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    out = tmp_path / "march.out.xlsx"
    jobs.read(src, out=out)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before  # the input is untouched

    old, new = openpyxl.load_workbook(src), openpyxl.load_workbook(out)
    assert new.sheetnames == ["Продажи", "Итоги"]
    for name in old.sheetnames:
        for row in old[name].iter_rows():
            for cell in row:
                assert sig(cell) == sig(new[name][cell.coordinate]), (name, cell.coordinate)
    ws = new["Продажи"]
    assert ws["H3"].value == "gross" and ws["H3"].font.b and ws["H3"].fill.fgColor.rgb == ws["G3"].fill.fgColor.rgb
    assert [ws[f"H{r}"].value for r in (4, 5, 6)] == [301.5, 25.05, -100.5]
    assert ws["H4"].number_format == "#,##0.00"
    assert ws.freeze_panes == "A4" and ws.column_dimensions["B"].width == 30
    assert {str(r) for r in ws.merged_cells.ranges} == {"A1:G1"}
    assert {r.coord for r in ws.data_validations.dataValidation[0].sqref.ranges} == {"C4:C6"}
    assert new.defined_names["Итог"].attr_text == "'Итоги'!$B$1"
    values = openpyxl.load_workbook(out, data_only=True)
    assert values["Итоги"]["B1"].value == 226.05  # cached formula values survive
    assert values["Продажи"]["G5"].value == 25.05 and ws["G5"].value == "=E5*F5"

    before_parts, after_parts = parts(src), parts(out)
    changed = {n for n in before_parts if before_parts[n] != after_parts.get(n)}
    assert changed == {"xl/worksheets/sheet1.xml", "xl/styles.xml"}  # every other part byte for byte
    assert set(after_parts) == set(before_parts)


def test_exact_money_text_in_the_sheet_xml(tmp_path):
    out = tmp_path / "out.xlsx"
    jobs.read(make_export(tmp_path / "in.xlsx"), out=out)
    xml = parts(out)["xl/worksheets/sheet1.xml"].decode()
    assert re.findall(r'<c r="H\d+" s="\d+"><v>([^<]*)</v>', xml) == ["301.50", "25.05", "-100.50"]
    assert 'spans' not in xml or 'spans="1:8"' in xml
    assert re.search(r'<dimension ref="A1:H6"\s*/>', xml)


def test_an_excel_table_over_the_lines_is_widened(tmp_path):
    out = tmp_path / "out.xlsx"
    jobs.read(make_export(tmp_path / "in.xlsx", table=True), out=out)
    table = openpyxl.load_workbook(out)["Продажи"].tables["Lines"]
    assert table.ref == "A3:H6"
    assert [c.name for c in table.tableColumns] == HEADERS + ["gross"]


def test_running_again_on_its_own_output_replaces_the_results(tmp_path):
    src = make_export(tmp_path / "in.xlsx", table=True)
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    jobs.read(src, out=first)
    jobs.read(first, out=second)
    ws = openpyxl.load_workbook(second)["Продажи"]
    assert [c.value for c in ws[3]] == HEADERS + ["gross"]
    assert ws.max_column == 8
    assert [c.name for c in ws.tables["Lines"].tableColumns] == HEADERS + ["gross"]
    assert parts(first)["xl/styles.xml"] == parts(second)["xl/styles.xml"]  # no format added twice


def test_in_place_and_refusals(tmp_path):
    src = make_export(tmp_path / "in.xlsx")
    with pytest.raises(InputError) as raised:
        jobs.read(src, out=src)
    assert raised.value.problems[0].code == "out.is_input"
    lock = tmp_path / "~$in.xlsx"
    lock.write_bytes(b"")
    with pytest.raises(TargetLocked):
        jobs.read(src, out=src, in_place=True)
    lock.unlink()
    jobs.read(src, out=src, in_place=True)
    assert openpyxl.load_workbook(src)["Продажи"]["H3"].value == "gross"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.xlsx"]  # no temp files left


def test_macros_survive_in_an_xlsm(tmp_path):
    xlsx = make_export(tmp_path / "in.xlsx")
    xlsm = tmp_path / "in.xlsm"
    vba = bytes(range(256)) * 40
    content = parts(xlsx)
    content["xl/vbaProject.bin"] = vba
    content["[Content_Types].xml"] = content["[Content_Types].xml"].replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    ).replace(b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
    content["xl/_rels/workbook.xml.rels"] = content["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
        b'Target="vbaProject.bin"/></Relationships>',
    )
    with zipfile.ZipFile(xlsm, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in content.items():
            archive.writestr(name, data)
    with pytest.raises(InputError) as raised:
        jobs.read(xlsm, out=tmp_path / "out.xlsx")
    assert raised.value.problems[0].code == "out.macros"
    jobs.read(xlsm, out=tmp_path / "out.xlsm")
    after = parts(tmp_path / "out.xlsm")
    assert after["xl/vbaProject.bin"] == vba
    assert b"macroEnabled" in after["[Content_Types].xml"]


def test_result_sheets_are_added(tmp_path):
    src = make_export(tmp_path / "in.xlsx")
    wb = openpyxl.load_workbook(src)
    wb["Продажи"]["E6"] = "минус один"  # a bad line, skipped
    wb.save(src)
    out = tmp_path / "out.xlsx"
    jobs.read(src, out=out, skip_bad_lines=True)
    new = openpyxl.load_workbook(out)
    assert new.sheetnames == ["Продажи", "Итоги", "Warnings"]
    warnings = new["Warnings"]
    assert [c.value for c in warnings[1]] == ["where", "row", "field", "code", "message", "count"]
    assert [c.value for c in warnings[2]] == [
        "export row 6, field qty", 6, "qty", "export.value",
        "qty 'минус один' is not a quantity, e.g. 5 or 2,5; the line is left out", 1,
    ]
    assert new["Продажи"]["H6"].value is None  # the skipped line gets no result


def test_csv_and_parquet_outputs(tmp_path):
    src = make_export(tmp_path / "in.xlsx")
    jobs.read(src, out=tmp_path / "out.csv")
    text = (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()
    assert text[0] == "source_row,date,doc_id,client_id,sku,qty,unit_price,amount,gross"
    assert text[1] == "4,2026-03-02,Д-1,C1,S1,3,100.5,301.50,301.50"
    # Сумма holds formulas with cached values: amount 25.05 is read from the cached value
    assert text[2] == "5,2026-03-02,Д-1,C1,S2,2.5,10.02,25.05,25.05"
    assert text[3].startswith("6,2026-03-03,Д-2,\"'=HYPERLINK(\"\"x\"\")\",S1,-1,100.5,")  # no formula injection
    jobs.read(src, out=tmp_path / "out.parquet")
    table = pq.read_table(tmp_path / "out.parquet")
    assert str(table.schema.field("gross").type) == "decimal128(18, 2)"  # stored as parquet INT64
    assert table.column("gross").to_pylist() == [Decimal("301.50"), Decimal("25.05"), Decimal("-100.50")]
    frame = pd.read_parquet(tmp_path / "out.parquet")
    assert frame["qty"].tolist() == [Decimal("3.000"), Decimal("2.500"), Decimal("-1.000")]


def test_csv_export_to_xlsx_makes_a_lines_workbook(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("Дата;Документ;Контрагент;Артикул;Количество;Цена\n02.03.2026;Д-1;C1;S1;3;100,50\n", encoding="utf-8")
    jobs.read(src, out=tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx")["Lines"]
    assert [c.value for c in ws[1]] == ["source_row", "date", "doc_id", "client_id", "sku", "qty", "unit_price", "gross"]
    assert [c.value for c in ws[2]][2:] == ["Д-1", "C1", "S1", 3, 100.5, 301.5]


def test_openpyxl_parses_untrusted_xml_with_defusedxml():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


def test_libreoffice_opens_the_written_back_workbook(tmp_path):
    """The real check that the package we write is a workbook an office suite accepts."""
    import shutil
    import subprocess

    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc)")
    out = tmp_path / "out.xlsx"
    jobs.read(make_export(tmp_path / "in.xlsx", table=True), out=out, skip_bad_lines=True)
    done = subprocess.run(
        [office, "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
         "--outdir", str(tmp_path / "lo"), str(out)],
        capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr
    sheets = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "lo").iterdir()}
    lines_sheet = next(text for name, text in sheets.items() if "Продажи" in name)
    rows = [line.split(",") for line in lines_sheet.splitlines()]
    assert rows[2][-1] == "gross"
    assert [r[-1] for r in rows[3:6]] == ["301.5", "25.05", "-100.5"]  # raw cell values, as numbers


def test_parquet_money_is_int64_decimals_and_wider_values_still_exact(tmp_path):
    """Amounts below 10^18 minor units go as decimal64 (parquet INT64); one beyond makes the column decimal128."""
    import numpy as np
    import pyarrow as pa

    from erp_plugin.output.write import decimal_array

    small = decimal_array(np.array([12345, -5, 0]), np.array([False, False, True]), 2, pa)
    assert small.type == pa.decimal64(18, 2)
    assert small.to_pylist() == [Decimal("123.45"), Decimal("-0.05"), None]
    wide = decimal_array(np.array([-(10**18), 7]), np.array([False, False]), 2, pa)
    assert wide.type == pa.decimal128(19, 2)
    assert wide.to_pylist() == [Decimal("-10000000000000000.00"), Decimal("0.07")]
    pq.write_table(pa.table({"small": small}), tmp_path / "m.parquet", store_decimal_as_integer=True)
    assert pq.ParquetFile(tmp_path / "m.parquet").schema.column(0).physical_type == "INT64"


def test_a_parquet_column_keeps_one_type_when_a_later_row_group_holds_a_huge_amount(tmp_path):
    """The decimal width is chosen over the whole column, not per row group: one schema for the file."""
    import numpy as np
    import pandas as pd

    from erp_plugin.output import write as writer
    from erp_plugin.tables import money

    frame = pd.DataFrame({"net": np.array([150, -2, 10**18 + 5], dtype=np.int64)})
    writer._write_parquet(frame, {"net": money(2)}, tmp_path / "w.parquet", slice_rows=2)
    table = pq.read_table(tmp_path / "w.parquet")
    assert str(table.schema.field("net").type) == "decimal128(19, 2)"
    assert table.column("net").to_pylist() == [Decimal("1.50"), Decimal("-0.02"), Decimal("10000000000000000.05")]


def test_parquet_columns_without_a_blank_are_required(tmp_path):
    """A column that is never blank is REQUIRED in the file (no definition levels); one with a blank in a
    later row group is OPTIONAL in every row group, and the blank reads back as null."""
    import numpy as np
    import pandas as pd

    from erp_plugin.output import write as writer
    from erp_plugin.tables import INT, TEXT, money

    frame = pd.DataFrame({
        "net": np.array([150, -2, 7], dtype=np.int64),
        "bonus_paid": pd.array([100, 5, None], dtype="Int64"),
        "client_id": pd.Categorical(["C1", "C2", "C1"]),
        "doc_id": pd.Categorical(["D1", "D1", None]),
        "line_no": np.array([1, 2, 1], dtype=np.int64),
    })
    kinds = {"net": money(2), "bonus_paid": money(2), "client_id": TEXT, "doc_id": TEXT, "line_no": INT}
    writer._write_parquet(frame, kinds, tmp_path / "r.parquet", slice_rows=2)
    schema = pq.ParquetFile(tmp_path / "r.parquet").schema
    assert [schema.column(i).max_definition_level for i in range(5)] == [0, 1, 0, 1, 0]
    table = pq.read_table(tmp_path / "r.parquet")
    assert table.column("bonus_paid").to_pylist() == [Decimal("1.00"), Decimal("0.05"), None]
    assert table.column("doc_id").to_pylist() == ["D1", "D1", None]
    assert table.column("net").to_pylist() == [Decimal("1.50"), Decimal("-0.02"), Decimal("0.07")]


def test_parquet_encodings_follow_the_values(tmp_path):
    """Export rows and distinct money as deltas, uncompressed; numbers with few distinct values (a percentage)
    dictionary-encoded like text, snappy-compressed. Every value reads back exactly, in pyarrow and DuckDB."""
    import numpy as np
    import pandas as pd

    from erp_plugin.output import write as writer
    from erp_plugin.tables import INT, PCT, money

    frame = pd.DataFrame({
        "source_row": np.arange(2, 2002, dtype=np.int64),
        "kit_pct": np.tile(np.array([50_000, 80_000], dtype=np.int64), 1000),
        "net": np.arange(2000, dtype=np.int64) * 7919 - 5_000_000,
    })
    writer._write_parquet(frame, {"source_row": INT, "kit_pct": PCT, "net": money(2)}, tmp_path / "e.parquet")
    column = pq.ParquetFile(tmp_path / "e.parquet").metadata.row_group(0).column
    assert "DELTA_BINARY_PACKED" in column(0).encodings
    assert "RLE_DICTIONARY" in column(1).encodings and column(1).compression == "SNAPPY"
    assert "DELTA_BINARY_PACKED" in column(2).encodings and "RLE_DICTIONARY" not in column(2).encodings
    assert column(2).compression == "UNCOMPRESSED"
    table = pq.read_table(tmp_path / "e.parquet")
    assert table.column("source_row").to_pylist() == list(range(2, 2002))
    assert table.column("kit_pct").to_pylist()[:3] == [Decimal("5.0000"), Decimal("8.0000"), Decimal("5.0000")]
    assert table.column("net").to_pylist()[-1] == Decimal("108300.81")  # (1999 × 7919 − 5 000 000) / 100
    duckdb = pytest.importorskip("duckdb")
    assert duckdb.connect().execute(f"SELECT sum(net), min(net), max(source_row) FROM read_parquet('{tmp_path / 'e.parquet'}')"
                                    ).fetchone() == (Decimal("58300810.00"), Decimal("-50000.00"), 2001)
    # sum: (7919 × (0 + … + 1999) − 2000 × 5 000 000) / 100 = (7919 × 1 999 000 − 10^10) / 100


def test_parquet_money_past_decimal64_is_not_delta_encoded(tmp_path):
    """An amount of 10^18 minor units or more goes as decimal128(19), a fixed-length byte array that
    DELTA_BINARY_PACKED cannot encode: plain, and exact."""
    import numpy as np
    import pandas as pd

    from erp_plugin.output import write as writer
    from erp_plugin.tables import money

    frame = pd.DataFrame({"net": np.array([10**18, -5, 7], dtype=np.int64)})
    writer._write_parquet(frame, {"net": money(2)}, tmp_path / "w.parquet")
    column = pq.ParquetFile(tmp_path / "w.parquet").metadata.row_group(0).column(0)
    assert column.physical_type == "FIXED_LEN_BYTE_ARRAY" and "DELTA_BINARY_PACKED" not in column.encodings
    assert pq.read_table(tmp_path / "w.parquet").column("net").to_pylist() == [
        Decimal("10000000000000000.00"), Decimal("-0.05"), Decimal("0.07")]


def test_every_writer_shows_a_kind_with_the_one_number_format(tmp_path):
    """The streaming writer (a new workbook, and result sheets added to an export) and the one-click jobs'
    FileBook format each kind alike, from output/formats.py; money with its own minor units."""
    import numpy as np

    from erp_plugin.excel.book import FileBook
    from erp_plugin.output import xlsx_write
    from erp_plugin.tables import DATE, INT, PCT, PRICE, QTY, TEXT, money
    from erp_plugin.tables import Table as ResultTable

    kinds = {"client": TEXT, "day": DATE, "lines": INT, "qty": QTY, "price": PRICE, "pct": PCT, "net": money(2),
             "yen": money(0), "mils": money(3)}
    frame = pd.DataFrame({"client": ["C1"], "day": pd.to_datetime(["2026-03-02"]),
                          **{name: np.array([12345], dtype=np.int64) for name in list(kinds)[2:]}})
    # percentages of result sheets all with two decimals (issue 19: "2.5 %" beside "1.4747 %" was hard to read)
    expected = ["General", "DD.MM.YYYY", "0", "#,##0.###", "#,##0.00##", '0.00" %"', "#,##0.00", "#,##0", "#,##0.000"]

    xlsx_write.new_workbook(tmp_path / "new.xlsx", [xlsx_write.Sheet("Totals", frame, kinds)])
    added = tmp_path / "added.xlsx"
    xlsx_write.write_back(make_export(tmp_path / "in.xlsx"), added, "Продажи", 3, 7, np.array([4]),
                          [xlsx_write.Column("net", money(2), [30150])], [xlsx_write.Sheet("Totals", frame, kinds)])
    openpyxl.Workbook().save(tmp_path / "book.xlsx")
    book = FileBook(tmp_path / "book.xlsx")
    book.put_table("Totals", ResultTable("totals", frame, kinds))
    book.save()
    for path in (tmp_path / "new.xlsx", added, tmp_path / "book.xlsx"):
        ws = openpyxl.load_workbook(path)["Totals"]
        assert [cell.number_format for cell in ws[2]] == expected, path.name
        # one look: the header bold on the pale fill with a line under it, frozen under an autofilter; data plain
        header, text, number = ws["A1"], ws["A2"], ws["G2"]
        assert header.font.b and header.fill.fgColor.rgb == "FFDDE3EC" and header.border.bottom.style == "thin"
        for data in (text, number):
            assert not data.font.b and data.fill.fill_type is None and data.border.bottom.style is None
            assert not data.alignment.wrap_text
        assert (text.alignment.horizontal, text.alignment.indent) == ("left", 1)  # never runs into a figure
        assert not number.alignment.horizontal
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:I2", path.name
    assert openpyxl.load_workbook(added)["Продажи"]["H4"].number_format == "#,##0.00"
