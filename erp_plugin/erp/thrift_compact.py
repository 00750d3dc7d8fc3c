"""Thrift's compact protocol, decoded generically: what a parquet file's footer is written in.

A struct becomes a list of ``Field``s (``[id, type, value]``) in the order written;
a list ``(element type, items)``; a map ``(key and value types, pairs)``. Every
field is kept, known to the caller or not, so ``encode(decode(b)) == b`` and a
caller can change the few fields it means to and leave the rest as written.
"""

from __future__ import annotations

import struct

# Thrift compact protocol type codes
TRUE, FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(1, 13)


class Field(list):
    """``[id, type, value]`` of one struct field; a struct is a list of them, in the order written."""


def field(fields: list, field_id: int, default=None):
    """The value of field ``field_id`` of a decoded struct, or ``default`` when it was not written."""
    return next((f[2] for f in fields if f[0] == field_id), default)


def set_field(fields: list, field_id: int, value) -> None:
    """Change a field the struct has (KeyError if it has not: adding one would need its type)."""
    for f in fields:
        if f[0] == field_id:
            f[2] = value
            return
    raise KeyError(field_id)


class _Decoder:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def byte(self) -> int:
        self.at += 1
        return self.data[self.at - 1]

    def varint(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def struct(self) -> list:
        fields, last = [], 0
        while True:
            header = self.byte()
            if header == 0:
                return fields
            kind, delta = header & 0x0F, header >> 4
            last = last + delta if delta else self.zigzag()
            value = kind == TRUE if kind in (TRUE, FALSE) else self.value(kind)
            fields.append(Field([last, kind, value]))

    def value(self, kind: int):
        if kind in (TRUE, FALSE):  # a list element: one byte of its own
            return self.byte()
        if kind == BYTE:
            return struct.unpack("b", bytes([self.byte()]))[0]
        if kind in (I16, I32, I64):
            return self.zigzag()
        if kind == DOUBLE:
            self.at += 8
            return self.data[self.at - 8:self.at]
        if kind == BINARY:
            size = self.varint()
            self.at += size
            return self.data[self.at - size:self.at]
        if kind in (LIST, SET):
            header = self.byte()
            size = header >> 4 if header >> 4 != 15 else self.varint()
            element = header & 0x0F
            return (element, [self.value(element) for _ in range(size)])
        if kind == MAP:
            size = self.varint()
            types = self.byte() if size else 0
            return (types, [(self.value(types >> 4), self.value(types & 0x0F)) for _ in range(size)])
        if kind == STRUCT:
            return self.struct()
        raise ValueError(f"Thrift compact type {kind} at byte {self.at}")


class _Encoder:
    def __init__(self):
        self.out = bytearray()

    def varint(self, n: int) -> None:
        while n >= 0x80:
            self.out.append(n & 0x7F | 0x80)
            n >>= 7
        self.out.append(n)

    def zigzag(self, n: int) -> None:
        self.varint((n << 1) ^ (n >> 63))

    def struct(self, fields: list) -> None:
        last = 0
        for field_id, kind, value in fields:
            if kind in (TRUE, FALSE):
                kind = TRUE if value else FALSE
            delta = field_id - last
            if 0 < delta <= 15:
                self.out.append(delta << 4 | kind)
            else:
                self.out.append(kind)
                self.zigzag(field_id)
            if kind not in (TRUE, FALSE):
                self.value(kind, value)
            last = field_id
        self.out.append(0)

    def value(self, kind: int, value) -> None:
        if kind in (TRUE, FALSE, BYTE):
            self.out += struct.pack("B" if kind != BYTE else "b", value)
        elif kind in (I16, I32, I64):
            self.zigzag(value)
        elif kind == DOUBLE:
            self.out += value
        elif kind == BINARY:
            self.varint(len(value))
            self.out += value
        elif kind in (LIST, SET):
            element, items = value
            if len(items) < 15:
                self.out.append(len(items) << 4 | element)
            else:
                self.out.append(0xF0 | element)
                self.varint(len(items))
            for item in items:
                self.value(element, item)
        elif kind == MAP:
            types, pairs = value
            self.varint(len(pairs))
            if pairs:
                self.out.append(types)
            for key, item in pairs:
                self.value(types >> 4, key)
                self.value(types & 0x0F, item)
        elif kind == STRUCT:
            self.struct(value)
        else:
            raise ValueError(f"Thrift compact type {kind}")


def decode(data: bytes) -> list:
    """A Thrift compact struct as a list of Fields (nested structs alike)."""
    return _Decoder(data).struct()


def encode(fields: list) -> bytes:
    encoder = _Encoder()
    encoder.struct(fields)
    return bytes(encoder.out)
