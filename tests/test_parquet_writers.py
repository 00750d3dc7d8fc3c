"""One parquet file from writers side by side: the Thrift footer codec and the join of row groups."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from erp_plugin.erp import thrift_compact as thrift
from erp_plugin.erp.parquet_writers import joined_footer, write_side_by_side
from erp_plugin.output.write import _write_parquet
from erp_plugin.tables import TEXT, ColumnKind, money


def footer_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    size = int.from_bytes(data[-8:-4], "little")
    return data[-8 - size:-8]


def test_compact_protocol_bytes_worked_by_hand():
    # field 1, i32 5: header (delta 1 << 4 | type 5) = 0x15, zigzag(5) = 10; then the stop byte
    assert thrift.encode([[1, thrift.I32, 5]]) == bytes([0x15, 0x0A, 0x00])
    # field 20 after field 1 is 19 ids on: long form, type byte 0x06 (i64), zigzag i16 id 40 = 0x28; zigzag(-1) = 1
    assert thrift.encode([[1, thrift.TRUE, True], [20, thrift.I64, -1]]) == bytes([0x11, 0x06, 0x28, 0x01, 0x00])
    # a binary of 3 bytes as field 2: 0x28, length 3, the bytes; a list of two i32 (2 << 4 | 5), zigzag 1 and -2
    assert thrift.encode([[2, thrift.BINARY, b"abc"], [3, thrift.LIST, (thrift.I32, [1, -2])]]) == \
        bytes([0x28, 3, 97, 98, 99, 0x19, 0x25, 0x02, 0x03, 0x00])
    # 300 needs two varint bytes: zigzag 600 = 0b100_1011000 -> 0xD8 0x04
    assert thrift.decode(bytes([0x16, 0xD8, 0x04, 0x00])) == [[1, thrift.I64, 300]]


def test_every_type_decodes_to_what_was_encoded():
    struct = [
        [1, thrift.FALSE, False], [2, thrift.BYTE, -7], [3, thrift.I16, -300], [4, thrift.I32, 2**31 - 1],
        [5, thrift.I64, -(2**63)], [6, thrift.DOUBLE, np.float64(2.5).tobytes()], [7, thrift.BINARY, "ы".encode()],
        [9, thrift.LIST, (thrift.TRUE, [1, 2, 1])],  # booleans in a list: a byte each
        [10, thrift.LIST, (thrift.I64, list(range(-20, 20)))],  # 15 or more items: the size as a varint
        [11, thrift.MAP, (thrift.BINARY << 4 | thrift.I32, [(b"k", 1), (b"l", -1)])],
        [12, thrift.STRUCT, [[1, thrift.TRUE, True], [300, thrift.I32, 3]]],
        [13, thrift.SET, (thrift.STRUCT, [[[1, thrift.I32, 1]], []])],
        [14, thrift.MAP, (0, [])],
    ]
    assert thrift.decode(thrift.encode(struct)) == struct


def test_a_pyarrow_footer_encodes_back_to_its_very_bytes(tmp_path):
    table = pa.table({"n": [1, None, 3], "s": pa.array(["а", "b", None]).dictionary_encode(),
                      "d": pa.array([date(2026, 1, 1), None, date(2026, 2, 1)]), "x": [0.5, None, -1.25]})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=2)
    footer = footer_bytes(tmp_path / "t.parquet")
    assert thrift.encode(thrift.decode(footer)) == footer


FRAME = pd.DataFrame({
    "source_row": np.arange(2, 9, dtype=np.int64),
    "doc_id": pd.Categorical(["Д-1", "Д-1", "Д-2", None, "Д-3", "Д-3", "Д-4"]),
    "date": pd.to_datetime(["2026-01-05", "2026-01-05", "2026-02-01", None, "2026-03-01", "2026-03-01", "2026-03-02"]),
    "net": pd.array([15050, -2, 0, None, 10**15, 7, -99], dtype="Int64"),
})
KINDS = {"source_row": ColumnKind("int"), "doc_id": TEXT, "date": ColumnKind("date"), "net": money(2)}


@pytest.mark.parametrize("writers", [2, 3])
def test_writers_side_by_side_write_the_very_bytes_one_writer_writes(tmp_path, writers):
    """Four row groups of 2, 2, 2 and 1 lines, by 2 and by 3 writers: byte for byte the one-writer file."""
    _write_parquet(FRAME, KINDS, tmp_path / "one.parquet", slice_rows=2, writers=1)
    _write_parquet(FRAME, KINDS, tmp_path / "side.parquet", slice_rows=2, writers=writers)
    assert (tmp_path / "side.parquet").read_bytes() == (tmp_path / "one.parquet").read_bytes()
    meta = pq.ParquetFile(tmp_path / "side.parquet").metadata
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [2, 2, 2, 1]
    table = pq.read_table(tmp_path / "side.parquet")
    assert table.column("net").to_pylist() == [Decimal("150.50"), Decimal("-0.02"), Decimal("0.00"), None,
                                               Decimal("10000000000000.00"), Decimal("0.07"), Decimal("-0.99")]
    assert table.column("doc_id").to_pylist() == ["Д-1", "Д-1", "Д-2", None, "Д-3", "Д-3", "Д-4"]
    assert table.column("date").to_pylist()[2:4] == [date(2026, 2, 1), None]
    assert meta.row_group(3).column(0).statistics.min == 8  # source_row of the last line


def test_a_writer_that_fails_stops_the_file_with_its_error(tmp_path):
    frames = {g: pa.table({"a": [g]}) for g in range(6)}

    def table(g):
        if g == 3:
            raise ValueError("row group 3 cannot be made")
        return frames[g]

    with pytest.raises(ValueError, match="row group 3"):
        write_side_by_side(tmp_path / "f.parquet", 6, table, lambda sink: pq.ParquetWriter(sink, frames[0].schema), 2)


def test_a_footer_with_a_page_index_is_refused(tmp_path):
    """Offsets inside page indexes are not in the footer: such a file cannot be moved, so it is not joined."""
    for name in ("a", "b"):
        pq.write_table(pa.table({"a": [1, 2]}), tmp_path / f"{name}.parquet", write_page_index=True)
    footers = [thrift.decode(footer_bytes(tmp_path / f"{name}.parquet")) for name in ("a", "b")]
    with pytest.raises(ValueError, match="offset index"):
        joined_footer(footers, [0, 100])
