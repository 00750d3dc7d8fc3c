"""One parquet file written by several pyarrow writers side by side.

pyarrow's parquet writer encodes a file's columns one after another on one
thread, and at ten million lines encoding is most of the write. Here each of
``count`` writers, on its own thread, takes every ``count``-th row group into a
stream of its own; this thread writes the row groups into the file in their
order as they come, so the file is written once, front to back, with no part
files to copy. Each row group's bytes are as its writer made them; only their
place in the file changed, so the footer is the writers' footers put together,
every column chunk's byte offsets moved by how far its row group moved.

The footer is a Thrift ``FileMetaData`` (thrift_compact.py). A footer with what
cannot be moved this way (page indexes, bloom filters, encryption) is refused;
the writers here never ask for them.
"""

from __future__ import annotations

import struct
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from .thrift_compact import STRUCT, Field, decode, encode, field, set_field

MAGIC = b"PAR1"

# field ids of parquet.thrift
FILE_NUM_ROWS, FILE_ROW_GROUPS = 3, 4
FILE_ENCRYPTION = (8, 9)
GROUP_COLUMNS, GROUP_FILE_OFFSET, GROUP_ORDINAL = 1, 5, 7
CHUNK_FILE_OFFSET, CHUNK_META = 2, 3
CHUNK_UNMOVABLE = {1: "a file path", 4: "an offset index", 6: "a column index", 8: "encryption", 9: "encryption"}
META_OFFSETS = (9, 10, 11)  # data, index and dictionary page offsets
META_BLOOM_FILTER = 14


class _Stream:
    """What a ParquetWriter writes into: the bytes since the last ``take``, and the position in the stream."""

    closed = False

    def __init__(self):
        self.pieces: list[bytes] = []
        self.position = 0

    def write(self, data) -> int:
        self.pieces.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def take(self) -> list[bytes]:
        pieces, self.pieces = self.pieces, []
        return pieces


def write_side_by_side(path: Path, groups: int, table: Callable, open_writer: Callable, count: int) -> None:
    """Write ``path``: row group ``g`` is ``table(g)`` for g < ``groups``, written by ``open_writer(sink)``
    writers (one schema, one set of options), ``count`` of them side by side.

    A writer runs at most ``2 × count`` row groups ahead of the file, which bounds the bytes held.
    """
    ready: list[Future] = [Future() for _ in range(groups)]
    footers: list[Future] = [Future() for _ in range(count)]
    written = threading.Condition()
    progress = {"written": 0, "failed": False}

    def run(k: int) -> None:
        stream = _Stream()
        writer = open_writer(stream)
        stream.take()  # the magic: the file has its own
        try:
            for g in range(k, groups, count):
                with written:
                    written.wait_for(lambda g=g: progress["failed"] or progress["written"] > g - 2 * count)
                    if progress["failed"]:
                        return
                start = stream.position
                writer.write_table(table(g))
                ready[g].set_result((start, stream.take()))
        finally:
            writer.close()
        footers[k].set_result(b"".join(stream.take())[:-8])

    def fail(done: Future) -> None:  # a writer that failed: the file stops, and so do the others
        if done.exception() is not None:
            with written:
                progress["failed"] = True
                written.notify_all()
            for future in [*ready, *footers]:
                if not future.done():
                    future.set_exception(done.exception())

    with ThreadPoolExecutor(max_workers=count) as pool, open(path, "wb") as out:
        try:
            for k in range(count):
                pool.submit(run, k).add_done_callback(fail)
            out.write(MAGIC)
            position, moved = len(MAGIC), []
            for g in range(groups):
                start, pieces = ready[g].result()
                moved.append(position - start)
                for piece in pieces:
                    out.write(piece)
                    position += len(piece)
                with written:
                    progress["written"] = g + 1
                    written.notify_all()
            footer = encode(joined_footer([decode(f.result()) for f in footers], moved))
            out.write(footer + struct.pack("<I", len(footer)) + MAGIC)
        except BaseException:
            with written:
                progress["failed"] = True
                written.notify_all()
            raise


def joined_footer(footers: list[list], moved: list[int]) -> list:
    """One FileMetaData from the writers' footers: row group ``g`` is writer ``g % count``'s
    ``g // count``-th, its byte offsets moved by ``moved[g]``."""
    count = len(footers)
    for footer in footers:
        if any(field(footer, f) is not None for f in FILE_ENCRYPTION):
            raise ValueError("an encrypted parquet footer cannot be joined")
    groups = []
    for g, delta in enumerate(moved):
        group = field(footers[g % count], FILE_ROW_GROUPS)[1][g // count]
        for chunk in field(group, GROUP_COLUMNS)[1]:
            _move_chunk(chunk, delta)
        if field(group, GROUP_FILE_OFFSET):
            set_field(group, GROUP_FILE_OFFSET, field(group, GROUP_FILE_OFFSET) + delta)
        if field(group, GROUP_ORDINAL) is not None:
            set_field(group, GROUP_ORDINAL, g)
        groups.append(group)
    joined = [Field(f) for f in footers[0]]
    set_field(joined, FILE_ROW_GROUPS, (STRUCT, groups))
    set_field(joined, FILE_NUM_ROWS, sum(field(f, FILE_NUM_ROWS) for f in footers))
    return joined


def _move_chunk(chunk: list, delta: int) -> None:
    """Move each byte offset of a column chunk by ``delta`` (a file_offset of 0, which pyarrow writes
    for the deprecated field, stays 0: no chunk starts where the file's magic is)."""
    for field_id, what in CHUNK_UNMOVABLE.items():
        if field(chunk, field_id) is not None:
            raise ValueError(f"a parquet column chunk with {what} cannot be moved")
    if field(chunk, CHUNK_FILE_OFFSET):
        set_field(chunk, CHUNK_FILE_OFFSET, field(chunk, CHUNK_FILE_OFFSET) + delta)
    meta = field(chunk, CHUNK_META)
    if field(meta, META_BLOOM_FILTER) is not None:
        raise ValueError("a parquet column chunk with a bloom filter cannot be moved")
    for field_id in META_OFFSETS:
        if field(meta, field_id) is not None:
            set_field(meta, field_id, field(meta, field_id) + delta)
