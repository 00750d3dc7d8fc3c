"""What a parquet output guarantees, whatever writes it: exact decimal types and values, one schema over
every row group, the same figures read back by pyarrow, pandas and DuckDB, and no file left behind when
writing fails."""

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from erp_plugin.output import write as writer
from erp_plugin.problems import InputError
from erp_plugin.tables import DATE, INT, PCT, PRICE, QTY, TEXT, Table, money

# seven lines in four row groups of 2, 2, 2 and 1 (slice_rows=2); a blank in every nullable column
FRAME = pd.DataFrame({
    "source_row": np.arange(2, 9, dtype=np.int64),
    "doc_id": pd.Categorical(["Д-1", "Д-1", "Д-2", None, "Д-3", "Д-3", "Д-4"]),
    "date": pd.to_datetime(["2026-01-05", "2026-01-05", "2026-02-01", None, "2026-03-01", "2026-03-01", "2026-03-02"]),
    "qty": np.array([3000, 2500, -1000, 1, 10_000, 0, 7], dtype=np.int64),  # thousandths
    "unit_price": np.array([1_005_000, 100_100, 1_005_000, 1, 0, 99_999, 12_345_678], dtype=np.int64),
    "kit_pct": np.array([50_000, 80_000, 0, 123_456, 50_000, 50_000, 1], dtype=np.int64),  # 1/10 000 of a percent
    "net": pd.array([15050, -2, 0, None, 10**15, 7, -99], dtype="Int64"),  # kopecks
    "fee": np.array([1, -1, 0, 5, 9, 10**17, -(10**17)], dtype=np.int64),  # whole units (money with 0 decimals)
})
KINDS = {"source_row": INT, "doc_id": TEXT, "date": DATE, "qty": QTY, "unit_price": PRICE, "kit_pct": PCT,
         "net": money(2), "fee": money(0)}
EXPECTED = {
    "source_row": [2, 3, 4, 5, 6, 7, 8],
    "doc_id": ["Д-1", "Д-1", "Д-2", None, "Д-3", "Д-3", "Д-4"],
    "date": [date(2026, 1, 5), date(2026, 1, 5), date(2026, 2, 1), None, date(2026, 3, 1), date(2026, 3, 1),
             date(2026, 3, 2)],
    "qty": [Decimal(v) for v in ("3.000", "2.500", "-1.000", "0.001", "10.000", "0.000", "0.007")],
    "unit_price": [Decimal(v) for v in ("100.5000", "10.0100", "100.5000", "0.0001", "0.0000", "9.9999", "1234.5678")],
    "kit_pct": [Decimal(v) for v in ("5.0000", "8.0000", "0.0000", "12.3456", "5.0000", "5.0000", "0.0001")],
    "net": [Decimal("150.50"), Decimal("-0.02"), Decimal("0.00"), None, Decimal("10000000000000.00"), Decimal("0.07"),
            Decimal("-0.99")],
    "fee": [Decimal(v) for v in ("1", "-1", "0", "5", "9", str(10**17), str(-(10**17)))],
}
# parquet's own types: what any reader sees, with no Arrow schema stored in the file
PARQUET_TYPES = {"source_row": ("INT64", "None"), "doc_id": ("BYTE_ARRAY", "String"), "date": ("INT32", "Date"),
                 "qty": ("INT64", "Decimal(precision=18, scale=3)"), "unit_price": ("INT64", "Decimal(precision=18, scale=4)"),
                 "kit_pct": ("INT64", "Decimal(precision=18, scale=4)"), "net": ("INT64", "Decimal(precision=18, scale=2)"),
                 "fee": ("INT64", "Decimal(precision=18, scale=0)")}


@pytest.fixture
def written(tmp_path):
    path = tmp_path / "lines.parquet"
    writer._write_parquet(FRAME, KINDS, path, slice_rows=2)
    return path


def test_money_and_quantities_are_exact_decimals_stored_as_64_bit_integers(written):
    file = pq.ParquetFile(written)
    assert [file.metadata.row_group(g).num_rows for g in range(file.metadata.num_row_groups)] == [2, 2, 2, 1]
    schema = file.schema
    assert {schema.column(i).name: (schema.column(i).physical_type, str(schema.column(i).logical_type))
            for i in range(len(schema))} == PARQUET_TYPES
    assert file.schema_arrow.metadata is None or b"ARROW:schema" not in file.schema_arrow.metadata
    assert pq.read_table(written).to_pydict() == EXPECTED


def test_pandas_reads_back_the_same_columns_and_exact_values(written):
    frame = pd.read_parquet(written)
    assert list(frame.columns) == list(FRAME.columns)
    for name in ("qty", "unit_price", "kit_pct", "net", "fee"):
        assert [None if pd.isna(v) else v for v in frame[name]] == EXPECTED[name], name
        assert all(isinstance(v, Decimal) for v in frame[name].dropna())  # never a float
    assert frame["source_row"].tolist() == EXPECTED["source_row"]
    assert [None if pd.isna(v) else v for v in frame["doc_id"]] == EXPECTED["doc_id"]


def test_duckdb_reads_back_the_same_types_and_exact_values(written):
    duckdb = pytest.importorskip("duckdb", reason="duckdb is in the dev extra: pip install -e '.[dev]'")
    con = duckdb.connect()
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{written}'))")
                 .fetchall())
    assert types == {"source_row": "BIGINT", "doc_id": "VARCHAR", "date": "DATE", "qty": "DECIMAL(18,3)",
                     "unit_price": "DECIMAL(18,4)", "kit_pct": "DECIMAL(18,4)", "net": "DECIMAL(18,2)",
                     "fee": "DECIMAL(18,0)"}
    rows = con.execute(f"SELECT * FROM read_parquet('{written}') ORDER BY source_row").fetchall()
    assert [list(row) for row in rows] == [list(values) for values in zip(*EXPECTED.values())]
    # sums in SQL are exact too: the kopecks add up
    assert con.execute(f"SELECT sum(net) FROM read_parquet('{written}')").fetchone()[0] == Decimal("10000000000149.56")


def test_one_schema_over_every_row_group_when_a_later_one_holds_a_huge_amount(tmp_path):
    """The decimal width is chosen over the whole column: decimal(19) in every row group, values exact."""
    frame = pd.DataFrame({"net": np.array([150, -2, -(10**18) - 5], dtype=np.int64)})
    writer._write_parquet(frame, {"net": money(2)}, tmp_path / "w.parquet", slice_rows=2)
    file = pq.ParquetFile(tmp_path / "w.parquet")
    assert str(file.schema.column(0).logical_type) == "Decimal(precision=19, scale=2)"
    assert pd.read_parquet(tmp_path / "w.parquet")["net"].tolist() == \
        [Decimal("1.50"), Decimal("-0.02"), Decimal("-10000000000000000.05")]


def test_an_empty_frame_is_a_file_with_its_columns_and_no_lines(tmp_path):
    writer._write_parquet(FRAME.iloc[:0], KINDS, tmp_path / "empty.parquet", slice_rows=2)
    table = pq.read_table(tmp_path / "empty.parquet")
    assert table.num_rows == 0 and table.column_names == list(FRAME.columns)


def test_a_write_that_fails_leaves_no_file_behind(tmp_path, monkeypatch):
    """The lines are written, then the summary table beside them cannot be: the error comes out as one problem
    naming the target, and neither file nor a temp file is left in the folder (all written or none)."""
    making, made = writer._ParquetColumns.table, []

    def table(self, g, rows=None):
        if made:
            raise OSError("disk full")
        made.append(g)
        return making(self, g, rows)

    monkeypatch.setattr(writer._ParquetColumns, "table", table)
    source = writer.ExportSource(path=tmp_path / "export.parquet", format="parquet")
    summary = Table("summary", pd.DataFrame({"lines": [7]}), {"lines": INT})
    (tmp_path / "out").mkdir()
    with pytest.raises(InputError, match=r"cannot be written, so nothing was written; .* \(detail: disk full\)"):
        writer.write_output(source, FRAME, {"net": money(2), "fee": money(0)}, [summary], tmp_path / "out" / "priced.parquet",
                            input_kinds=KINDS)
    assert made == [0]  # the lines were written in full before the failure
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_parts_joined_on_disk_are_the_table_written_whole(tmp_path, suffix):
    """A table written in parts (a Dask run's buckets: the first without a blank, so its columns are required;
    one empty; the last with every blank) and joined on disk is the table: every value exact, in the parts'
    order, each column optional where any part has a blank; a csv's text is the whole table's, byte for byte."""
    cuts = [(0, 3), (3, 3), (3, 7)]
    parts = []
    for n, (start, end) in enumerate(cuts):
        parts += writer.write_tables([Table("coupons", FRAME.iloc[start:end], KINDS)], tmp_path / f"part-{n}{suffix}")
    joined = writer.write_joined(parts, tmp_path / f"joined{suffix}", rows=7)
    assert joined == [tmp_path / f"joined{suffix}"]
    if suffix == ".csv":
        whole = writer.write_tables([Table("coupons", FRAME, KINDS)], tmp_path / "whole.csv")[0]
        assert joined[0].read_bytes() == whole.read_bytes()
        assert joined[0].read_bytes().count(b"\xef\xbb\xbf") == 1 and joined[0].read_text("utf-8-sig").count("doc_id") == 1
        return
    assert pq.read_table(joined[0]).to_pydict() == EXPECTED
    schema = pq.read_schema(joined[0])
    assert not schema.field("source_row").nullable and schema.field("doc_id").nullable and schema.field("net").nullable
