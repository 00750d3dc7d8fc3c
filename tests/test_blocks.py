"""Row-wise arithmetic in blocks (blocks.py): the blocks' columns join into the whole ones, in order."""

import numpy as np
import pytest

from erp_plugin import parallel as blocks


def test_blocks_join_in_row_order_whatever_the_block_size(monkeypatch):
    monkeypatch.setattr(blocks, "BLOCK_ROWS", 3)  # 10 rows: blocks of 3, 3, 3 and 1, on the thread pool
    values = np.array([5, -1, 7, 0, 12, 3, -8, 9, 2, 4])

    def compute(rows):
        part = values[rows]
        return {"double": part * 2, "big": part > 4}

    columns = blocks.by_blocks(10, compute)
    assert columns["double"].tolist() == [10, -2, 14, 0, 24, 6, -16, 18, 4, 8]
    assert columns["big"].tolist() == [True, False, True, False, True, False, False, True, False, False]
    assert columns["big"].dtype == bool


def test_no_rows_gives_empty_columns_of_their_dtype():
    columns = blocks.by_blocks(0, lambda rows: {"net": np.zeros(0, dtype=np.int64)[rows]})
    assert columns["net"].dtype == np.int64 and len(columns["net"]) == 0


def test_an_error_in_a_later_block_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(blocks, "BLOCK_ROWS", 2)

    def compute(rows):
        if rows.start == 4:
            raise ValueError("block at row 4")
        return {"x": np.arange(rows.start, rows.stop)}

    with pytest.raises(ValueError, match="block at row 4"):
        blocks.by_blocks(6, compute)
