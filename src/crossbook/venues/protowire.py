"""The Protocol Buffers wire format, just enough to read and write a venue's messages by field
number without generated code or a protobuf dependency (MEXC pushes market data as protobuf).

Reading walks one message's fields: (field number, value) with an int for VARINT, I64 and I32
fields (raw, unsigned) and the bytes of a LEN field (string, bytes or an embedded message, which
the caller walks in turn). Writing builds the same encodings. Groups (wire types 3 and 4, long
deprecated) are refused. Spec: https://protobuf.dev/programming-guides/encoding/
"""

from __future__ import annotations

from collections.abc import Iterator

VARINT = 0
I64 = 1
LEN = 2
I32 = 5

Value = int | bytes

_MASK64 = (1 << 64) - 1


class DecodeError(ValueError):
    """The bytes are not a well-formed protobuf message."""


# ---- reading -------------------------------------------------------------------------------


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``buf[pos]`` and the position after it."""
    try:
        byte = buf[pos]
        if byte < 0x80:
            return byte, pos + 1
        value = byte & 0x7F
        shift = 7
        while True:
            pos += 1
            byte = buf[pos]
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value, pos + 1
            shift += 7
            if shift > 63:
                raise DecodeError("varint longer than 10 bytes")
    except IndexError:
        raise DecodeError("message ends inside a varint") from None


def read_field(buf: bytes, pos: int) -> tuple[int, Value, int]:
    """The field at ``buf[pos]``: (field number, value, position after it)."""
    tag = buf[pos]
    if tag < 0x80:  # fields 1-15 have one-byte tags: inline the common case
        pos += 1
    else:
        tag, pos = read_varint(buf, pos)
    number = tag >> 3
    if number == 0:
        raise DecodeError("field number 0")
    wire = tag & 7
    if wire == LEN:
        size, pos = read_varint(buf, pos)
    elif wire == VARINT:
        value, pos = read_varint(buf, pos)
        return number, value, pos
    elif wire == I64:
        size = 8
    elif wire == I32:
        size = 4
    else:
        raise DecodeError(f"unsupported wire type {wire} for field {number}")
    end = pos + size
    if end > len(buf):
        raise DecodeError(f"field {number} of {size} bytes runs past the end of its message")
    if wire == LEN:
        return number, buf[pos:end], end
    return number, int.from_bytes(buf[pos:end], "little"), end


def fields(buf: bytes) -> Iterator[tuple[int, Value]]:
    """Each field of the message ``buf`` as (field number, value), in wire order."""
    pos = 0
    while pos < len(buf):
        number, value, pos = read_field(buf, pos)
        yield number, value


def signed64(value: int) -> int:
    """An int64 field's value: negative numbers travel as 64-bit two's complement varints."""
    return value - (1 << 64) if value >= 1 << 63 else value


def as_bytes(value: Value) -> bytes:
    """A bytes or embedded-message field's value."""
    if not isinstance(value, bytes):
        raise DecodeError("a length-delimited field arrived with a numeric wire type")
    return value


def as_str(value: Value) -> str:
    """A string field's value."""
    try:
        return as_bytes(value).decode()
    except UnicodeDecodeError as exc:
        raise DecodeError(f"a string field is not UTF-8: {exc}") from None


def as_int(value: Value) -> int:
    """An integer field's value."""
    if isinstance(value, bytes):
        raise DecodeError("an integer field arrived as a length-delimited field")
    return value


# ---- writing -------------------------------------------------------------------------------


def varint(value: int) -> bytes:
    value &= _MASK64  # negative int64/int32 values take ten bytes, as protobuf writes them
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def varint_field(field: int, value: int) -> bytes:
    return key(field, VARINT) + varint(value)


def len_field(field: int, payload: bytes) -> bytes:
    """A string, bytes or embedded-message field."""
    return key(field, LEN) + varint(len(payload)) + payload


def string_field(field: int, value: str) -> bytes:
    return len_field(field, value.encode())
